package authentication_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/internal/faultproxy"
	"github.com/cosworth/cosworth/models"
)

func TestTokenAuthentication(t *testing.T) {
	ctx := context.Background()
	db, users := usersDB(t)
	tok := &authentication.Token{DB: db}
	mux := http.NewServeMux()
	mux.Handle("/token-auth/", tok.ObtainHandler())
	mux.Handle("/me/", whoami)
	url := serve(t, authentication.Middleware(tok)(mux))

	// Obtain: a key, stored hashed.
	key := do(t, "POST", url+"/token-auth/", "", map[string]any{"username": "alice", "password": "alice-pass-123"}).expect(t, 200, "").json(t)["token"].(string)
	if len(key) != 40 {
		t.Fatalf("key %q", key)
	}
	var dump string
	dbtest.Must(t, db.NewRaw("SELECT string_agg(t::text, '|') FROM auth_tokens AS t").Scan(ctx, &dump), "dump")
	if dump == "" || strings.Contains(dump, key) || !strings.Contains(dump, models.TokenDigest(key)) {
		t.Fatalf("auth_tokens rows %q: want the digest and not the key", dump)
	}

	want := fmt.Sprintf(`{"id": %d, "username": "alice", "is_staff": false, "backend": "token"}`, users["alice"].ID)
	do(t, "GET", url+"/me/", "Token "+key, nil).expect(t, 200, want)
	do(t, "GET", url+"/me/", "TOKEN  "+key+" ", nil).expect(t, 200, want)
	for _, c := range []struct{ auth, body string }{
		{"Token", `{"detail": "Invalid token header. No credentials provided."}`},
		{"Token " + key + " x", `{"detail": "Invalid token header. Token string should not contain spaces."}`},
		{"Token " + strings.ToUpper(key), `{"detail": "Invalid token."}`},
		{"Token " + models.TokenDigest(key), `{"detail": "Invalid token."}`},
		{"Token 0123456789abcdef0123456789abcdef01234567", `{"detail": "Invalid token."}`},
		{"Token ' OR 1=1 --", `{"detail": "Invalid token header. Token string should not contain spaces."}`},
		{"Token '--", `{"detail": "Invalid token."}`},
	} {
		rp := do(t, "GET", url+"/me/", c.auth, nil).expect(t, 401, c.body)
		if rp.header.Get("WWW-Authenticate") != "Token" {
			t.Errorf("%q: WWW-Authenticate %q", c.auth, rp.header.Get("WWW-Authenticate"))
		}
	}
	do(t, "GET", url+"/me/", "Bearer "+key, nil).expect(t, 200, `{"anonymous": true}`)

	// An inactive user's token is refused.
	_, ghostKey, err := models.NewToken(ctx, db, users["ghost"].ID)
	dbtest.Must(t, err, "token for ghost")
	do(t, "GET", url+"/me/", "Token "+ghostKey, nil).expect(t, 401, `{"detail": "User inactive or deleted."}`)

	// Obtain errors are DRF's ObtainAuthToken's.
	do(t, "POST", url+"/token-auth/", "", map[string]any{"username": "alice", "password": "nope"}).expect(t, 400, `{"non_field_errors": ["Unable to log in with provided credentials."]}`)
	do(t, "POST", url+"/token-auth/", "", map[string]any{"username": "ghost", "password": "ghost-pass-123"}).expect(t, 400, `{"non_field_errors": ["Unable to log in with provided credentials."]}`)
	do(t, "POST", url+"/token-auth/", "", map[string]any{"username": "nobody", "password": "x"}).expect(t, 400, `{"non_field_errors": ["Unable to log in with provided credentials."]}`)
	do(t, "POST", url+"/token-auth/", "", map[string]any{"password": "x"}).expect(t, 400, `{"username": ["This field is required."]}`)
	// DRF does not trim the password of ObtainAuthToken.
	do(t, "POST", url+"/token-auth/", "", map[string]any{"username": "alice", "password": " alice-pass-123"}).expect(t, 400, "")
	// Forms are read as DRF's FormParser and MultiPartParser read them.
	form := "application/x-www-form-urlencoded"
	do(t, "POST", url+"/token-auth/", "", "username=alice&password=alice-pass-123", "Content-Type", form).expect(t, 200, "")
	do(t, "POST", url+"/token-auth/", "", "username=alice", "Content-Type", form).expect(t, 400, `{"password": ["This field is required."]}`)
	do(t, "POST", url+"/token-auth/", "", "username=alice&password=", "Content-Type", form).expect(t, 400, `{"password": ["This field may not be blank."]}`)
	do(t, "POST", url+"/token-auth/", "", "username=alice&password=nope", "Content-Type", form+"; charset=utf-8").
		expect(t, 400, `{"non_field_errors": ["Unable to log in with provided credentials."]}`)
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	mw.WriteField("username", "alice")
	mw.WriteField("password", "alice-pass-123")
	mw.Close()
	do(t, "POST", url+"/token-auth/", "", mp.String(), "Content-Type", mw.FormDataContentType()).expect(t, 200, "")
	do(t, "POST", url+"/token-auth/", "", "username=alice", "Content-Type", "text/plain").
		expect(t, 415, `{"detail": "Unsupported media type \"text/plain\" in request."}`)
	// As DRF, the request's own bad credentials are answered first.
	do(t, "POST", url+"/token-auth/", "Token 0123456789abcdef0123456789abcdef01234567", map[string]any{"username": "alice", "password": "alice-pass-123"}).expect(t, 401, `{"detail": "Invalid token."}`)

	// Deleting the token revokes it.
	dbtest.Must(t, models.DeleteToken(ctx, db, key), "delete")
	do(t, "GET", url+"/me/", "Token "+key, nil).expect(t, 401, `{"detail": "Invalid token."}`)
}

