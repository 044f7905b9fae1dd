package permissions_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/httperror"
	"github.com/cosworth/cosworth/internal/jsonbody"
	"github.com/cosworth/cosworth/permissions"
)

type book struct {
	ID      int64
	OwnerID int64
}

var (
	anonymous  = (*authentication.Principal)(nil)
	owner      = &authentication.Principal{ID: 1, Username: "alice"}
	other      = &authentication.Principal{ID: 2, Username: "bob"}
	staff      = &authentication.Principal{ID: 3, Username: "admin", IsStaff: true}
	alicesBook = &book{ID: 10, OwnerID: 1}
)

// request builds a request as authentication.Middleware leaves it, with
// the JWT challenge configured.
func request(method string, p *authentication.Principal) *http.Request {
	r := httptest.NewRequest(method, "/books/10/", nil)
	auth := authentication.AuthenticatorFunc(func(*http.Request) (*authentication.Principal, error) { return p, nil })
	var out *http.Request
	authentication.Middleware(challenger{auth})(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { out = r })).ServeHTTP(httptest.NewRecorder(), r)
	return out
}

type challenger struct{ authentication.Authenticator }

func (challenger) Challenge() string { return `Bearer realm="api"` }

// The bookstore's rule for books: anyone reads; only the owner or staff
// writes.
var bookPerms = []permissions.Permission{
	permissions.IsAuthenticatedOrReadOnly,
	permissions.IsOwnerOrStaffOrReadOnly(func(b *book) int64 { return b.OwnerID }),
}

func TestPermissionMatrix(t *testing.T) {
	type outcome int
	const (
		ok outcome = iota
		unauthorized
		forbidden
	)
	who := map[string]*authentication.Principal{"anonymous": anonymous, "owner": owner, "other": other, "staff": staff}
	want := map[string]map[string]outcome{
		"anonymous": {"GET": ok, "HEAD": ok, "OPTIONS": ok, "PUT": unauthorized, "PATCH": unauthorized, "DELETE": unauthorized, "POST": unauthorized},
		"owner":     {"GET": ok, "HEAD": ok, "OPTIONS": ok, "PUT": ok, "PATCH": ok, "DELETE": ok, "POST": ok},
		"other":     {"GET": ok, "HEAD": ok, "OPTIONS": ok, "PUT": forbidden, "PATCH": forbidden, "DELETE": forbidden, "POST": forbidden},
		"staff":     {"GET": ok, "HEAD": ok, "OPTIONS": ok, "PUT": ok, "PATCH": ok, "DELETE": ok, "POST": ok},
	}
	for name, p := range who {
		for method, exp := range want[name] {
			r := request(method, p)
			err := permissions.Check(r, bookPerms)
			if err == nil {
				err = permissions.CheckObject(r, bookPerms, alicesBook)
			}
			var d *permissions.DeniedError
			var got outcome
			switch {
			case err == nil:
				got = ok
			case errors.As(err, &d) && d.StatusCode() == 401:
				got = unauthorized
				if d.Message != permissions.MsgNotAuthenticated || !d.NotAuthenticated {
					t.Errorf("%s %s: %+v", name, method, d)
				}
				h := http.Header{}
				d.SetHeaders(h)
				if h.Get("WWW-Authenticate") != `Bearer realm="api"` {
					t.Errorf("%s %s: WWW-Authenticate %q", name, method, h.Get("WWW-Authenticate"))
				}
			case errors.As(err, &d) && d.StatusCode() == 403:
				got = forbidden
				if d.Message != permissions.MsgDenied {
					t.Errorf("%s %s: %+v", name, method, d)
				}
			default:
				t.Fatalf("%s %s: %v", name, method, err)
			}
			if got != exp {
				t.Errorf("%s %s: outcome %d, want %d (%v)", name, method, got, exp, err)
			}
		}
	}
}

