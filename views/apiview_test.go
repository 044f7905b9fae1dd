package views_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/throttling"
	"github.com/cosworth/cosworth/views"
)

// isAuthenticated is DRF's IsAuthenticated.
type isAuthenticated struct{}

func (isAuthenticated) HasPermission(r *http.Request) bool {
	return authentication.PrincipalFrom(r.Context()) != nil
}
func (isAuthenticated) HasObjectPermission(*http.Request, any) bool { return true }

func TestAPIView(t *testing.T) {
	throttled := false
	me := &views.APIView{
		Name:        "Me",
		Permissions: []permissions.Permission{isAuthenticated{}},
		Throttles: []throttling.Throttle{throttleFunc(func(*http.Request) (time.Duration, error) {
			if throttled {
				return 5 * time.Second, nil
			}
			return 0, nil
		})},
		Get: func(w http.ResponseWriter, r *http.Request) error {
			p := authentication.PrincipalFrom(r.Context())
			return views.WriteJSON(w, http.StatusOK, map[string]any{"username": p.Username, "is_staff": p.IsStaff})
		},
		Post: func(w http.ResponseWriter, r *http.Request) error {
			var in struct {
				Name string `json:"name"`
			}
			if err := views.ReadJSON(r, &in); err != nil {
				return err
			}
			switch in.Name {
			case "":
				ve := &models.ValidationError{}
				ve.Add("name", "This field is required.")
				return ve
			case "missing":
				return fmt.Errorf("lookup %q: %w", in.Name, models.ErrNotFound)
			case "crash":
				return errors.New("internal: connection string postgres://secret@db")
			}
			return views.WriteJSON(w, http.StatusCreated, in)
		},
	}
	r := chi.NewRouter()
	r.Use(authentication.Middleware(testAuth{}))
	r.Handle("/me/", me)
	steps := []step{
		{name: "anonymous", method: "GET", path: "/me/", status: 401, want: `{"detail":"Authentication credentials were not provided."}`,
			wantHeader: map[string]string{"WWW-Authenticate": "Test", "Allow": "GET, POST, HEAD, OPTIONS"}},
		{name: "bad token", method: "GET", path: "/me/", hdr: as("bad"), status: 401, want: `{"detail":"Invalid token."}`},
		{name: "get", method: "GET", path: "/me/", hdr: as("alice"), status: 200, want: `{"username":"alice","is_staff":false}`},
		{name: "head", method: "HEAD", path: "/me/", hdr: as("alice"), status: 200, noBody: true},
		{name: "put", method: "PUT", path: "/me/", hdr: as("alice"), body: `{}`, status: 405, want: `{"detail":"Method \"PUT\" not allowed."}`,
			wantHeader: map[string]string{"Allow": "GET, POST, HEAD, OPTIONS"}},
		{name: "options", method: "OPTIONS", path: "/me/", hdr: as("alice"), status: 200,
			want: `{"name":"Me","description":"","renders":["application/json"],"parses":["application/json","application/x-www-form-urlencoded","multipart/form-data"]}`},
		{name: "post", method: "POST", path: "/me/", hdr: as("alice"), body: `{"name":"Alice","extra":[1,2]}`, status: 201, want: `{"name":"Alice"}`},
		{name: "post empty", method: "POST", path: "/me/", hdr: as("alice"), status: 400, want: `{"name":["This field is required."]}`},
		{name: "post wrong type", method: "POST", path: "/me/", hdr: as("alice"), body: `{"name":5}`, status: 400, want: `{"name":["Not a valid string."]}`},
		{name: "post a list", method: "POST", path: "/me/", hdr: as("alice"), body: `[1]`, status: 400,
			want: `{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}`},
		{name: "post not JSON", method: "POST", path: "/me/", hdr: append(as("alice"), "Content-Type", "text/plain; charset=utf-8"), body: `x`,
			status: 415, want: `{"detail":"Unsupported media type \"text/plain; charset=utf-8\" in request."}`},
		{name: "post too large", method: "POST", path: "/me/", hdr: as("alice"), body: `{"name":"` + strings.Repeat("a", 1<<20) + `"}`,
			status: 413, want: `{"detail":"Request body is too large."}`},
		{name: "not found", method: "POST", path: "/me/", hdr: as("alice"), body: `{"name":"missing"}`, status: 404, want: `{"detail":"Not found."}`},
		{name: "server error", method: "POST", path: "/me/", hdr: as("alice"), body: `{"name":"crash"}`, status: 500,
			want: `{"detail":"A server error occurred."}`},
	}
	for _, s := range steps {
		s.run(t, r)
	}
	w := do(r, "POST", "/me/", `{"name":`, as("alice")...)
	if w.Code != 400 || !strings.HasPrefix(w.Body.String(), `{"detail":"JSON parse error - `) {
		t.Fatalf("malformed JSON: %d %s", w.Code, w.Body)
	}
	throttled = true
	step{name: "throttled", method: "GET", path: "/me/", hdr: as("alice"), status: 429,
		want:       `{"detail":"Request was throttled. Expected available in 5 seconds."}`,
		wantHeader: map[string]string{"Retry-After": "5"}}.run(t, r)
}
