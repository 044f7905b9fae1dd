package apitest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/apitest"
	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
)

// dialects runs f on a fresh SQLite file and on a PostgreSQL schema, both
// made by apitest.DB (PostgreSQL through COSWORTH_TEST_DATABASE_URL).
func dialects(t *testing.T, f func(t *testing.T, db *bun.DB)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Setenv(apitest.DatabaseEnv, "")
		f(t, apitest.DB(t, notesModels...))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Setenv(apitest.DatabaseEnv, dbtest.PostgresURL())
		db := apitest.DB(t, notesModels...)
		if db.Dialect().Name().String() != "pg" {
			t.Fatalf("dialect %s, want pg", db.Dialect().Name())
		}
		f(t, db)
	})
}

// TestClientCRUD walks a view's create, read, update and delete with a
// forced principal, and checks every assertion helper against the real
// answers of the views.
func TestClientCRUD(t *testing.T) {
	dialects(t, func(t *testing.T, db *bun.DB) {
		c := apitest.New(notesAPI(db))
		c.Post("/api/notes/", map[string]any{"text": "x"}).
			AssertStatus(t, http.StatusUnauthorized).
			AssertDetail(t, "Authentication credentials were not provided.").
			AssertHeader(t, "WWW-Authenticate", `Bearer realm="api"`)

		c.ForceAuthenticate(&authentication.Principal{ID: 7, Username: "alice"})
		res := c.Post("/api/notes/", map[string]any{"text": "buy milk", "owner": "mallory"}).
			AssertStatus(t, http.StatusCreated).
			AssertJSON(t, `{"id": 1.0, "owner": "alice", "text": "buy milk"}`)
		var n Note
		if err := res.JSON(&n); err != nil || n.ID != 1 {
			t.Fatalf("JSON: %+v, %v", n, err)
		}
		c.Post("/api/notes/", Note{Text: strings.Repeat("x", 281)}).
			AssertStatus(t, http.StatusBadRequest).
			AssertFieldError(t, "text", "Ensure this field has no more than 280 characters.")
		c.Post("/api/notes/", `{"text": `).AssertStatus(t, http.StatusBadRequest)

		c.Get("/api/notes/1/").AssertStatus(t, http.StatusOK).
			AssertJSON(t, map[string]any{"id": 1, "text": "buy milk", "owner": "alice"})
		c.Patch("/api/notes/1/", map[string]any{"text": "buy oat milk"}).AssertStatus(t, http.StatusOK).
			AssertJSON(t, Note{ID: 1, Text: "buy oat milk", Owner: "alice"})
		c.Put("/api/notes/1/", map[string]any{}).AssertStatus(t, http.StatusBadRequest).
			AssertJSON(t, `{"text": ["This field is required."]}`)
		res = c.Options("/api/notes/1/").AssertStatus(t, http.StatusOK)
		if allow := res.Header.Get("Allow"); !strings.Contains(allow, "DELETE") {
			t.Errorf("OPTIONS Allow %q", allow)
		}
		c.Head("/api/notes/1/").AssertStatus(t, http.StatusOK)
		res = c.Delete("/api/notes/1/").AssertStatus(t, http.StatusNoContent)
		if len(res.Body) != 0 {
			t.Errorf("DELETE body %q", res.Body)
		}
		c.Get("/api/notes/1/").AssertStatus(t, http.StatusNotFound).AssertDetail(t, "Not found.")

		c.Logout()
		c.Delete("/api/notes/1/").AssertStatus(t, http.StatusUnauthorized)
	})
}

