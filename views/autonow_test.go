package views_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/serializers"
	"github.com/cosworth/cosworth/views"
)

// Stamped embeds models.Base, whose UpdatedAt is tagged auto_now.
type Stamped struct {
	bun.BaseModel `bun:"table:stamped,alias:stamped"`
	models.Base
	Text string `bun:"text,notnull" json:"text" validate:"required"`
}

// An update writes the auto_now timestamp the model's hook sets, on the
// pgx path and on bun, even when the serializer leaves the field out.
func TestUpdateWritesAutoNow(t *testing.T) {
	old := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, db := range map[string]*bun.DB{
		"postgres": dbtest.Postgres(t, (*Stamped)(nil)),
		"sqlite":   dbtest.SQLite(t, (*Stamped)(nil)),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := db.NewInsert().Model(&Stamped{Text: "a"}).Exec(t.Context())
			dbtest.Must(t, err, "insert")
			r := chi.NewRouter()
			r.Handle("/stamped/{id}/", &views.UpdateView[Stamped]{DB: db, Serializer: &serializers.Serializer[Stamped]{Exclude: []string{"updated_at"}}})
			for _, c := range []struct{ method, body string }{
				{http.MethodPatch, `{"text":"b"}`},
				{http.MethodPut, `{"text":"c"}`},
			} {
				_, err := db.NewUpdate().Model((*Stamped)(nil)).Set("updated_at = ?", old).Where("id = 1").Exec(t.Context())
				dbtest.Must(t, err, "reset updated_at")
				if w := do(r, c.method, "/stamped/1/", c.body); w.Code != http.StatusOK {
					t.Fatalf("%s: %d %s", c.method, w.Code, w.Body)
				}
				var m Stamped
				dbtest.Must(t, db.NewSelect().Model(&m).Where("id = 1").Scan(t.Context()), "select")
				if !m.UpdatedAt.After(old) || m.UpdatedAt.Before(m.CreatedAt) {
					t.Errorf("%s: updated_at %v not written (created_at %v)", c.method, m.UpdatedAt, m.CreatedAt)
				}
			}
		})
	}
}