// TestTokenDatabaseDown checks a token lookup on a database that cannot
// answer is a 503, never anonymous.
func TestTokenDatabaseDown(t *testing.T) {
	db, _ := usersDB(t)
	_ = db.Close()
	url := serve(t, authentication.Middleware(&authentication.Token{DB: db})(whoami))
	do(t, "GET", url, "Token 0123456789abcdef0123456789abcdef01234567", nil).expect(t, 503, `{"detail": "Service temporarily unavailable, try again later."}`)
	do(t, "GET", url, "", nil).expect(t, 200, `{"anonymous": true}`)
}

// TestMiddlewareChallenge checks DRF's rules: the first authenticator that
// recognises the credentials decides, and a 401 carries the first
// configured authenticator's challenge whichever failed.
func TestMiddlewareChallenge(t *testing.T) {
	db, users := usersDB(t)
	j := &authentication.JWT{Key: testSecret, DB: db}
	tok := &authentication.Token{DB: db}
	_, key, err := models.NewToken(context.Background(), db, users["admin"].ID)
	dbtest.Must(t, err, "token")
	_, access, err := j.IssuePair(users["alice"].ID, nil)
	dbtest.Must(t, err, "pair")

	jwtFirst := serve(t, authentication.Middleware(j, tok)(whoami))
	tokenFirst := serve(t, authentication.Middleware(tok, j)(whoami))
	for _, url := range []string{jwtFirst, tokenFirst} {
		do(t, "GET", url, "Bearer "+access, nil).expect(t, 200, fmt.Sprintf(`{"id": %d, "username": "alice", "is_staff": false, "backend": "jwt"}`, users["alice"].ID))
		do(t, "GET", url, "Token "+key, nil).expect(t, 200, fmt.Sprintf(`{"id": %d, "username": "admin", "is_staff": true, "backend": "token"}`, users["admin"].ID))
		do(t, "GET", url, "", nil).expect(t, 200, `{"anonymous": true}`)
	}
	if h := do(t, "GET", jwtFirst, "Token bad", nil).expect(t, 401, `{"detail": "Invalid token."}`).header.Get("WWW-Authenticate"); h != `Bearer realm="api"` {
		t.Errorf("JWT first, bad Token: WWW-Authenticate %q", h)
	}
	if h := do(t, "GET", tokenFirst, "Bearer bad", nil).expect(t, 401, "").header.Get("WWW-Authenticate"); h != "Token" {
		t.Errorf("Token first, bad Bearer: WWW-Authenticate %q", h)
	}
	// An authenticator without a challenge first: DRF answers 403.
	plain := authentication.AuthenticatorFunc(func(*http.Request) (*authentication.Principal, error) { return nil, nil })
	do(t, "GET", serve(t, authentication.Middleware(plain, tok)(whoami)), "Token bad", nil).expect(t, 403, `{"detail": "Invalid token."}`)
}