// TestPermissionHTTP runs the matrix's key cells through a real handler on
// a real server, the way a detail view checks: request level, then object.
func TestPermissionHTTP(t *testing.T) {
	users := map[string]*authentication.Principal{"alice": owner, "bob": other, "admin": staff}
	auth := challenger{authentication.AuthenticatorFunc(func(r *http.Request) (*authentication.Principal, error) {
		name, ok := strings.CutPrefix(r.Header.Get("Authorization"), "User ")
		if !ok {
			return nil, nil
		}
		if p := users[name]; p != nil {
			return p, nil
		}
		return nil, &authentication.FailedError{Detail: "Invalid user."}
	})}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := authentication.ErrorFrom(r.Context()); err != nil {
			httperror.Write(w, r, err)
			return
		}
		if err := permissions.Check(r, bookPerms); err != nil {
			httperror.Write(w, r, err)
			return
		}
		if err := permissions.CheckObject(r, bookPerms, alicesBook); err != nil {
			httperror.Write(w, r, err)
			return
		}
		jsonbody.Write(w, 200, []byte(`{"ok":true}`))
	})
	srv := httptest.NewServer(authentication.Middleware(auth)(h))
	defer srv.Close()
	for _, c := range []struct {
		method, user string
		status       int
		body         string
		challenge    string
	}{
		{"GET", "", 200, `{"ok":true}`, ""},
		{"DELETE", "", 401, `{"detail":"Authentication credentials were not provided."}`, `Bearer realm="api"`},
		{"DELETE", "bob", 403, `{"detail":"You do not have permission to perform this action."}`, ""},
		{"PATCH", "alice", 200, `{"ok":true}`, ""},
		{"PUT", "admin", 200, `{"ok":true}`, ""},
		{"DELETE", "mallory", 401, `{"detail":"Invalid user."}`, `Bearer realm="api"`},
	} {
		req, _ := http.NewRequest(c.method, srv.URL, nil)
		if c.user != "" {
			req.Header.Set("Authorization", "User "+c.user)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || string(b) != c.body || resp.Header.Get("WWW-Authenticate") != c.challenge {
			t.Errorf("%s as %q: %d %s (WWW-Authenticate %q), want %d %s (%q)", c.method, c.user, resp.StatusCode, b, resp.Header.Get("WWW-Authenticate"), c.status, c.body, c.challenge)
		}
	}
}

// TestDenyWithoutAuthenticators checks DRF's rule: with no authenticators
// configured, an anonymous request denied by a permission gets 403 and the
// permission's message; with an authenticator lacking a challenge, 403
// "Authentication credentials were not provided.".
func TestDenyWithoutAuthenticators(t *testing.T) {
	r := httptest.NewRequest("POST", "/", nil)
	err := permissions.Check(r, []permissions.Permission{messaged{permissions.IsAuthenticated}})
	var d *permissions.DeniedError
	if !errors.As(err, &d) || d.StatusCode() != 403 || d.Message != "Members only." {
		t.Fatalf("no authenticators: %+v", err)
	}
	var out *http.Request
	authentication.Middleware(authentication.AuthenticatorFunc(func(*http.Request) (*authentication.Principal, error) { return nil, nil }))(
		http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { out = r })).ServeHTTP(httptest.NewRecorder(), r)
	err = permissions.Check(out, []permissions.Permission{messaged{permissions.IsAuthenticated}})
	if !errors.As(err, &d) || d.StatusCode() != 403 || d.Message != permissions.MsgNotAuthenticated {
		t.Fatalf("authenticator without challenge: %+v", err)
	}
	// An authenticated request gets the permission's own message.
	err = permissions.Check(request("POST", other), []permissions.Permission{messaged{permissions.IsAdminUser}})
	if !errors.As(err, &d) || d.StatusCode() != 403 || d.Message != "Members only." {
		t.Fatalf("authenticated: %+v", err)
	}
}

type messaged struct{ permissions.Permission }

func (messaged) Message() string { return "Members only." }

// probe is a permission with fixed answers that counts its calls.
type probe struct {
	req, obj   bool
	reqN, objN *int
}

func (p probe) HasPermission(*http.Request) bool {
	*p.reqN++
	return p.req
}
func (p probe) HasObjectPermission(*http.Request, any) bool {
	*p.objN++
	return p.obj
}

func newProbe(req, obj bool) probe { return probe{req: req, obj: obj, reqN: new(int), objN: new(int)} }

