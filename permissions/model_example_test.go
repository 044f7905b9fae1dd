package permissions_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/views"
)

// Article is the model of ExampleModelPermissions.
type Article struct {
	bun.BaseModel `bun:"table:articles"`
	ID            int64  `bun:"id,pk,autoincrement" json:"id"`
	Title         string `bun:"title,notnull" json:"title" validate:"required"`
}

// ModelPermissions is DRF's DjangoModelPermissions: POST needs add_article,
// PUT/PATCH change_article, DELETE delete_article; a user holds its own
// permissions and its groups'.
func ExampleModelPermissions() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "perms")
	defer os.RemoveAll(dir)
	db, err := models.Open(ctx, filepath.Join(dir, "perms.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	tables := append(append([]any{(*models.User)(nil)}, models.AuthModels()...), (*Article)(nil))
	if err := models.CreateTables(ctx, db, tables...); err != nil {
		log.Fatal(err)
	}
	_ = models.CreatePermissions(ctx, db, (*Article)(nil))
	_, _ = models.EnsureGroup(ctx, db, "writers", "add_article")
	ann, _ := models.CreateUser(ctx, db, "ann", "ann-pass-123", false)
	ben, _ := models.CreateUser(ctx, db, "ben", "ben-pass-123", false)
	_ = models.SetUserGroups(ctx, db, ann.ID, []string{"writers"})

	users := map[string]*models.User{"ann": ann, "ben": ben}
	auth := authentication.AuthenticatorFunc(func(r *http.Request) (*authentication.Principal, error) {
		if u := users[r.Header.Get("X-User")]; u != nil {
			return &authentication.Principal{ID: u.ID, Username: u.Username}, nil
		}
		return nil, nil
	})
	h := authentication.Middleware(auth)(&views.ListCreateView[Article]{
		DB:          db,
		Permissions: []permissions.Permission{permissions.ModelPermissions(db, (*Article)(nil))},
	})
	for _, user := range []string{"ann", "ben"} {
		r := httptest.NewRequest("POST", "/articles/", strings.NewReader(`{"title":"Hello"}`))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-User", user)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(user, w.Code, strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// ann 201 {"id":1,"title":"Hello"}
	// ben 403 {"detail":"You do not have permission to perform this action."}
}