// TestTokenDatabasePartitioned puts a loopback proxy in front of
// PostgreSQL and drops every byte: the lookup is refused with 503 within
// the Token's Timeout, not after the server's request timeout.
func TestTokenDatabasePartitioned(t *testing.T) {
	ctx := context.Background()
	dsn, _ := dbtest.PostgresSchemaURL(t)
	direct, err := models.Open(ctx, dsn)
	dbtest.Must(t, err, "open")
	defer direct.Close()
	dbtest.Must(t, models.CreateTables(ctx, direct, (*models.User)(nil), (*models.Token)(nil)), "tables")
	u, err := models.CreateUser(ctx, direct, "alice", "alice-pass-123", false)
	dbtest.Must(t, err, "user")
	_, key, err := models.NewToken(ctx, direct, u.ID)
	dbtest.Must(t, err, "token")

	pu, err := neturl.Parse(dsn)
	dbtest.Must(t, err, "parse")
	p := faultproxy.Start(t, pu.Host)
	db, err := models.Open(ctx, p.Rewrite(dsn))
	dbtest.Must(t, err, "open through proxy")
	defer db.Close()
	url := serve(t, authentication.Middleware(&authentication.Token{DB: db, Timeout: 300 * time.Millisecond})(whoami))
	do(t, "GET", url, "Token "+key, nil).expect(t, 200, "")

	p.Blackhole()
	defer p.Restore()
	start := time.Now()
	do(t, "GET", url, "Token "+key, nil).expect(t, 503, `{"detail": "Service temporarily unavailable, try again later."}`)
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("refused after %v; Timeout 300 ms (asserting < 3 s)", el)
	}
}

func TestTokenInvalidCharacters(t *testing.T) {
	for _, a := range []authentication.Authenticator{&authentication.Token{DB: dbtest.SQLite(t)}, &authentication.Redis{Client: redisClientNoDial()}} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Token \xff\xfe")
		_, err := a.Authenticate(r)
		var f *authentication.FailedError
		if !errors.As(err, &f) || f.Detail != "Invalid token header. Token string should not contain invalid characters." {
			t.Errorf("%T: %v", a, err)
		}
	}
}

