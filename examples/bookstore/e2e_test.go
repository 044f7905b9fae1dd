package main

// The end-to-end test builds the bookstore binary, starts it on a free
// loopback port (once on embedded SQLite, once on PostgreSQL + Redis) and
// walks bookstore-contract.md over real HTTP, asserting status codes, the
// headers that matter and exact JSON bodies. The one row of the contract's
// error table it cannot provoke from outside is the 500: the service has no
// request that makes it fault (the root package's tests cover the recovery
// middleware and the fixed body).

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/openapi/openapitest"
)

func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := buildBookstore(t)
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		db := filepath.Join(t.TempDir(), "bookstore.db")
		svc := startBookstore(t, bin, "-db", db, "-demo")
		walkContract(t, svc)
		svc.stop(t)
	})
	t.Run("postgres+redis", func(t *testing.T) {
		t.Parallel()
		dsn, _ := dbtest.PostgresSchemaURL(t)
		rdb, prefix := dbtest.Redis(t) // the service's keys live under prefix; dbtest deletes them
		svc := startBookstore(t, bin, "-db", dsn, "-redis", dbtest.RedisURL(), "-redis-prefix", prefix, "-demo")
		walkContract(t, svc)
		svc.stop(t)

		// The data went to PostgreSQL (the test's schema) and the DRF
		// tokens and throttle counters to Redis (under the prefix).
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		db, err := models.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var users, books int
		if err := db.NewRaw("SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM books)").Scan(ctx, &users, &books); err != nil {
			t.Fatal(err)
		}
		if users != 6 || books != 5 { // alice, bob, admin, editor, carol, erin; the books left after the deletes
			t.Errorf("PostgreSQL holds %d users and %d books, want 6 and 5", users, books)
		}
		keys, err := rdb.Keys(ctx, prefix+"*").Result()
		if err != nil {
			t.Fatal(err)
		}
		var tokens, throttles int
		for _, k := range keys {
			switch {
			case strings.Contains(k, "authtok:"):
				tokens++
			case strings.Contains(k, "throttle_token-auth_"):
				throttles++
			}
		}
		if tokens != 5 || throttles != 1 { // five successful /api/token-auth/ calls, one client
			t.Errorf("Redis keys under %s: %d tokens and %d throttle keys, want 5 and 1: %v", prefix, tokens, throttles, keys)
		}
	})
}