// TestClientJWT authenticates with a real JWT obtained from the service,
// as DRF's client.credentials does, and checks that a forced principal
// wins over credentials, as force_authenticate does.
func TestClientJWT(t *testing.T) {
	dialects(t, func(t *testing.T, db *bun.DB) {
		u, err := models.CreateUser(context.Background(), db, "bob", "bob-pass-123", false)
		if err != nil {
			t.Fatal(err)
		}
		c := apitest.New(notesAPI(db))
		c.Post("/api/token/", map[string]any{"username": "bob", "password": "wrong"}).
			AssertStatus(t, http.StatusUnauthorized).
			AssertDetail(t, "No active account found with the given credentials")
		c.Post("/api/token/", map[string]any{}).AssertStatus(t, http.StatusBadRequest).
			AssertFieldError(t, "username", "This field is required.").
			AssertFieldError(t, "password", "This field is required.")
		var pair struct{ Access, Refresh string }
		if err := c.Post("/api/token/", map[string]any{"username": "bob", "password": "bob-pass-123"}).
			AssertStatus(t, http.StatusOK).JSON(&pair); err != nil {
			t.Fatal(err)
		}
		me := fmt.Sprintf(`{"id": %d, "username": "bob"}`, u.ID)
		c.Credentials("Bearer " + pair.Access)
		c.Get("/api/me/").AssertStatus(t, http.StatusOK).AssertJSON(t, me)
		// A per-request header overrides the client's credentials.
		c.Get("/api/me/", apitest.Header("Authorization", "Bearer "+pair.Refresh)).AssertStatus(t, http.StatusUnauthorized)

		c.Credentials("Bearer not.a.jwt")
		c.Get("/api/me/").AssertStatus(t, http.StatusUnauthorized)
		c.ForceAuthenticate(&authentication.Principal{ID: 99, Username: "forced"})
		c.Get("/api/me/").AssertStatus(t, http.StatusOK).AssertJSON(t, `{"id": 99, "username": "forced"}`)
		c.ForceAuthenticate(nil)
		c.Get("/api/me/").AssertStatus(t, http.StatusUnauthorized)
		c.Credentials("Bearer " + pair.Access)
		c.Get("/api/me/").AssertStatus(t, http.StatusOK)
		c.Logout()
		c.Get("/api/me/").AssertStatus(t, http.StatusUnauthorized).
			AssertDetail(t, "Authentication credentials were not provided.")

		// A clone keeps the original's identity and then goes its own way.
		c.Credentials("Bearer " + pair.Access)
		other := c.Clone()
		other.Logout()
		c.Get("/api/me/").AssertStatus(t, http.StatusOK)
		other.Get("/api/me/").AssertStatus(t, http.StatusUnauthorized)
	})
}

// echo answers with what it received: method, content type, body, and
// the headers the tests set.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"method": %q, "content_type": %q, "length": %d, "body": %q, "lang": %q, "authorization": %q, "query": %q}`,
		r.Method, r.Header.Get("Content-Type"), r.ContentLength, b, r.Header.Get("Accept-Language"), r.Header.Get("Authorization"), r.URL.RawQuery)
})

