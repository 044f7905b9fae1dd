package authentication_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/internal/httperror"
	"github.com/cosworth/cosworth/internal/jsonbody"
	"github.com/cosworth/cosworth/models"
)

// testSecret is a 32-byte HS256 key.
var testSecret = []byte("0123456789abcdef0123456789abcdef")

// usersDB returns a fresh PostgreSQL schema with the auth tables and the
// users alice (regular), admin (staff) and ghost (inactive).
func usersDB(t *testing.T) (*bun.DB, map[string]*models.User) {
	t.Helper()
	db := dbtest.Postgres(t, (*models.User)(nil), (*models.Token)(nil), (*authentication.BlacklistedToken)(nil))
	ctx := context.Background()
	users := map[string]*models.User{}
	for _, u := range []struct {
		name  string
		staff bool
	}{{"alice", false}, {"admin", true}, {"ghost", false}} {
		m, err := models.CreateUser(ctx, db, u.name, u.name+"-pass-123", u.staff)
		dbtest.Must(t, err, "create %s", u.name)
		users[u.name] = m
	}
	_, err := db.NewUpdate().Model(users["ghost"]).Set("is_active = ?", false).WherePK().Exec(ctx)
	dbtest.Must(t, err, "deactivate ghost")
	return db, users
}

// whoami answers the authentication outcome: 200 {"id","username","is_staff","backend"}
// for a principal, 200 {"anonymous": true} without one, and the error's
// response otherwise.
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	p, err := authentication.PrincipalFrom(r.Context()), authentication.ErrorFrom(r.Context())
	if err != nil {
		httperror.Write(w, r, err)
		return
	}
	if p == nil {
		jsonbody.Write(w, 200, []byte(`{"anonymous":true}`))
		return
	}
	b, _ := json.Marshal(map[string]any{"id": p.ID, "username": p.Username, "is_staff": p.IsStaff, "backend": p.Backend})
	jsonbody.Write(w, 200, b)
})

// serve starts a real loopback HTTP server for h.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// do sends a request; body is JSON-encoded unless it is a string (sent as
// is with Content-Type application/json) or nil.
func do(t *testing.T, method, url, auth string, body any, header ...string) reply {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// expect checks the status and, when want is not empty, that the body is
// JSON equal to want.
func (r reply) expect(t *testing.T, status int, want string) reply {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if want != "" {
		var got, exp any
		if err := json.Unmarshal(r.body, &got); err != nil {
			t.Fatalf("body %q: %v", r.body, err)
		}
		if err := json.Unmarshal([]byte(want), &exp); err != nil {
			t.Fatalf("want %q: %v", want, err)
		}
		g, _ := json.Marshal(got)
		e, _ := json.Marshal(exp)
		if !bytes.Equal(g, e) {
			t.Fatalf("body %s, want %s", r.body, want)
		}
	}
	return r
}