func TestCompose(t *testing.T) {
	r := request("PUT", other)
	for _, c := range []struct {
		name     string
		p        permissions.Permission
		req, obj bool
	}{
		{"and tt", permissions.And(newProbe(true, true), newProbe(true, true)), true, true},
		{"and tf", permissions.And(newProbe(true, true), newProbe(false, false)), false, false},
		{"and obj", permissions.And(newProbe(true, true), newProbe(true, false)), true, false},
		{"or", permissions.Or(newProbe(false, false), newProbe(true, true)), true, true},
		{"or none", permissions.Or(newProbe(false, true), newProbe(false, true)), false, false},
		// DRF 3.14: a permission that refused the request cannot grant the object.
		{"or obj needs own request check", permissions.Or(newProbe(false, true), newProbe(true, false)), true, false},
		{"or obj", permissions.Or(newProbe(true, false), newProbe(true, true)), true, true},
		{"not", permissions.Not(newProbe(true, false)), false, true},
		{"not not", permissions.Not(permissions.Not(newProbe(true, false))), true, false},
		{"empty and", permissions.And(), true, true},
		{"empty or", permissions.Or(), false, false},
		{"staff or owner", permissions.Or(permissions.IsAdminUser, permissions.IsOwnerOrReadOnly(func(b *book) int64 { return b.OwnerID })), true, false},
		// DRF's NOT inverts the object check too: IsAuthenticated grants every object, so ~IsAuthenticated grants none.
		{"not authenticated", permissions.Not(permissions.IsAuthenticated), false, false},
	} {
		if got := c.p.HasPermission(r); got != c.req {
			t.Errorf("%s: HasPermission %v, want %v", c.name, got, c.req)
		}
		if got := c.p.HasObjectPermission(r, alicesBook); got != c.obj {
			t.Errorf("%s: HasObjectPermission %v, want %v", c.name, got, c.obj)
		}
	}
	// Short-circuit as Python's and/or.
	a, b := newProbe(false, false), newProbe(true, true)
	permissions.And(a, b).HasPermission(r)
	if *b.reqN != 0 {
		t.Error("And evaluated past the first refusal")
	}
	c, d := newProbe(true, true), newProbe(true, true)
	permissions.Or(c, d).HasPermission(r)
	if *d.reqN != 0 {
		t.Error("Or evaluated past the first grant")
	}
}

func TestOwnerOrReadOnly(t *testing.T) {
	byName := permissions.OwnerOrReadOnly[book]{OwnerName: func(*book) string { return "alice" }}
	byID := permissions.IsOwnerOrReadOnly(func(b *book) int64 { return b.OwnerID })
	for _, c := range []struct {
		name string
		p    permissions.Permission
		r    *http.Request
		obj  any
		want bool
	}{
		{"owner by id", byID, request("DELETE", owner), alicesBook, true},
		{"other by id", byID, request("DELETE", other), alicesBook, false},
		{"staff not allowed without Staff", byID, request("DELETE", staff), alicesBook, false},
		{"anonymous read", byID, request("GET", anonymous), alicesBook, true},
		{"anonymous write", byID, request("PUT", anonymous), alicesBook, false},
		{"owner by name", byName, request("PATCH", owner), alicesBook, true},
		{"other by name", byName, request("PATCH", other), alicesBook, false},
		{"wrong object type fails closed", byID, request("DELETE", owner), book{OwnerID: 1}, false},
		{"nil object fails closed", byID, request("DELETE", owner), (*book)(nil), false},
		{"zero id principal", byID, request("DELETE", &authentication.Principal{Username: "x"}), &book{}, false},
	} {
		if got := c.p.HasObjectPermission(c.r, c.obj); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func BenchmarkCheckObject(b *testing.B) {
	r := request("PUT", owner)
	b.ReportAllocs()
	for b.Loop() {
		if permissions.Check(r, bookPerms) != nil || permissions.CheckObject(r, bookPerms, alicesBook) != nil {
			b.Fatal("denied")
		}
	}
}

func TestCheckAllocs(t *testing.T) {
	r := request("PUT", owner)
	if n := testing.AllocsPerRun(100, func() {
		_ = permissions.Check(r, bookPerms)
		_ = permissions.CheckObject(r, bookPerms, alicesBook)
	}); n != 0 {
		t.Fatalf("%v allocations per granted check, want 0", n)
	}
}