// TestClientBodies checks how each kind of body is sent, and the headers
// of the client and of one request, in process and over the network.
func TestClientBodies(t *testing.T) {
	srv := httptest.NewServer(echo)
	defer srv.Close()
	for name, c := range map[string]*apitest.Client{
		"in process": apitest.New(echo),
		"live":       apitest.NewLive(srv.URL+"/", nil),
	} {
		t.Run(name, func(t *testing.T) {
			c.Header.Set("Accept-Language", "fr")
			c.Credentials("Token abc")
			type obj = map[string]any
			for _, tc := range []struct {
				name string
				res  *apitest.Response
				want obj
			}{
				{"JSON value", c.Post("/x?a=1", obj{"a": 1}), obj{"method": "POST", "content_type": "application/json", "length": 7, "body": `{"a":1}`, "query": "a=1"}},
				{"raw JSON", c.Put("/x", `{"a": `), obj{"method": "PUT", "content_type": "application/json", "length": 6, "body": `{"a": `, "query": ""}},
				{"bytes", c.Patch("/x", []byte(`[]`)), obj{"method": "PATCH", "content_type": "application/json", "length": 2, "body": `[]`, "query": ""}},
				{"form", c.Post("/x", url.Values{"username": {"ada"}, "password": {"a&b"}}), obj{"method": "POST", "content_type": "application/x-www-form-urlencoded", "length": 27, "body": "password=a%26b&username=ada", "query": ""}},
				{"stream", c.Post("/x", io.MultiReader(strings.NewReader("{}"))), obj{"method": "POST", "content_type": "application/json", "length": -1, "body": "{}", "query": ""}},
				{"content type option", c.Post("/x", "a=b", apitest.Header("Content-Type", "text/plain")), obj{"method": "POST", "content_type": "text/plain", "length": 3, "body": "a=b", "query": ""}},
				{"no body", c.Get("/x"), obj{"method": "GET", "content_type": "", "length": 0, "body": "", "query": ""}},
			} {
				tc.want["lang"], tc.want["authorization"] = "fr", "Token abc"
				tc.res.AssertStatus(t, http.StatusOK).AssertJSON(t, tc.want)
			}
		})
	}
	for name, res := range map[string]*apitest.Response{
		"a body that is not JSON": apitest.New(echo).Post("/x", func() {}),
		"a path with a space":     apitest.New(echo).Get("/x?q=a b"),
		"a zero Client":           new(apitest.Client).Get("/x"),
	} {
		if res.Err == nil || res.Status != 0 {
			t.Errorf("%s: status %d, error %v", name, res.Status, res.Err)
		}
	}
}

// TestLiveForceAuthenticate checks that a live client refuses to pretend
// it can force a principal on another process.
func TestLiveForceAuthenticate(t *testing.T) {
	srv := httptest.NewServer(echo)
	defer srv.Close()
	c := apitest.NewLive(srv.URL, srv.Client())
	c.ForceAuthenticate(&authentication.Principal{ID: 1})
	res := c.Get("/x")
	if res.Err == nil || !strings.Contains(res.Err.Error(), "ForceAuthenticate") {
		t.Fatalf("live ForceAuthenticate: %d, %v", res.Status, res.Err)
	}
	if err := res.JSON(new(any)); err == nil {
		t.Error("JSON of a failed request returns no error")
	}
}

// TestForceAuthenticatePerRequest: every request gets its own copy of the
// forced principal, as an authenticator would give it one: its
// permissions are loaded per request, so a grant between two requests
// shows in the second, and concurrent clients may share the principal.
func TestForceAuthenticatePerRequest(t *testing.T) {
	t.Setenv(apitest.DatabaseEnv, dbtest.PostgresURL())
	db := apitest.DB(t, append(notesModels, models.AuthModels()...)...)
	ctx := context.Background()
	dbtest.Must(t, models.CreatePermissions(ctx, db, (*Note)(nil)), "permissions")
	u, err := models.CreateUser(ctx, db, "ada", "ada-pass-123", false)
	dbtest.Must(t, err, "user")
	mux := http.NewServeMux()
	mux.Handle("/can/", authentication.Middleware()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := authentication.PrincipalFrom(r.Context())
		fmt.Fprint(w, p.HasPerm(r.Context(), db, "change_note"))
	})))
	p := &authentication.Principal{ID: u.ID, Username: "ada"}
	c := apitest.New(mux).ForceAuthenticate(p)
	if got := c.Get("/can/").AssertStatus(t, http.StatusOK).Body; string(got) != "false" {
		t.Fatalf("before the grant: %s", got)
	}
	dbtest.Must(t, models.GrantUser(ctx, db, u.ID, "change_note"), "grant")
	if got := c.Get("/can/").AssertStatus(t, http.StatusOK).Body; string(got) != "true" {
		t.Fatalf("after the grant: %s, want true (permissions loaded again)", got)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Clone().Get("/can/")
	}()
	c.Get("/can/")
	<-done
}