// TestUserLookupDialects runs the user lookups of Token and JWT{DB} on both
// of their paths: the pgx queries on PostgreSQL, models.UserByToken and
// models.UserByID on SQLite.
func TestUserLookupDialects(t *testing.T) {
	for name, open := range dbtest.Dialects(t, (*models.User)(nil), (*models.Token)(nil)) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t)
			alice, err := models.CreateUser(ctx, db, "alice", "alice-pass-123", true)
			dbtest.Must(t, err, "alice")
			ghost, err := models.CreateUser(ctx, db, "ghost", "ghost-pass-123", false)
			dbtest.Must(t, err, "ghost")
			ghost.IsActive = false
			_, err = db.NewUpdate().Model(ghost).Column("is_active").WherePK().Exec(ctx)
			dbtest.Must(t, err, "deactivate ghost")
			_, key, err := models.NewToken(ctx, db, alice.ID)
			dbtest.Must(t, err, "token")
			_, ghostKey, err := models.NewToken(ctx, db, ghost.ID)
			dbtest.Must(t, err, "ghost token")
			tok := &authentication.Token{DB: db}
			for _, c := range []struct {
				key  string
				want *authentication.Principal
				fail string
			}{
				{key, &authentication.Principal{ID: alice.ID, Username: "alice", IsStaff: true, Backend: "token"}, ""},
				{ghostKey, nil, "User inactive or deleted."},
				{"0123456789abcdef0123456789abcdef01234567", nil, "Invalid token."},
				{"short", nil, "Invalid token."},
			} {
				r := httptest.NewRequest(http.MethodGet, "/", nil)
				r.Header.Set("Authorization", "Token "+c.key)
				p, err := tok.Authenticate(r)
				var f *authentication.FailedError
				switch {
				case c.fail != "":
					if !errors.As(err, &f) || f.Detail != c.fail || p != nil {
						t.Errorf("%s: %v, %v; want Failed %q", c.key, p, err, c.fail)
					}
				case err != nil || !reflect.DeepEqual(p, c.want):
					t.Errorf("%s: %+v, %v; want %+v", c.key, p, err, c.want)
				}
			}

			j := &authentication.JWT{Key: testSecret, DB: db}
			for _, c := range []struct {
				id   int64
				want string // the username, or the Failed detail
			}{
				{alice.ID, "alice"},
				{ghost.ID, "User is inactive"},
				{alice.ID + ghost.ID + 1000, "User not found"},
			} {
				_, access, err := j.IssuePair(c.id, nil)
				dbtest.Must(t, err, "pair")
				r := httptest.NewRequest(http.MethodGet, "/", nil)
				r.Header.Set("Authorization", "Bearer "+access)
				p, err := j.Authenticate(r)
				var f *authentication.FailedError
				switch {
				case errors.As(err, &f):
					if f.Detail != c.want {
						t.Errorf("JWT for user %d: Failed %q, want %q", c.id, f.Detail, c.want)
					}
				case err != nil || p.Username != c.want || p.ID != c.id || !p.IsStaff || p.Backend != "jwt":
					t.Errorf("JWT for user %d: %+v, %v; want %s", c.id, p, err, c.want)
				}
			}
		})
	}
}

// raceEnabled is set by race_test.go when the race detector is on.
var raceEnabled bool

// TestTokenAuthenticateAllocs guards the cost of a token lookup on
// PostgreSQL: one pgx query scanned into Go values, 38 allocations (113
// through bun and database/sql). The bound leaves room for the driver's
// buffers.
func TestTokenAuthenticateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	db, users := usersDB(t)
	_, key, err := models.NewToken(context.Background(), db, users["alice"].ID)
	dbtest.Must(t, err, "token")
	tok := &authentication.Token{DB: db}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Token "+key)
	got := testing.AllocsPerRun(50, func() {
		if p, err := tok.Authenticate(r); err != nil || p.Username != "alice" {
			t.Fatalf("Authenticate = %v, %v", p, err)
		}
	})
	if got > 42 {
		t.Fatalf("Authenticate allocates %.0f times, want at most 42", got)
	}
}

// TestJWTDBAuthenticateAllocs guards the cost of an HS256 access token
// with the user loaded from PostgreSQL: 79 allocations (131 with the user
// loaded through bun and database/sql).
func TestJWTDBAuthenticateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	db, users := usersDB(t)
	j := &authentication.JWT{Key: testSecret, DB: db}
	_, access, err := j.IssuePair(users["alice"].ID, nil)
	dbtest.Must(t, err, "pair")
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+access)
	got := testing.AllocsPerRun(50, func() {
		if p, err := j.Authenticate(r); err != nil || p.Username != "alice" {
			t.Fatalf("Authenticate = %v, %v", p, err)
		}
	})
	if got > 84 {
		t.Fatalf("Authenticate allocates %.0f times, want at most 84", got)
	}
}