// buildBookstore builds this package into a temporary directory, the way a
// user would (plain go build, no race detector, no test hooks).
func buildBookstore(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bookstore")
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build the binary with: %v", err)
	}
	cmd := exec.Command(goTool, "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// service is a running bookstore process.
type service struct {
	base   string // http://127.0.0.1:PORT
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan error
	client *http.Client
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func startBookstore(t *testing.T, bin string, args ...string) *service {
	t.Helper()
	addr := freeAddr(t)
	svc := &service{
		base:   "http://" + addr,
		stderr: &lockedBuffer{},
		done:   make(chan error, 1),
		client: &http.Client{Timeout: 10 * time.Second},
	}
	svc.cmd = exec.Command(bin, append([]string{"-addr", addr, "-secret", "e2e-test-secret-of-at-least-32-bytes-" + t.Name()}, args...)...)
	// A clean environment: nothing from the developer's shell (DATABASE_URL,
	// REDIS_URL, BOOKSTORE_*) may change what the flags say.
	svc.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	svc.cmd.Stdout = svc.stderr
	svc.cmd.Stderr = svc.stderr
	if err := svc.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { svc.done <- svc.cmd.Wait() }()
	t.Cleanup(func() {
		if svc.cmd.ProcessState == nil {
			_ = svc.cmd.Process.Kill()
			<-svc.done
		}
		if t.Failed() {
			t.Logf("bookstore output:\n%s", svc.stderr.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := svc.client.Get(svc.base + "/healthz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				svc.checkAgainstSchema(t)
				return svc
			}
		}
		select {
		case err := <-svc.done:
			t.Fatalf("bookstore exited before answering /healthz: %v\n%s", err, svc.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("bookstore did not answer /healthz within 30s (last error %v)\n%s", err, svc.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and expects a clean exit, as from a container runtime.
func (s *service) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("bookstore exited with %v after SIGTERM, want status 0", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("bookstore did not stop within 20s of SIGTERM")
	}
}

// reply is one HTTP response, read completely.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// req sends a request. body is JSON-encoded unless it is a string or []byte
// (sent as is); auth is a full Authorization header value or "".
func (s *service) req(t *testing.T, method, path, auth string, body any, header ...string) reply {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = b // unknown length: sent chunked
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	r, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	resp, err := s.client.Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// expect fails unless the reply has the status and, when want is not "",
// a JSON body equal to want (compared as JSON values).
func (rp reply) expect(t *testing.T, status int, want string) reply {
	t.Helper()
	if rp.status != status {
		t.Fatalf("status %d, want %d; body %s", rp.status, status, rp.body)
	}
	if want != "" {
		jsonEqual(t, rp.body, want)
	}
	if len(rp.body) > 0 {
		if ct := rp.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type %q, want application/json", ct)
		}
	}
	return rp
}

func jsonEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("response is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want %q: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("body\n got %s\nwant %s", got, want)
	}
}

// object decodes a JSON object body and checks its key set is exactly keys.
func (rp reply) object(t *testing.T, keys ...string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(rp.body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, rp.body)
	}
	got := make([]string, 0, len(m))
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	want := slices.Clone(keys)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("keys %v, want %v; body %s", got, want, rp.body)
	}
	return m
}

// id returns m["id"] as an int64 (JSON numbers decode as float64).
func id(t *testing.T, m map[string]any) int64 {
	t.Helper()
	f, ok := m["id"].(float64)
	if !ok || f < 1 || f != float64(int64(f)) {
		t.Fatalf("id %v is not a positive integer", m["id"])
	}
	return int64(f)
}

func isTimestamp(t *testing.T, v any) {
	t.Helper()
	s, ok := v.(string)
	if !ok {
		t.Fatalf("created_at %v is not a string", v)
	}
	if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
		t.Fatalf("created_at %q is not ISO 8601: %v", s, err)
	}
}

// page is a paginated list body.
type page struct {
	Count    *int64           `json:"count"`
	Next     *string          `json:"next"`
	Previous *string          `json:"previous"`
	Results  []map[string]any `json:"results"`
}

func (rp reply) page(t *testing.T, keys ...string) page {
	t.Helper()
	rp.expect(t, http.StatusOK, "")
	rp.object(t, keys...)
	var p page
	if err := json.Unmarshal(rp.body, &p); err != nil {
		t.Fatalf("page: %v: %s", err, rp.body)
	}
	return p
}

// names returns field f of each result.
func (p page) names(f string) []string {
	out := make([]string, len(p.Results))
	for i, r := range p.Results {
		out[i] = fmt.Sprint(r[f])
	}
	return out
}

// link checks a next/previous link: nil when want is nil, else an absolute
// URL on the service with the path and exactly the query parameters of want
// (a value "*" matches any non-empty value). It returns the link's path and
// query, ready to request.
func (s *service) link(t *testing.T, what string, got *string, path string, want url.Values) string {
	t.Helper()
	if want == nil {
		if got != nil {
			t.Fatalf("%s = %q, want null", what, *got)
		}
		return ""
	}
	if got == nil {
		t.Fatalf("%s = null, want a link to %s?%s", what, path, want.Encode())
	}
	u, err := url.Parse(*got)
	if err != nil {
		t.Fatalf("%s %q: %v", what, *got, err)
	}
	if u.Scheme+"://"+u.Host != s.base || u.Path != path {
		t.Fatalf("%s = %q, want %s%s?...", what, *got, s.base, path)
	}
	q := u.Query()
	if len(q) != len(want) {
		t.Fatalf("%s = %q, want query %s", what, *got, want.Encode())
	}
	for k, v := range want {
		if len(q[k]) != 1 || (v[0] == "*" && q[k][0] == "") || (v[0] != "*" && q[k][0] != v[0]) {
			t.Fatalf("%s = %q, want query %s", what, *got, want.Encode())
		}
	}
	return u.RequestURI()
}

func bearer(tok string) string { return "Bearer " + tok }
func token(key string) string  { return "Token " + key }

// jwtClaims decodes (without verifying) the payload of a JWT.
func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("%q is not a JWT", tok)
	}
	header, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		t.Fatalf("JWT header: %v", err)
	}
	var h map[string]any
	if err := json.Unmarshal(header, &h); err != nil || h["alg"] != "HS256" {
		t.Fatalf("JWT header %s, want alg HS256", header)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	return c
}

func checkClaims(t *testing.T, tok, typ string, userID int64, lifetime time.Duration) {
	t.Helper()
	c := jwtClaims(t, tok)
	if c["token_type"] != typ {
		t.Errorf("token_type %v, want %q", c["token_type"], typ)
	}
	// simplejwt puts the user's primary key in user_id (a number, or its
	// string form in recent releases); accept either, never another user.
	if fmt.Sprint(c["user_id"]) != strconv.FormatInt(userID, 10) {
		t.Errorf("user_id %v, want %d", c["user_id"], userID)
	}
	if s, _ := c["jti"].(string); s == "" {
		t.Errorf("jti %v, want a non-empty string", c["jti"])
	}
	exp, _ := c["exp"].(float64)
	iat, _ := c["iat"].(float64)
	if got := time.Duration(exp-iat) * time.Second; got != lifetime {
		t.Errorf("exp - iat = %v, want %v", got, lifetime)
	}
	if now := float64(time.Now().Unix()); iat < now-60 || iat > now+60 {
		t.Errorf("iat %v is not now (%v)", iat, now)
	}
}

const (
	msgNoCredentials = `{"detail": "Authentication credentials were not provided."}`
	msgDenied        = `{"detail": "You do not have permission to perform this action."}`
	msgNotFound      = `{"detail": "Not found."}`
	msgTokenInvalid  = `{"detail": "Token is invalid or expired", "code": "token_not_valid"}`
)

// walkContract sends the requests of bookstore-contract.md in order.
func walkContract(t *testing.T, s *service) {
	// Users and authentication.
	rp := s.req(t, "POST", "/api/register/", "", map[string]any{"username": "carol", "password": "carol-pass-123", "is_staff": true}).expect(t, 201, "")
	carol := rp.object(t, "id", "username", "is_staff")
	carolID := id(t, carol)
	if carol["username"] != "carol" || carol["is_staff"] != false {
		t.Fatalf("register: %s, want username carol and is_staff false (is_staff in the body is ignored)", rp.body)
	}
	s.req(t, "POST", "/api/register/", "", map[string]any{"username": "carol", "password": "other-pass-456"}).
		expect(t, 400, `{"username": ["A user with that username already exists."]}`)
	s.req(t, "POST", "/api/register/", "", map[string]any{}).
		expect(t, 400, `{"username": ["This field is required."], "password": ["This field is required."]}`)
	s.req(t, "POST", "/api/register/", "", map[string]any{"username": nil, "password": ""}).
		expect(t, 400, `{"username": ["This field may not be null."], "password": ["This field may not be blank."]}`)
	s.req(t, "POST", "/api/register/", "", map[string]any{"username": "no spaces please", "password": "x"}).
		expect(t, 400, `{"username": ["Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."]}`)
	s.req(t, "POST", "/api/register/", "", map[string]any{"username": strings.Repeat("u", 151), "password": "x"}).
		expect(t, 400, `{"username": ["Ensure this field has no more than 150 characters."]}`)
	s.req(t, "POST", "/api/register/", "", `{"username": "x", "password": `).expect(t, 400, "")
	s.req(t, "POST", "/api/register/", "", "username=x", "Content-Type", "text/plain").
		expect(t, 415, `{"detail": "Unsupported media type \"text/plain\" in request."}`)
	// Surrounding whitespace is trimmed (DRF's CharField default), and so
	// does simplejwt's password field.
	rp = s.req(t, "POST", "/api/register/", "", map[string]any{"username": "  erin ", "password": " erin-pass-123 "}).expect(t, 201, "")
	if m := rp.object(t, "id", "username", "is_staff"); m["username"] != "erin" {
		t.Errorf("register trims the username: %s", rp.body)
	}
	s.req(t, "POST", "/api/token/", "", map[string]any{"username": "erin", "password": "erin-pass-123"}).expect(t, 200, "")
	s.req(t, "POST", "/api/token/", "", map[string]any{"username": " erin", "password": " erin-pass-123 "}).expect(t, 200, "")

	// JWT obtain, refresh, verify.
	tokens := s.req(t, "POST", "/api/token/", "", map[string]any{"username": "carol", "password": "carol-pass-123"}).
		expect(t, 200, "").object(t, "refresh", "access")
	access, refresh := tokens["access"].(string), tokens["refresh"].(string)
	checkClaims(t, access, "access", carolID, 5*time.Minute)
	checkClaims(t, refresh, "refresh", carolID, 24*time.Hour)
	rp = s.req(t, "POST", "/api/token/", "", map[string]any{"username": "carol", "password": "wrong"}).
		expect(t, 401, `{"detail": "No active account found with the given credentials"}`)
	if rp.header.Get("WWW-Authenticate") == "" {
		t.Error("401 from /api/token/ without WWW-Authenticate")
	}
	s.req(t, "POST", "/api/token/", "", map[string]any{"username": "nobody-here", "password": "x"}).
		expect(t, 401, `{"detail": "No active account found with the given credentials"}`)
	s.req(t, "POST", "/api/token/", "", map[string]any{}).
		expect(t, 400, `{"username": ["This field is required."], "password": ["This field is required."]}`)

	refreshed := s.req(t, "POST", "/api/token/refresh/", "", map[string]any{"refresh": refresh}).expect(t, 200, "").object(t, "access")
	access2 := refreshed["access"].(string)
	checkClaims(t, access2, "access", carolID, 5*time.Minute)
	s.req(t, "POST", "/api/token/refresh/", "", map[string]any{"refresh": "not.a.jwt"}).expect(t, 401, msgTokenInvalid)
	s.req(t, "POST", "/api/token/refresh/", "", map[string]any{"refresh": access}).expect(t, 401, "") // an access token is not a refresh token
	s.req(t, "POST", "/api/token/refresh/", "", map[string]any{}).expect(t, 400, `{"refresh": ["This field is required."]}`)
	s.req(t, "POST", "/api/token/verify/", "", map[string]any{"token": access2}).expect(t, 200, `{}`)
	s.req(t, "POST", "/api/token/verify/", "", map[string]any{"token": refresh}).expect(t, 200, `{}`)
	s.req(t, "POST", "/api/token/verify/", "", map[string]any{"token": access2[:len(access2)-4] + "AAAA"}).expect(t, 401, msgTokenInvalid)

	// DRF token (the first of the 5 requests a minute /api/token-auth/ allows).
	key := s.req(t, "POST", "/api/token-auth/", "", map[string]any{"username": "carol", "password": "carol-pass-123"}).
		expect(t, 200, "").object(t, "token")["token"].(string)
	if len(key) < 20 {
		t.Fatalf("token key %q is too short to be random", key)
	}

	// /api/me/ with both schemes and without.
	me := fmt.Sprintf(`{"id": %d, "username": "carol", "is_staff": false}`, carolID)
	s.req(t, "GET", "/api/me/", bearer(access), nil).expect(t, 200, me)
	s.req(t, "GET", "/api/me/", bearer(access2), nil).expect(t, 200, me)
	s.req(t, "GET", "/api/me/", token(key), nil).expect(t, 200, me)
	rp = s.req(t, "GET", "/api/me/", "", nil).expect(t, 401, msgNoCredentials)
	if rp.header.Get("WWW-Authenticate") == "" {
		t.Error("401 from /api/me/ without WWW-Authenticate")
	}
	rp = s.req(t, "GET", "/api/me/", token("0123456789abcdef0123456789abcdef01234567"), nil).expect(t, 401, `{"detail": "Invalid token."}`)
	if rp.header.Get("WWW-Authenticate") == "" {
		t.Error("401 for a bad Token without WWW-Authenticate")
	}
	rp = s.req(t, "GET", "/api/me/", bearer("not.a.jwt"), nil).expect(t, 401, "")
	if m := rp.object(t, "detail", "code", "messages"); m["code"] != "token_not_valid" {
		t.Errorf("bad bearer token: %s, want code token_not_valid", rp.body)
	}
	s.req(t, "GET", "/api/me/", bearer(refresh), nil).expect(t, 401, "") // a refresh token does not authenticate

	// The demo users exist (-demo): bob is regular, admin is staff.
	bobAccess := s.req(t, "POST", "/api/token/", "", map[string]any{"username": "bob", "password": "bob-pass-123"}).
		expect(t, 200, "").object(t, "refresh", "access")["access"].(string)
	adminAccess := s.req(t, "POST", "/api/token/", "", map[string]any{"username": "admin", "password": "admin-pass-123"}).
		expect(t, 200, "").object(t, "refresh", "access")["access"].(string)
	if m := s.req(t, "GET", "/api/me/", bearer(adminAccess), nil).expect(t, 200, "").object(t, "id", "username", "is_staff"); m["is_staff"] != true {
		t.Fatalf("admin is not staff: %v", m)
	}

	// Authors.
	rp = s.req(t, "POST", "/api/authors/", "", map[string]any{"name": "Anon", "email": "anon@example.com"}).expect(t, 401, msgNoCredentials)
	if rp.header.Get("WWW-Authenticate") == "" {
		t.Error("401 from POST /api/authors/ without WWW-Authenticate")
	}
	authorNames := []string{"Ursula K. Le Guin", "Iain M. Banks", "Ada Palmer"}
	authorIDs := make([]int64, len(authorNames))
	for i, name := range authorNames {
		email := fmt.Sprintf("author%d@example.com", i)
		rp := s.req(t, "POST", "/api/authors/", bearer(access), map[string]any{"name": name, "email": email, "id": 777, "created_at": "2000-01-01T00:00:00Z"}).expect(t, 201, "")
		m := rp.object(t, "id", "name", "email", "created_at", "book_count")
		authorIDs[i] = id(t, m)
		if authorIDs[i] == 777 || m["name"] != name || m["email"] != email {
			t.Fatalf("create author: %s (read-only id must be ignored)", rp.body)
		}
		isTimestamp(t, m["created_at"])
		if strings.HasPrefix(m["created_at"].(string), "2000") {
			t.Fatalf("create author: read-only created_at was taken from the body: %s", rp.body)
		}
		s.req(t, "GET", fmt.Sprintf("/api/authors/%d/", authorIDs[i]), "", nil).expect(t, 200, string(rp.body))
	}
	s.req(t, "POST", "/api/authors/", bearer(access), map[string]any{}).
		expect(t, 400, `{"name": ["This field is required."], "email": ["This field is required."]}`)
	s.req(t, "POST", "/api/authors/", bearer(access), map[string]any{"name": strings.Repeat("n", 101), "email": "not-an-email"}).
		expect(t, 400, `{"name": ["Ensure this field has no more than 100 characters."], "email": ["Enter a valid email address."]}`)
	s.req(t, "POST", "/api/authors/", bearer(access), map[string]any{"name": "Copy", "email": "author0@example.com"}).
		expect(t, 400, `{"email": ["author with this email already exists."]}`)

	// Page-number pagination, search and ordering.
	p := s.req(t, "GET", "/api/authors/?page_size=2", "", nil).page(t, "count", "next", "previous", "results")
	if *p.Count != 3 || !slices.Equal(p.names("name"), authorNames[:2]) {
		t.Fatalf("authors page 1: count %d, names %v", *p.Count, p.names("name"))
	}
	next := s.link(t, "next", p.Next, "/api/authors/", url.Values{"page": {"2"}, "page_size": {"2"}})
	s.link(t, "previous", p.Previous, "", nil)
	p = s.req(t, "GET", next, "", nil).page(t, "count", "next", "previous", "results")
	if *p.Count != 3 || !slices.Equal(p.names("name"), authorNames[2:]) {
		t.Fatalf("authors page 2: count %d, names %v", *p.Count, p.names("name"))
	}
	s.link(t, "next", p.Next, "", nil)
	s.link(t, "previous", p.Previous, "/api/authors/", url.Values{"page_size": {"2"}}) // DRF drops page=1
	s.req(t, "GET", "/api/authors/?page=9", "", nil).expect(t, 404, `{"detail": "Invalid page."}`)
	s.req(t, "GET", "/api/authors/?page=last&page_size=2", "", nil).page(t, "count", "next", "previous", "results")
	p = s.req(t, "GET", "/api/authors/?ordering=-name", "", nil).page(t, "count", "next", "previous", "results")
	if want := []string{"Ursula K. Le Guin", "Iain M. Banks", "Ada Palmer"}; !slices.Equal(p.names("name"), want) {
		t.Errorf("ordering=-name: %v, want %v", p.names("name"), want)
	}
	p = s.req(t, "GET", "/api/authors/?ordering=name", "", nil).page(t, "count", "next", "previous", "results")
	if want := []string{"Ada Palmer", "Iain M. Banks", "Ursula K. Le Guin"}; !slices.Equal(p.names("name"), want) {
		t.Errorf("ordering=name: %v, want %v", p.names("name"), want)
	}
	p = s.req(t, "GET", "/api/authors/?search=BANKS", "", nil).page(t, "count", "next", "previous", "results")
	if *p.Count != 1 || p.names("name")[0] != "Iain M. Banks" {
		t.Errorf("search=BANKS: %v", p.names("name"))
	}
	p = s.req(t, "GET", "/api/authors/?search=author1%40", "", nil).page(t, "count", "next", "previous", "results")
	if *p.Count != 0 {
		t.Errorf("search looks in email, want name only: %v", p.names("name"))
	}

	// Author updates: PUT needs every required field, PATCH none; anyone
	// authenticated may change an author.
	a0 := fmt.Sprintf("/api/authors/%d/", authorIDs[0])
	s.req(t, "PUT", a0, bearer(bobAccess), map[string]any{"name": "Ursula Le Guin"}).expect(t, 400, `{"email": ["This field is required."]}`)
	s.req(t, "PATCH", a0, bearer(bobAccess), map[string]any{"name": "Ursula Le Guin"}).expect(t, 200, "")
	s.req(t, "PATCH", a0, "", map[string]any{"name": "Anonymous"}).expect(t, 401, msgNoCredentials)
	if m := s.req(t, "GET", a0, "", nil).expect(t, 200, "").object(t, "id", "name", "email", "created_at", "book_count"); m["name"] != "Ursula Le Guin" {
		t.Errorf("after PATCH name = %v", m["name"])
	}

	// Books.
	type bookIn map[string]any
	newBook := func(i int, author int64) bookIn {
		return bookIn{"title": fmt.Sprintf("Book %02d", i), "isbn": fmt.Sprintf("97800000000%02d", i), "author": author, "price_cents": 100 * i, "published_on": fmt.Sprintf("2001-01-%02d", i+1)}
	}
	rp = s.req(t, "POST", "/api/books/", bearer(access), bookIn{
		"title": "The Left Hand of Darkness", "isbn": "9780441478125", "author": authorIDs[0],
		"price_cents": 1299, "published_on": "1969-03-01", "owner": "mallory", "id": 555,
	}).expect(t, 201, "")
	book := rp.object(t, "id", "title", "isbn", "author", "price_cents", "published_on", "owner", "created_at")
	bookID := id(t, book)
	isTimestamp(t, book["created_at"])
	jsonEqual(t, rp.body, fmt.Sprintf(`{"id": %d, "title": "The Left Hand of Darkness", "isbn": "9780441478125", "author": %d, "price_cents": 1299, "published_on": "1969-03-01", "owner": "carol", "created_at": %q}`,
		bookID, authorIDs[0], book["created_at"]))
	b0 := fmt.Sprintf("/api/books/%d/", bookID)
	s.req(t, "GET", b0, "", nil).expect(t, 200, string(rp.body))
	// published_on may be null; bob owns this one (created with a DRF token
	// obtained by bob would do as well).
	rp = s.req(t, "POST", "/api/books/", bearer(bobAccess), bookIn{"title": "Unpublished", "isbn": "9780000000999", "author": authorIDs[1], "price_cents": 0, "published_on": nil}).expect(t, 201, "")
	bobBook := rp.object(t, "id", "title", "isbn", "author", "price_cents", "published_on", "owner", "created_at")
	if bobBook["published_on"] != nil || bobBook["owner"] != "bob" || bobBook["price_cents"] != float64(0) {
		t.Fatalf("bob's book: %s", rp.body)
	}
	bobBookPath := fmt.Sprintf("/api/books/%d/", id(t, bobBook))

	// Field errors of books.
	s.req(t, "POST", "/api/books/", bearer(access), bookIn{}).
		expect(t, 400, `{"title": ["This field is required."], "isbn": ["This field is required."], "author": ["This field is required."], "price_cents": ["This field is required."]}`)
	s.req(t, "POST", "/api/books/", bearer(access), bookIn{"title": "X", "isbn": "9780441478125", "author": authorIDs[0], "price_cents": 1}).
		expect(t, 400, `{"isbn": ["book with this isbn already exists."]}`)
	s.req(t, "POST", "/api/books/", bearer(access), bookIn{"title": "X", "isbn": "9780441478126", "author": 999999, "price_cents": 1}).
		expect(t, 400, `{"author": ["Invalid pk \"999999\" - object does not exist."]}`)
	s.req(t, "POST", "/api/books/", bearer(access), bookIn{"title": "X", "isbn": "9780441478126", "author": authorIDs[0], "price_cents": -1}).
		expect(t, 400, `{"price_cents": ["Ensure this value is greater than or equal to 0."]}`)
	s.req(t, "POST", "/api/books/", bearer(access), bookIn{"title": "X", "isbn": "9780441478126", "author": authorIDs[0], "price_cents": "a lot"}).
		expect(t, 400, `{"price_cents": ["A valid integer is required."]}`)
	s.req(t, "POST", "/api/books/", bearer(access), bookIn{"title": "X", "isbn": "9780441478126", "author": authorIDs[0], "price_cents": 1, "published_on": "1 March 1969"}).
		expect(t, 400, `{"published_on": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}`)
	s.req(t, "POST", "/api/books/", bearer(access), bookIn{"title": strings.Repeat("t", 201), "isbn": "9780441478126", "author": authorIDs[0], "price_cents": 1}).
		expect(t, 400, `{"title": ["Ensure this field has no more than 200 characters."]}`)
	for _, bad := range []string{"978044147812", "97804414781260", "978044147812X"} {
		rp := s.req(t, "POST", "/api/books/", bearer(access), bookIn{"title": "X", "isbn": bad, "author": authorIDs[0], "price_cents": 1}).expect(t, 400, "")
		if m := rp.object(t, "isbn"); len(m["isbn"].([]any)) == 0 {
			t.Errorf("isbn %q: %s", bad, rp.body)
		}
	}

	// Ten more books by carol for the paginators (12 in all: ids ascend).
	for i := 1; i <= 10; i++ {
		author := authorIDs[i%2]
		s.req(t, "POST", "/api/books/", token(key), newBook(i, author)).expect(t, 201, "")
	}
	allTitles := []string{"The Left Hand of Darkness", "Unpublished"}
	for i := 1; i <= 10; i++ {
		allTitles = append(allTitles, fmt.Sprintf("Book %02d", i))
	}

	// Limit/offset pagination, filter, search, ordering.
	p = s.req(t, "GET", "/api/books/", "", nil).page(t, "count", "next", "previous", "results")
	if *p.Count != 12 || !slices.Equal(p.names("title"), allTitles[:10]) {
		t.Fatalf("books: count %d, titles %v", *p.Count, p.names("title"))
	}
	s.link(t, "next", p.Next, "/api/books/", url.Values{"limit": {"10"}, "offset": {"10"}})
	p = s.req(t, "GET", "/api/books/?limit=3&offset=3", "", nil).page(t, "count", "next", "previous", "results")
	if !slices.Equal(p.names("title"), allTitles[3:6]) {
		t.Fatalf("limit=3&offset=3: %v", p.names("title"))
	}
	s.link(t, "next", p.Next, "/api/books/", url.Values{"limit": {"3"}, "offset": {"6"}})
	s.link(t, "previous", p.Previous, "/api/books/", url.Values{"limit": {"3"}}) // DRF drops offset=0
	p = s.req(t, "GET", "/api/books/?limit=1000", "", nil).page(t, "count", "next", "previous", "results")
	if len(p.Results) != 12 || p.Next != nil {
		t.Errorf("limit=1000 (capped at 100): %d results", len(p.Results))
	}
	p = s.req(t, "GET", fmt.Sprintf("/api/books/?author=%d", authorIDs[1]), "", nil).page(t, "count", "next", "previous", "results")
	if *p.Count != 6 { // Unpublished + Books 01, 03, 05, 07, 09
		t.Errorf("author=%d: count %d, titles %v", authorIDs[1], *p.Count, p.names("title"))
	}
	for _, r := range p.Results {
		if r["author"] != float64(authorIDs[1]) {
			t.Errorf("author filter returned %v", r)
		}
	}
	s.req(t, "GET", "/api/books/?author=abc", "", nil).
		expect(t, 400, `{"author": ["Select a valid choice. That choice is not one of the available choices."]}`)
	p = s.req(t, "GET", "/api/books/?search=darkness", "", nil).page(t, "count", "next", "previous", "results")
	if !slices.Equal(p.names("title"), []string{"The Left Hand of Darkness"}) {
		t.Errorf("search=darkness: %v", p.names("title"))
	}
	p = s.req(t, "GET", "/api/books/?search=9780000000999", "", nil).page(t, "count", "next", "previous", "results")
	if !slices.Equal(p.names("title"), []string{"Unpublished"}) {
		t.Errorf("search by isbn: %v", p.names("title"))
	}
	p = s.req(t, "GET", "/api/books/?ordering=-price_cents&limit=3", "", nil).page(t, "count", "next", "previous", "results")
	if want := []string{"The Left Hand of Darkness", "Book 10", "Book 09"}; !slices.Equal(p.names("title"), want) {
		t.Errorf("ordering=-price_cents: %v, want %v", p.names("title"), want)
	}
	p = s.req(t, "GET", "/api/books/?ordering=title&limit=2", "", nil).page(t, "count", "next", "previous", "results")
	if want := []string{"Book 01", "Book 02"}; !slices.Equal(p.names("title"), want) {
		t.Errorf("ordering=title: %v, want %v", p.names("title"), want)
	}
	p = s.req(t, "GET", "/api/books/?ordering=bogus,-owner&limit=2", "", nil).page(t, "count", "next", "previous", "results")
	if !slices.Equal(p.names("title"), allTitles[:2]) {
		t.Errorf("unknown ordering fields must be ignored: %v", p.names("title"))
	}

	// Cursor pagination, newest first.
	p = s.req(t, "GET", "/api/books/recent/", "", nil).page(t, "next", "previous", "results")
	want := slices.Clone(allTitles)
	slices.Reverse(want)
	if !slices.Equal(p.names("title"), want[:10]) {
		t.Fatalf("recent page 1: %v, want %v", p.names("title"), want[:10])
	}
	s.link(t, "previous", p.Previous, "", nil)
	next = s.link(t, "next", p.Next, "/api/books/recent/", url.Values{"cursor": {"*"}})
	p = s.req(t, "GET", next, "", nil).page(t, "next", "previous", "results")
	if !slices.Equal(p.names("title"), want[10:]) {
		t.Fatalf("recent page 2: %v, want %v", p.names("title"), want[10:])
	}
	s.link(t, "next", p.Next, "", nil)
	prev := s.link(t, "previous", p.Previous, "/api/books/recent/", url.Values{"cursor": {"*"}})
	p = s.req(t, "GET", prev, "", nil).page(t, "next", "previous", "results")
	if !slices.Equal(p.names("title"), want[:10]) {
		t.Fatalf("recent, back to page 1: %v", p.names("title"))
	}
	s.req(t, "GET", "/api/books/recent/?cursor="+url.QueryEscape(strings.Replace(next[strings.Index(next, "cursor=")+7:], "A", "B", 1)+"x"), "", nil).
		expect(t, 404, `{"detail": "Invalid cursor"}`)

	// Object permissions on books: owner or staff.
	s.req(t, "PATCH", b0, bearer(bobAccess), map[string]any{"price_cents": 1}).expect(t, 403, msgDenied)
	s.req(t, "DELETE", b0, bearer(bobAccess), nil).expect(t, 403, msgDenied)
	s.req(t, "PATCH", b0, "", map[string]any{"price_cents": 1}).expect(t, 401, msgNoCredentials)
	rp = s.req(t, "PATCH", b0, bearer(access), map[string]any{"price_cents": 1500, "owner": "bob"}).expect(t, 200, "")
	if m := rp.object(t, "id", "title", "isbn", "author", "price_cents", "published_on", "owner", "created_at"); m["price_cents"] != float64(1500) || m["owner"] != "carol" {
		t.Errorf("owner's PATCH: %s", rp.body)
	}
	s.req(t, "PATCH", b0, bearer(access), map[string]any{"author": 999999}).
		expect(t, 400, `{"author": ["Invalid pk \"999999\" - object does not exist."]}`)
	s.req(t, "PUT", b0, token(key), map[string]any{"title": "Only a title"}).
		expect(t, 400, `{"isbn": ["This field is required."], "author": ["This field is required."], "price_cents": ["This field is required."]}`)
	s.req(t, "PUT", b0, token(key), bookIn{"title": "The Left Hand of Darkness", "isbn": "9780441478125", "author": authorIDs[0], "price_cents": 1400, "published_on": nil}).
		expect(t, 200, "")
	s.req(t, "PATCH", bobBookPath, bearer(adminAccess), map[string]any{"title": "Unpublished (staff edit)"}).expect(t, 200, "")
	s.req(t, "DELETE", bobBookPath, bearer(access), nil).expect(t, 403, msgDenied)
	rp = s.req(t, "DELETE", bobBookPath, bearer(bobAccess), nil)
	if rp.status != 204 || len(rp.body) != 0 {
		t.Fatalf("owner's DELETE: %d %s, want 204 and no body", rp.status, rp.body)
	}
	s.req(t, "GET", bobBookPath, "", nil).expect(t, 404, msgNotFound)

	// Deleting an author: staff only, and its books go with it.
	s.req(t, "DELETE", a0, bearer(access), nil).expect(t, 403, msgDenied)
	s.req(t, "DELETE", a0, "", nil).expect(t, 401, msgNoCredentials)
	rp = s.req(t, "DELETE", a0, bearer(adminAccess), nil)
	if rp.status != 204 || len(rp.body) != 0 {
		t.Fatalf("staff DELETE author: %d %s, want 204 and no body", rp.status, rp.body)
	}
	s.req(t, "GET", a0, "", nil).expect(t, 404, msgNotFound)
	s.req(t, "GET", b0, "", nil).expect(t, 404, msgNotFound)
	// django-filter's answer for an author that no longer exists.
	s.req(t, "GET", fmt.Sprintf("/api/books/?author=%d", authorIDs[0]), "", nil).
		expect(t, 400, `{"author": ["Select a valid choice. That choice is not one of the available choices."]}`)
	p = s.req(t, "GET", "/api/books/", "", nil).page(t, "count", "next", "previous", "results")
	if *p.Count != 5 { // 12 - the deleted author's 6 - bob's book
		t.Errorf("books after deleting author 0: count %d", *p.Count)
	}
	for _, r := range p.Results {
		if r["author"] == float64(authorIDs[0]) {
			t.Errorf("a book of the deleted author remains: %v", r)
		}
	}

	// The error table.
	s.req(t, "GET", "/api/books/999999/", "", nil).expect(t, 404, msgNotFound)
	s.req(t, "GET", "/api/authors/999999/", "", nil).expect(t, 404, msgNotFound)
	rp = s.req(t, "POST", "/api/authors/", bearer(access), `{"name": "Broken",`).expect(t, 400, "")
	if m := rp.object(t, "detail"); !strings.HasPrefix(m["detail"].(string), "JSON parse error - ") {
		t.Errorf("malformed JSON: %s", rp.body)
	}
	s.req(t, "POST", "/api/authors/", bearer(access), "name=x", "Content-Type", "text/plain").
		expect(t, 415, `{"detail": "Unsupported media type \"text/plain\" in request."}`)
	rp = s.req(t, "PATCH", "/api/books/", bearer(access), map[string]any{}).expect(t, 405, `{"detail": "Method \"PATCH\" not allowed."}`)
	checkAllow(t, rp, "GET", "POST")
	rp = s.req(t, "POST", "/api/me/", bearer(access), map[string]any{}).expect(t, 405, `{"detail": "Method \"POST\" not allowed."}`)
	checkAllow(t, rp, "GET")
	rp = s.req(t, "DELETE", "/api/books/recent/", "", nil).expect(t, 405, `{"detail": "Method \"DELETE\" not allowed."}`)
	checkAllow(t, rp, "GET")
	big := `{"name": "` + strings.Repeat("x", 1<<20) + `", "email": "big@example.com"}`
	rp = s.req(t, "POST", "/api/authors/", bearer(access), big).expect(t, 413, "")
	if m := rp.object(t, "detail"); m["detail"] == "" {
		t.Errorf("413 without detail: %s", rp.body)
	}
	// The same body without a Content-Length (chunked): refused once read past 1 MiB.
	rp = s.req(t, "POST", "/api/authors/", bearer(access), io.MultiReader(strings.NewReader(big))).expect(t, 413, "")
	if m := rp.object(t, "detail"); m["detail"] == "" {
		t.Errorf("413 (chunked) without detail: %s", rp.body)
	}

	// Throttling: /api/token-auth/ allows 5 requests a minute per client;
	// one was spent above.
	for i := 2; i <= 5; i++ {
		s.req(t, "POST", "/api/token-auth/", "", map[string]any{"username": "carol", "password": "carol-pass-123"}).expect(t, 200, "")
	}
	rp = s.req(t, "POST", "/api/token-auth/", "", map[string]any{"username": "carol", "password": "carol-pass-123"}).expect(t, 429, "")
	ra, err := strconv.Atoi(rp.header.Get("Retry-After"))
	if err != nil || ra < 1 || ra > 60 {
		t.Fatalf("Retry-After %q, want 1..60 seconds", rp.header.Get("Retry-After"))
	}
	jsonEqual(t, rp.body, fmt.Sprintf(`{"detail": "Request was throttled. Expected available in %d seconds."}`, ra))
	// Other endpoints are not throttled by it.
	s.req(t, "GET", "/api/me/", token(key), nil).expect(t, 200, me)

	// The OpenAPI document generated from the routes.
	rp = s.req(t, "GET", "/api/schema/", "", nil).expect(t, 200, "")
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(rp.body, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("schema: %v, openapi %q", err, doc.OpenAPI)
	}
	for path, methods := range map[string][]string{
		"/api/books/":        {"get", "post"},
		"/api/books/{id}/":   {"get", "put", "patch", "delete"},
		"/api/books/recent/": {"get"},
		"/api/authors/":      {"get", "post"},
		"/api/authors/{id}/": {"get", "put", "patch", "delete"},
		"/api/token/":        {"post"},
		"/api/token-auth/":   {"post"},
		"/api/register/":     {"post"},
		"/api/me/":           {"get"},
	} {
		for _, m := range methods {
			if doc.Paths[path][m] == nil {
				t.Errorf("schema lacks %s %s", m, path)
			}
		}
	}

	walkIdempotentCreates(t, s, bearer(access))

	// One structured log line per request, with the request id.
	logs := s.stderr.String()
	for _, want := range []string{"/api/books/recent/", "status=429", "request_id="} {
		if !strings.Contains(logs, want) {
			t.Errorf("log on stderr lacks %q:\n%s", want, lastLines(logs, 10))
		}
	}
	if strings.Contains(logs, "carol-pass-123") || strings.Contains(logs, access) {
		t.Error("a password or token reached the log")
	}
}

func checkAllow(t *testing.T, rp reply, methods ...string) {
	t.Helper()
	allow := rp.header.Get("Allow")
	for _, m := range methods {
		if !strings.Contains(allow, m) {
			t.Errorf("Allow %q lacks %s", allow, m)
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// checkAgainstSchema fetches the service's own OpenAPI document
// (/api/schema/), validates it with an independent implementation
// (openapitest: libopenapi), and from then on checks every API response the
// test receives against it. HEAD, OPTIONS and 405 answers, the schema itself
// and paths outside /api/ (health checks) are not described per operation
// and are not checked.
func (s *service) checkAgainstSchema(t *testing.T) {
	t.Helper()
	resp, err := s.client.Get(s.base + "/api/schema/")
	if err != nil {
		t.Fatalf("GET /api/schema/: %v", err)
	}
	doc, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/schema/: %d %v", resp.StatusCode, err)
	}
	v, err := openapitest.New(doc)
	if err != nil {
		t.Fatalf("the bookstore's OpenAPI document: %v", err)
	}
	s.client.Transport = schemaCheck{t: t, v: v}
}

// schemaCheck sends API requests through the validating transport and the
// rest straight through.
type schemaCheck struct {
	t *testing.T
	v *openapitest.Validator
}

func (c schemaCheck) RoundTrip(req *http.Request) (*http.Response, error) {
	p := req.URL.Path
	if !strings.HasPrefix(p, "/api/") || p == "/api/schema/" || req.Method == http.MethodHead || req.Method == http.MethodOptions {
		return http.DefaultTransport.RoundTrip(req)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || resp.StatusCode == http.StatusMethodNotAllowed {
		return resp, err
	}
	vreq := req.Clone(req.Context())
	vreq.Body = http.NoBody
	if req.GetBody != nil {
		if b, err := req.GetBody(); err == nil {
			vreq.Body = b
		}
	}
	if err := c.v.Response(vreq, resp); err != nil {
		c.t.Errorf("openapi: response does not match /api/schema/: %v", err)
	}
	return resp, nil
}
