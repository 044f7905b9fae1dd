package permissions_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/views"
)

// Memo is a model for the model-permission tests.
type Memo struct {
	bun.BaseModel `bun:"table:memos"`
	ID            int64  `bun:"id,pk,autoincrement" json:"id"`
	Text          string `bun:"text,notnull" json:"text" validate:"required"`
}

// permQueries counts the queries that load permissions.
type permQueries struct{ n atomic.Int64 }

func (h *permQueries) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }
func (h *permQueries) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	if strings.Contains(e.Query, "auth_permissions") {
		h.n.Add(1)
	}
}

// TestModelPermissions runs DjangoModelPermissions' matrix over real views
// and asserts that a request loads permissions with at most one query,
// however many rows a list returns and however many checks run.
func TestModelPermissions(t *testing.T) {
	tables := append(append([]any{(*models.User)(nil)}, models.AuthModels()...), (*Memo)(nil))
	for name, open := range dbtest.Dialects(t, tables...) {
		t.Run(name, func(t *testing.T) {
			base := open(t)
			ctx := context.Background()
			dbtest.Must(t, models.CreatePermissions(ctx, base, (*Memo)(nil)), "permissions")
			_, err := models.EnsureGroup(ctx, base, "editors", "change_memo", "delete_memo", "view_memo")
			dbtest.Must(t, err, "group")
			users := map[string]*models.User{}
			for _, n := range []string{"editor", "plain", "staff", "root", "adder"} {
				u, err := models.CreateUser(ctx, base, n, "pw-pw-pw-pw", n == "staff")
				dbtest.Must(t, err, "user")
				users[n] = u
			}
			dbtest.Must(t, models.SetUserGroups(ctx, base, users["editor"].ID, []string{"editors"}), "groups")
			dbtest.Must(t, models.GrantUser(ctx, base, users["adder"].ID, "add_memo"), "grant")
			_, err = base.NewUpdate().Model(users["root"]).Set("is_superuser = ?", true).WherePK().Exec(ctx)
			dbtest.Must(t, err, "root")
			memos := make([]Memo, 30)
			for i := range memos {
				memos[i].Text = fmt.Sprint("memo ", i)
			}
			_, err = base.NewInsert().Model(&memos).Exec(ctx)
			dbtest.Must(t, err, "memos")

			hook := &permQueries{}
			db := base.WithQueryHook(hook)
			// A fresh principal per request, as every authenticator makes.
			auth := authentication.AuthenticatorFunc(func(r *http.Request) (*authentication.Principal, error) {
				u := users[r.Header.Get("X-User")]
				if u == nil {
					return nil, nil
				}
				return &authentication.Principal{ID: u.ID, Username: u.Username, IsStaff: u.IsStaff}, nil
			})
			perm := permissions.ModelPermissions(db, (*Memo)(nil))
			viewing := []permissions.Permission{perm.WithView(), permissions.HasPerm(db, "view_memo"), perm}
			r := chi.NewRouter()
			r.Use(authentication.Middleware(challenger{auth}))
			r.Handle("/memos/", &views.ListCreateView[Memo]{DB: db, Permissions: []permissions.Permission{perm}})
			r.Handle("/memos/{id}/", &views.RetrieveUpdateDestroyView[Memo]{DB: db, Permissions: []permissions.Permission{perm}})
			r.Handle("/anon/", &views.ListCreateView[Memo]{DB: db, Permissions: []permissions.Permission{perm.AnonReadOnly()}})
			r.Handle("/viewed/", &views.ListView[Memo]{DB: db, Permissions: viewing})

			send := func(method, path, user, body string) int {
				req := httptest.NewRequest(method, path, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				if user != "" {
					req.Header.Set("X-User", user)
				}
				w := httptest.NewRecorder()
				r.ServeHTTP(w, req)
				return w.Code
			}
			for _, c := range []struct {
				method, path, user, body string
				want                     int
				queries                  int64
			}{
				{"GET", "/memos/", "", "", 401, 0},      // authenticated users only, as DRF
				{"GET", "/memos/", "plain", "", 200, 0}, // GET needs no permission
				{"GET", "/anon/", "", "", 200, 0},       // AnonReadOnly
				{"POST", "/anon/", "", `{"text":"x"}`, 401, 0},
				{"POST", "/memos/", "", `{"text":"x"}`, 401, 0},
				{"POST", "/memos/", "plain", `{"text":"x"}`, 403, 1},
				{"POST", "/memos/", "editor", `{"text":"x"}`, 403, 1},
				{"POST", "/memos/", "adder", `{"text":"x"}`, 201, 1},
				{"POST", "/memos/", "staff", `{"text":"x"}`, 403, 1}, // is_staff grants nothing
				{"POST", "/memos/", "root", `{"text":"x"}`, 201, 1},
				{"PATCH", "/memos/1/", "plain", `{"text":"y"}`, 403, 1},
				{"PATCH", "/memos/1/", "adder", `{"text":"y"}`, 403, 1},
				{"PATCH", "/memos/1/", "editor", `{"text":"y"}`, 200, 1},
				{"PUT", "/memos/1/", "editor", `{"text":"z"}`, 200, 1},
				{"DELETE", "/memos/2/", "adder", "", 403, 1},
				{"DELETE", "/memos/2/", "editor", "", 204, 1},
				{"DELETE", "/memos/3/", "root", "", 204, 1},
				{"GET", "/viewed/", "", "", 401, 0},
				{"GET", "/viewed/", "plain", "", 403, 1},
				// Three checks and a list of 30 rows: still one query.
				{"GET", "/viewed/", "editor", "", 200, 1},
				{"GET", "/viewed/", "root", "", 200, 1},
			} {
				before := hook.n.Load()
				if got := send(c.method, c.path, c.user, c.body); got != c.want {
					t.Errorf("%s %s as %q: %d, want %d", c.method, c.path, c.user, got, c.want)
				}
				if got := hook.n.Load() - before; got != c.queries {
					t.Errorf("%s %s as %q: %d permission queries, want %d", c.method, c.path, c.user, got, c.queries)
				}
			}
		})
	}
}

// A database that cannot answer makes a permission check a 503, never a
// 403 or a grant.
func TestModelPermissionsUnavailable(t *testing.T) {
	db := dbtest.SQLite(t, (*models.User)(nil)) // no permission tables: every load fails
	perm := permissions.ModelPermissions(db, (*Memo)(nil))
	req := request(http.MethodDelete, owner)
	err := permissions.Check(req, []permissions.Permission{perm})
	var un *authentication.UnavailableError
	if !errors.As(err, &un) {
		t.Fatalf("Check = %v, want *authentication.UnavailableError", err)
	}
}
