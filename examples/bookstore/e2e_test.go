package main

// The end-to-end test builds the bookstore binary, starts it on a free
// loopback port (once on embedded SQLite, once on PostgreSQL + Redis) and
// walks bookstore-contract.md over real HTTP with apitest's live client,
// asserting status codes, the headers that matter and exact JSON bodies.
// The one row of the contract's error table it cannot provoke from outside
// is the 500: the service has no request that makes it fault (the root
// package's tests cover the recovery middleware and the fixed body).

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
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cosworth/cosworth/apitest"
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
	client *http.Client    // checks API responses against /api/schema/
	api    *apitest.Client // an anonymous client over client
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

// as returns a client of the service that sends authorization (a full
// Authorization header value) with every request.
func (s *service) as(authorization string) *apitest.Client {
	return s.api.Clone().Credentials(authorization)
}

// object decodes a JSON object body and checks its key set is exactly keys.
func object(t *testing.T, rp *apitest.Response, keys ...string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(rp.Body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, rp.Body)
	}
	got := make([]string, 0, len(m))
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	want := slices.Clone(keys)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("keys %v, want %v; body %s", got, want, rp.Body)
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

func paged(t *testing.T, rp *apitest.Response, keys ...string) page {
	t.Helper()
	rp.AssertStatus(t, http.StatusOK)
	object(t, rp, keys...)
	var p page
	if err := json.Unmarshal(rp.Body, &p); err != nil {
		t.Fatalf("page: %v: %s", err, rp.Body)
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
	anon := s.api
	// Users and authentication.
	rp := anon.Post("/api/register/", map[string]any{"username": "carol", "password": "carol-pass-123", "is_staff": true}).AssertStatus(t, 201)
	carol := object(t, rp, "id", "username", "is_staff")
	carolID := id(t, carol)
	if carol["username"] != "carol" || carol["is_staff"] != false {
		t.Fatalf("register: %s, want username carol and is_staff false (is_staff in the body is ignored)", rp.Body)
	}
	anon.Post("/api/register/", map[string]any{"username": "carol", "password": "other-pass-456"}).
		AssertStatus(t, 400).AssertJSON(t, `{"username": ["A user with that username already exists."]}`)
	anon.Post("/api/register/", map[string]any{}).
		AssertStatus(t, 400).AssertJSON(t, `{"username": ["This field is required."], "password": ["This field is required."]}`)
	anon.Post("/api/register/", map[string]any{"username": nil, "password": ""}).
		AssertStatus(t, 400).AssertJSON(t, `{"username": ["This field may not be null."], "password": ["This field may not be blank."]}`)
	anon.Post("/api/register/", map[string]any{"username": "no spaces please", "password": "x"}).
		AssertStatus(t, 400).AssertJSON(t, `{"username": ["Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."]}`)
	anon.Post("/api/register/", map[string]any{"username": strings.Repeat("u", 151), "password": "x"}).
		AssertStatus(t, 400).AssertJSON(t, `{"username": ["Ensure this field has no more than 150 characters."]}`)
	anon.Post("/api/register/", `{"username": "x", "password": `).AssertStatus(t, 400)
	anon.Post("/api/register/", `null`).AssertStatus(t, 400).AssertJSON(t, `{"non_field_errors": ["No data provided"]}`)
	anon.Post("/api/register/", "username=x", apitest.Header("Content-Type", "text/plain")).
		AssertStatus(t, 415).AssertJSON(t, `{"detail": "Unsupported media type \"text/plain\" in request."}`)
	// Surrounding whitespace is trimmed (DRF's CharField default), and so
	// does simplejwt's password field.
	rp = anon.Post("/api/register/", map[string]any{"username": "  erin ", "password": " erin-pass-123 "}).AssertStatus(t, 201)
	if m := object(t, rp, "id", "username", "is_staff"); m["username"] != "erin" {
		t.Errorf("register trims the username: %s", rp.Body)
	}
	anon.Post("/api/token/", map[string]any{"username": "erin", "password": "erin-pass-123"}).AssertStatus(t, 200)
	anon.Post("/api/token/", map[string]any{"username": " erin", "password": " erin-pass-123 "}).AssertStatus(t, 200)

	// JWT obtain, refresh, verify.
	tokens := object(t, anon.Post("/api/token/", map[string]any{"username": "carol", "password": "carol-pass-123"}).
		AssertStatus(t, 200), "refresh", "access")
	access, refresh := tokens["access"].(string), tokens["refresh"].(string)
	asCarol := s.as(bearer(access))
	checkClaims(t, access, "access", carolID, 5*time.Minute)
	checkClaims(t, refresh, "refresh", carolID, 24*time.Hour)
	rp = anon.Post("/api/token/", map[string]any{"username": "carol", "password": "wrong"}).
		AssertStatus(t, 401).AssertJSON(t, `{"detail": "No active account found with the given credentials"}`)
	if rp.Header.Get("WWW-Authenticate") == "" {
		t.Error("401 from /api/token/ without WWW-Authenticate")
	}
	anon.Post("/api/token/", map[string]any{"username": "nobody-here", "password": "x"}).
		AssertStatus(t, 401).AssertJSON(t, `{"detail": "No active account found with the given credentials"}`)
	anon.Post("/api/token/", map[string]any{}).
		AssertStatus(t, 400).AssertJSON(t, `{"username": ["This field is required."], "password": ["This field is required."]}`)

	refreshed := object(t, anon.Post("/api/token/refresh/", map[string]any{"refresh": refresh}).AssertStatus(t, 200), "access")
	access2 := refreshed["access"].(string)
	checkClaims(t, access2, "access", carolID, 5*time.Minute)
	anon.Post("/api/token/refresh/", map[string]any{"refresh": "not.a.jwt"}).AssertStatus(t, 401).AssertJSON(t, msgTokenInvalid)
	anon.Post("/api/token/refresh/", map[string]any{"refresh": access}).AssertStatus(t, 401) // an access token is not a refresh token
	anon.Post("/api/token/refresh/", map[string]any{}).AssertStatus(t, 400).AssertJSON(t, `{"refresh": ["This field is required."]}`)
	anon.Post("/api/token/verify/", map[string]any{"token": access2}).AssertStatus(t, 200).AssertJSON(t, `{}`)
	anon.Post("/api/token/verify/", map[string]any{"token": refresh}).AssertStatus(t, 200).AssertJSON(t, `{}`)
	anon.Post("/api/token/verify/", map[string]any{"token": access2[:len(access2)-4] + "AAAA"}).AssertStatus(t, 401).AssertJSON(t, msgTokenInvalid)

	// DRF token (the first of the 5 requests a minute /api/token-auth/ allows).
	key := object(t, anon.Post("/api/token-auth/", map[string]any{"username": "carol", "password": "carol-pass-123"}).
		AssertStatus(t, 200), "token")["token"].(string)
	if len(key) < 20 {
		t.Fatalf("token key %q is too short to be random", key)
	}
	asCarolToken := s.as(token(key))

	// /api/me/ with both schemes and without.
	me := fmt.Sprintf(`{"id": %d, "username": "carol", "is_staff": false}`, carolID)
	asCarol.Get("/api/me/").AssertStatus(t, 200).AssertJSON(t, me)
	s.as(bearer(access2)).Get("/api/me/").AssertStatus(t, 200).AssertJSON(t, me)
	asCarolToken.Get("/api/me/").AssertStatus(t, 200).AssertJSON(t, me)
	rp = anon.Get("/api/me/").AssertStatus(t, 401).AssertJSON(t, msgNoCredentials)
	if rp.Header.Get("WWW-Authenticate") == "" {
		t.Error("401 from /api/me/ without WWW-Authenticate")
	}
	rp = s.as(token("0123456789abcdef0123456789abcdef01234567")).Get("/api/me/").AssertStatus(t, 401).AssertJSON(t, `{"detail": "Invalid token."}`)
	if rp.Header.Get("WWW-Authenticate") == "" {
		t.Error("401 for a bad Token without WWW-Authenticate")
	}
	rp = s.as(bearer("not.a.jwt")).Get("/api/me/").AssertStatus(t, 401)
	if m := object(t, rp, "detail", "code", "messages"); m["code"] != "token_not_valid" {
		t.Errorf("bad bearer token: %s, want code token_not_valid", rp.Body)
	}
	s.as(bearer(refresh)).Get("/api/me/").AssertStatus(t, 401) // a refresh token does not authenticate

	// The demo users exist (-demo): bob is regular, admin is staff.
	bobAccess := object(t, anon.Post("/api/token/", map[string]any{"username": "bob", "password": "bob-pass-123"}).
		AssertStatus(t, 200), "refresh", "access")["access"].(string)
	adminAccess := object(t, anon.Post("/api/token/", map[string]any{"username": "admin", "password": "admin-pass-123"}).
		AssertStatus(t, 200), "refresh", "access")["access"].(string)
	asBob, asAdmin := s.as(bearer(bobAccess)), s.as(bearer(adminAccess))
	if m := object(t, asAdmin.Get("/api/me/").AssertStatus(t, 200), "id", "username", "is_staff"); m["is_staff"] != true {
		t.Fatalf("admin is not staff: %v", m)
	}

	// Authors.
	rp = anon.Post("/api/authors/", map[string]any{"name": "Anon", "email": "anon@example.com"}).AssertStatus(t, 401).AssertJSON(t, msgNoCredentials)
	if rp.Header.Get("WWW-Authenticate") == "" {
		t.Error("401 from POST /api/authors/ without WWW-Authenticate")
	}
	authorNames := []string{"Ursula K. Le Guin", "Iain M. Banks", "Ada Palmer"}
	authorIDs := make([]int64, len(authorNames))
	for i, name := range authorNames {
		email := fmt.Sprintf("author%d@example.com", i)
		rp := asCarol.Post("/api/authors/", map[string]any{"name": name, "email": email, "id": 777, "created_at": "2000-01-01T00:00:00Z"}).AssertStatus(t, 201)
		m := object(t, rp, "id", "name", "email", "created_at", "book_count")
		authorIDs[i] = id(t, m)
		if authorIDs[i] == 777 || m["name"] != name || m["email"] != email {
			t.Fatalf("create author: %s (read-only id must be ignored)", rp.Body)
		}
		isTimestamp(t, m["created_at"])
		if strings.HasPrefix(m["created_at"].(string), "2000") {
			t.Fatalf("create author: read-only created_at was taken from the body: %s", rp.Body)
		}
		anon.Get(fmt.Sprintf("/api/authors/%d/", authorIDs[i])).AssertStatus(t, 200).AssertJSON(t, rp.Body)
	}
	asCarol.Post("/api/authors/", map[string]any{}).
		AssertStatus(t, 400).AssertJSON(t, `{"name": ["This field is required."], "email": ["This field is required."]}`)
	asCarol.Post("/api/authors/", map[string]any{"name": strings.Repeat("n", 101), "email": "not-an-email"}).
		AssertStatus(t, 400).AssertJSON(t, `{"name": ["Ensure this field has no more than 100 characters."], "email": ["Enter a valid email address."]}`)
	asCarol.Post("/api/authors/", map[string]any{"name": "Copy", "email": "author0@example.com"}).
		AssertStatus(t, 400).AssertJSON(t, `{"email": ["author with this email already exists."]}`)

	// Page-number pagination, search and ordering.
	p := paged(t, anon.Get("/api/authors/?page_size=2"), "count", "next", "previous", "results")
	if *p.Count != 3 || !slices.Equal(p.names("name"), authorNames[:2]) {
		t.Fatalf("authors page 1: count %d, names %v", *p.Count, p.names("name"))
	}
	next := s.link(t, "next", p.Next, "/api/authors/", url.Values{"page": {"2"}, "page_size": {"2"}})
	s.link(t, "previous", p.Previous, "", nil)
	p = paged(t, anon.Get(next), "count", "next", "previous", "results")
	if *p.Count != 3 || !slices.Equal(p.names("name"), authorNames[2:]) {
		t.Fatalf("authors page 2: count %d, names %v", *p.Count, p.names("name"))
	}
	s.link(t, "next", p.Next, "", nil)
	s.link(t, "previous", p.Previous, "/api/authors/", url.Values{"page_size": {"2"}}) // DRF drops page=1
	anon.Get("/api/authors/?page=9").AssertStatus(t, 404).AssertJSON(t, `{"detail": "Invalid page."}`)
	paged(t, anon.Get("/api/authors/?page=last&page_size=2"), "count", "next", "previous", "results")
	p = paged(t, anon.Get("/api/authors/?ordering=-name"), "count", "next", "previous", "results")
	if want := []string{"Ursula K. Le Guin", "Iain M. Banks", "Ada Palmer"}; !slices.Equal(p.names("name"), want) {
		t.Errorf("ordering=-name: %v, want %v", p.names("name"), want)
	}
	p = paged(t, anon.Get("/api/authors/?ordering=name"), "count", "next", "previous", "results")
	if want := []string{"Ada Palmer", "Iain M. Banks", "Ursula K. Le Guin"}; !slices.Equal(p.names("name"), want) {
		t.Errorf("ordering=name: %v, want %v", p.names("name"), want)
	}
	p = paged(t, anon.Get("/api/authors/?search=BANKS"), "count", "next", "previous", "results")
	if *p.Count != 1 || p.names("name")[0] != "Iain M. Banks" {
		t.Errorf("search=BANKS: %v", p.names("name"))
	}
	p = paged(t, anon.Get("/api/authors/?search=author1%40"), "count", "next", "previous", "results")
	if *p.Count != 0 {
		t.Errorf("search looks in email, want name only: %v", p.names("name"))
	}

	// Author updates: PUT needs every required field, PATCH none; anyone
	// authenticated may change an author.
	a0 := fmt.Sprintf("/api/authors/%d/", authorIDs[0])
	asBob.Put(a0, map[string]any{"name": "Ursula Le Guin"}).AssertStatus(t, 400).AssertJSON(t, `{"email": ["This field is required."]}`)
	asBob.Patch(a0, map[string]any{"name": "Ursula Le Guin"}).AssertStatus(t, 200)
	anon.Patch(a0, map[string]any{"name": "Anonymous"}).AssertStatus(t, 401).AssertJSON(t, msgNoCredentials)
	if m := object(t, anon.Get(a0).AssertStatus(t, 200), "id", "name", "email", "created_at", "book_count"); m["name"] != "Ursula Le Guin" {
		t.Errorf("after PATCH name = %v", m["name"])
	}

	// Books.
	type bookIn map[string]any
	newBook := func(i int, author int64) bookIn {
		return bookIn{"title": fmt.Sprintf("Book %02d", i), "isbn": fmt.Sprintf("97800000000%02d", i), "author": author, "price_cents": 100 * i, "published_on": fmt.Sprintf("2001-01-%02d", i+1)}
	}
	rp = asCarol.Post("/api/books/", bookIn{
		"title": "The Left Hand of Darkness", "isbn": "9780441478125", "author": authorIDs[0],
		"price_cents": 1299, "published_on": "1969-03-01", "owner": "mallory", "id": 555,
	}).AssertStatus(t, 201)
	book := object(t, rp, "id", "title", "isbn", "author", "price_cents", "published_on", "owner", "created_at")
	bookID := id(t, book)
	isTimestamp(t, book["created_at"])
	rp.AssertJSON(t, fmt.Sprintf(`{"id": %d, "title": "The Left Hand of Darkness", "isbn": "9780441478125", "author": %d, "price_cents": 1299, "published_on": "1969-03-01", "owner": "carol", "created_at": %q}`,
		bookID, authorIDs[0], book["created_at"]))
	b0 := fmt.Sprintf("/api/books/%d/", bookID)
	anon.Get(b0).AssertStatus(t, 200).AssertJSON(t, rp.Body)
	// published_on may be null; bob owns this one (created with a DRF token
	// obtained by bob would do as well).
	rp = asBob.Post("/api/books/", bookIn{"title": "Unpublished", "isbn": "9780000000999", "author": authorIDs[1], "price_cents": 0, "published_on": nil}).AssertStatus(t, 201)
	bobBook := object(t, rp, "id", "title", "isbn", "author", "price_cents", "published_on", "owner", "created_at")
	if bobBook["published_on"] != nil || bobBook["owner"] != "bob" || bobBook["price_cents"] != float64(0) {
		t.Fatalf("bob's book: %s", rp.Body)
	}
	bobBookPath := fmt.Sprintf("/api/books/%d/", id(t, bobBook))

	// Field errors of books.
	asCarol.Post("/api/books/", bookIn{}).
		AssertStatus(t, 400).AssertJSON(t, `{"title": ["This field is required."], "isbn": ["This field is required."], "author": ["This field is required."], "price_cents": ["This field is required."]}`)
	asCarol.Post("/api/books/", bookIn{"title": "X", "isbn": "9780441478125", "author": authorIDs[0], "price_cents": 1}).
		AssertStatus(t, 400).AssertJSON(t, `{"isbn": ["book with this isbn already exists."]}`)
	asCarol.Post("/api/books/", bookIn{"title": "X", "isbn": "9780441478126", "author": 999999, "price_cents": 1}).
		AssertStatus(t, 400).AssertJSON(t, `{"author": ["Invalid pk \"999999\" - object does not exist."]}`)
	asCarol.Post("/api/books/", bookIn{"title": "X", "isbn": "9780441478126", "author": authorIDs[0], "price_cents": -1}).
		AssertStatus(t, 400).AssertJSON(t, `{"price_cents": ["Ensure this value is greater than or equal to 0."]}`)
	asCarol.Post("/api/books/", bookIn{"title": "X", "isbn": "9780441478126", "author": authorIDs[0], "price_cents": "a lot"}).
		AssertStatus(t, 400).AssertJSON(t, `{"price_cents": ["A valid integer is required."]}`)
	asCarol.Post("/api/books/", bookIn{"title": "X", "isbn": "9780441478126", "author": authorIDs[0], "price_cents": 1, "published_on": "1 March 1969"}).
		AssertStatus(t, 400).AssertJSON(t, `{"published_on": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}`)
	asCarol.Post("/api/books/", bookIn{"title": strings.Repeat("t", 201), "isbn": "9780441478126", "author": authorIDs[0], "price_cents": 1}).
		AssertStatus(t, 400).AssertJSON(t, `{"title": ["Ensure this field has no more than 200 characters."]}`)
	for _, bad := range []string{"978044147812", "97804414781260", "978044147812X"} {
		rp := asCarol.Post("/api/books/", bookIn{"title": "X", "isbn": bad, "author": authorIDs[0], "price_cents": 1}).AssertStatus(t, 400)
		if m := object(t, rp, "isbn"); len(m["isbn"].([]any)) == 0 {
			t.Errorf("isbn %q: %s", bad, rp.Body)
		}
	}

	// Ten more books by carol for the paginators (12 in all: ids ascend).
	for i := 1; i <= 10; i++ {
		author := authorIDs[i%2]
		asCarolToken.Post("/api/books/", newBook(i, author)).AssertStatus(t, 201)
	}
	allTitles := []string{"The Left Hand of Darkness", "Unpublished"}
	for i := 1; i <= 10; i++ {
		allTitles = append(allTitles, fmt.Sprintf("Book %02d", i))
	}

	// Limit/offset pagination, filter, search, ordering.
	p = paged(t, anon.Get("/api/books/"), "count", "next", "previous", "results")
	if *p.Count != 12 || !slices.Equal(p.names("title"), allTitles[:10]) {
		t.Fatalf("books: count %d, titles %v", *p.Count, p.names("title"))
	}
	s.link(t, "next", p.Next, "/api/books/", url.Values{"limit": {"10"}, "offset": {"10"}})
	p = paged(t, anon.Get("/api/books/?limit=3&offset=3"), "count", "next", "previous", "results")
	if !slices.Equal(p.names("title"), allTitles[3:6]) {
		t.Fatalf("limit=3&offset=3: %v", p.names("title"))
	}
	s.link(t, "next", p.Next, "/api/books/", url.Values{"limit": {"3"}, "offset": {"6"}})
	s.link(t, "previous", p.Previous, "/api/books/", url.Values{"limit": {"3"}}) // DRF drops offset=0
	p = paged(t, anon.Get("/api/books/?limit=1000"), "count", "next", "previous", "results")
	if len(p.Results) != 12 || p.Next != nil {
		t.Errorf("limit=1000 (capped at 100): %d results", len(p.Results))
	}
	p = paged(t, anon.Get(fmt.Sprintf("/api/books/?author=%d", authorIDs[1])), "count", "next", "previous", "results")
	if *p.Count != 6 { // Unpublished + Books 01, 03, 05, 07, 09
		t.Errorf("author=%d: count %d, titles %v", authorIDs[1], *p.Count, p.names("title"))
	}
	for _, r := range p.Results {
		if r["author"] != float64(authorIDs[1]) {
			t.Errorf("author filter returned %v", r)
		}
	}
	anon.Get("/api/books/?author=abc").
		AssertStatus(t, 400).AssertJSON(t, `{"author": ["Select a valid choice. That choice is not one of the available choices."]}`)
	p = paged(t, anon.Get("/api/books/?search=darkness"), "count", "next", "previous", "results")
	if !slices.Equal(p.names("title"), []string{"The Left Hand of Darkness"}) {
		t.Errorf("search=darkness: %v", p.names("title"))
	}
	p = paged(t, anon.Get("/api/books/?search=9780000000999"), "count", "next", "previous", "results")
	if !slices.Equal(p.names("title"), []string{"Unpublished"}) {
		t.Errorf("search by isbn: %v", p.names("title"))
	}
	p = paged(t, anon.Get("/api/books/?ordering=-price_cents&limit=3"), "count", "next", "previous", "results")
	if want := []string{"The Left Hand of Darkness", "Book 10", "Book 09"}; !slices.Equal(p.names("title"), want) {
		t.Errorf("ordering=-price_cents: %v, want %v", p.names("title"), want)
	}
	p = paged(t, anon.Get("/api/books/?ordering=title&limit=2"), "count", "next", "previous", "results")
	if want := []string{"Book 01", "Book 02"}; !slices.Equal(p.names("title"), want) {
		t.Errorf("ordering=title: %v, want %v", p.names("title"), want)
	}
	p = paged(t, anon.Get("/api/books/?ordering=bogus,-owner&limit=2"), "count", "next", "previous", "results")
	if !slices.Equal(p.names("title"), allTitles[:2]) {
		t.Errorf("unknown ordering fields must be ignored: %v", p.names("title"))
	}

	// Cursor pagination, newest first.
	p = paged(t, anon.Get("/api/books/recent/"), "next", "previous", "results")
	want := slices.Clone(allTitles)
	slices.Reverse(want)
	if !slices.Equal(p.names("title"), want[:10]) {
		t.Fatalf("recent page 1: %v, want %v", p.names("title"), want[:10])
	}
	s.link(t, "previous", p.Previous, "", nil)
	next = s.link(t, "next", p.Next, "/api/books/recent/", url.Values{"cursor": {"*"}})
	p = paged(t, anon.Get(next), "next", "previous", "results")
	if !slices.Equal(p.names("title"), want[10:]) {
		t.Fatalf("recent page 2: %v, want %v", p.names("title"), want[10:])
	}
	s.link(t, "next", p.Next, "", nil)
	prev := s.link(t, "previous", p.Previous, "/api/books/recent/", url.Values{"cursor": {"*"}})
	p = paged(t, anon.Get(prev), "next", "previous", "results")
	if !slices.Equal(p.names("title"), want[:10]) {
		t.Fatalf("recent, back to page 1: %v", p.names("title"))
	}
	anon.Get("/api/books/recent/?cursor="+url.QueryEscape(strings.Replace(next[strings.Index(next, "cursor=")+7:], "A", "B", 1)+"x")).
		AssertStatus(t, 404).AssertJSON(t, `{"detail": "Invalid cursor"}`)

	// Object permissions on books: owner or staff.
	asBob.Patch(b0, map[string]any{"price_cents": 1}).AssertStatus(t, 403).AssertJSON(t, msgDenied)
	asBob.Delete(b0).AssertStatus(t, 403).AssertJSON(t, msgDenied)
	anon.Patch(b0, map[string]any{"price_cents": 1}).AssertStatus(t, 401).AssertJSON(t, msgNoCredentials)
	rp = asCarol.Patch(b0, map[string]any{"price_cents": 1500, "owner": "bob"}).AssertStatus(t, 200)
	if m := object(t, rp, "id", "title", "isbn", "author", "price_cents", "published_on", "owner", "created_at"); m["price_cents"] != float64(1500) || m["owner"] != "carol" {
		t.Errorf("owner's PATCH: %s", rp.Body)
	}
	asCarol.Patch(b0, map[string]any{"author": 999999}).
		AssertStatus(t, 400).AssertJSON(t, `{"author": ["Invalid pk \"999999\" - object does not exist."]}`)
	asCarolToken.Put(b0, map[string]any{"title": "Only a title"}).
		AssertStatus(t, 400).AssertJSON(t, `{"isbn": ["This field is required."], "author": ["This field is required."], "price_cents": ["This field is required."]}`)
	asCarolToken.Put(b0, bookIn{"title": "The Left Hand of Darkness", "isbn": "9780441478125", "author": authorIDs[0], "price_cents": 1400, "published_on": nil}).
		AssertStatus(t, 200)
	asAdmin.Patch(bobBookPath, map[string]any{"title": "Unpublished (staff edit)"}).AssertStatus(t, 200)
	asCarol.Delete(bobBookPath).AssertStatus(t, 403).AssertJSON(t, msgDenied)
	rp = asBob.Delete(bobBookPath)
	if rp.Status != 204 || len(rp.Body) != 0 {
		t.Fatalf("owner's DELETE: %d %s, want 204 and no body", rp.Status, rp.Body)
	}
	anon.Get(bobBookPath).AssertStatus(t, 404).AssertJSON(t, msgNotFound)

	// Deleting an author: staff only, and its books go with it.
	asCarol.Delete(a0).AssertStatus(t, 403).AssertJSON(t, msgDenied)
	anon.Delete(a0).AssertStatus(t, 401).AssertJSON(t, msgNoCredentials)
	rp = asAdmin.Delete(a0)
	if rp.Status != 204 || len(rp.Body) != 0 {
		t.Fatalf("staff DELETE author: %d %s, want 204 and no body", rp.Status, rp.Body)
	}
	anon.Get(a0).AssertStatus(t, 404).AssertJSON(t, msgNotFound)
	anon.Get(b0).AssertStatus(t, 404).AssertJSON(t, msgNotFound)
	// django-filter's answer for an author that no longer exists.
	anon.Get(fmt.Sprintf("/api/books/?author=%d", authorIDs[0])).
		AssertStatus(t, 400).AssertJSON(t, `{"author": ["Select a valid choice. That choice is not one of the available choices."]}`)
	p = paged(t, anon.Get("/api/books/"), "count", "next", "previous", "results")
	if *p.Count != 5 { // 12 - the deleted author's 6 - bob's book
		t.Errorf("books after deleting author 0: count %d", *p.Count)
	}
	for _, r := range p.Results {
		if r["author"] == float64(authorIDs[0]) {
			t.Errorf("a book of the deleted author remains: %v", r)
		}
	}

	// The error table.
	anon.Get("/api/books/999999/").AssertStatus(t, 404).AssertJSON(t, msgNotFound)
	anon.Get("/api/authors/999999/").AssertStatus(t, 404).AssertJSON(t, msgNotFound)
	rp = asCarol.Post("/api/authors/", `{"name": "Broken",`).AssertStatus(t, 400)
	if m := object(t, rp, "detail"); !strings.HasPrefix(m["detail"].(string), "JSON parse error - ") {
		t.Errorf("malformed JSON: %s", rp.Body)
	}
	asCarol.Post("/api/authors/", "name=x", apitest.Header("Content-Type", "text/plain")).
		AssertStatus(t, 415).AssertJSON(t, `{"detail": "Unsupported media type \"text/plain\" in request."}`)
	rp = asCarol.Patch("/api/books/", map[string]any{}).AssertStatus(t, 405).AssertJSON(t, `{"detail": "Method \"PATCH\" not allowed."}`)
	checkAllow(t, rp, "GET", "POST")
	rp = asCarol.Post("/api/me/", map[string]any{}).AssertStatus(t, 405).AssertJSON(t, `{"detail": "Method \"POST\" not allowed."}`)
	checkAllow(t, rp, "GET")
	// Authenticated: anonymous callers get 401 first (permissions come before the method, as in DRF; see TestViewSetRouting).
	rp = asCarol.Delete("/api/books/recent/").AssertStatus(t, 405).AssertJSON(t, `{"detail": "Method \"DELETE\" not allowed."}`)
	checkAllow(t, rp, "GET")
	big := `{"name": "` + strings.Repeat("x", 1<<20) + `", "email": "big@example.com"}`
	rp = asCarol.Post("/api/authors/", big).AssertStatus(t, 413)
	if m := object(t, rp, "detail"); m["detail"] == "" {
		t.Errorf("413 without detail: %s", rp.Body)
	}
	// The same body without a Content-Length (chunked): refused once read past 1 MiB.
	rp = asCarol.Post("/api/authors/", io.MultiReader(strings.NewReader(big))).AssertStatus(t, 413)
	if m := object(t, rp, "detail"); m["detail"] == "" {
		t.Errorf("413 (chunked) without detail: %s", rp.Body)
	}

	// Throttling: /api/token-auth/ allows 5 requests a minute per client;
	// one was spent above.
	for i := 2; i <= 5; i++ {
		anon.Post("/api/token-auth/", map[string]any{"username": "carol", "password": "carol-pass-123"}).AssertStatus(t, 200)
	}
	rp = anon.Post("/api/token-auth/", map[string]any{"username": "carol", "password": "carol-pass-123"}).AssertStatus(t, 429)
	ra, err := strconv.Atoi(rp.Header.Get("Retry-After"))
	if err != nil || ra < 1 || ra > 60 {
		t.Fatalf("Retry-After %q, want 1..60 seconds", rp.Header.Get("Retry-After"))
	}
	rp.AssertJSON(t, fmt.Sprintf(`{"detail": "Request was throttled. Expected available in %d seconds."}`, ra))
	// Other endpoints are not throttled by it.
	asCarolToken.Get("/api/me/").AssertStatus(t, 200).AssertJSON(t, me)

	// The OpenAPI document generated from the routes.
	rp = anon.Get("/api/schema/").AssertStatus(t, 200)
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(rp.Body, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.1") {
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

	walkIdempotentCreates(t, asCarol)

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

func checkAllow(t *testing.T, rp *apitest.Response, methods ...string) {
	t.Helper()
	allow := rp.Header.Get("Allow")
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
	s.api = apitest.NewLive(s.base, s.client)
}

// schemaCheck sends API requests through the validating transport and the
// rest straight through.
type schemaCheck struct {
	t *testing.T
	v *openapitest.Validator
}

func (c schemaCheck) RoundTrip(req *http.Request) (*http.Response, error) {
	p := req.URL.Path
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || !strings.HasPrefix(p, "/api/") {
		return resp, err
	}
	// Every API answer with a body is JSON.
	b, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if ct := resp.Header.Get("Content-Type"); len(b) > 0 && !strings.HasPrefix(ct, "application/json") {
		c.t.Errorf("%s %s: Content-Type %q, want application/json", req.Method, p, ct)
	}
	if p == "/api/schema/" || req.Method == http.MethodHead || req.Method == http.MethodOptions || resp.StatusCode == http.StatusMethodNotAllowed {
		return resp, nil
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
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}
