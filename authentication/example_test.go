package authentication_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/models"
)

// post sends a JSON body and prints the status and a summary of the answer.
func post(url, body string) string {
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fmt.Sprint(resp.StatusCode, " ", string(b))
}

// ExampleJWT mounts simplejwt's endpoints and protects a handler with
// bearer tokens. HS256 with a 32-byte secret is the default; use RS256 or
// EdDSA (Algorithm, Key) when other services verify tokens with a public
// key. Setting DB makes every request load the user, so deactivation takes
// effect at once.
func ExampleJWT() {
	ctx := context.Background()
	db, _ := models.Open(ctx, "sqlite::memory:")
	defer db.Close()
	_ = models.CreateTables(ctx, db, (*models.User)(nil))
	_, _ = models.CreateUser(ctx, db, "alice", "alice-pass-123", false)

	j := &authentication.JWT{Key: []byte("an example secret of 32 bytes!!!"), DB: db}
	mux := http.NewServeMux()
	mux.Handle("POST /api/token/", j.ObtainPairHandler(db))
	mux.Handle("POST /api/token/refresh/", j.RefreshHandler())
	mux.Handle("GET /api/me/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := authentication.ErrorFrom(r.Context()); err != nil {
			w.Header().Set("WWW-Authenticate", authentication.Challenge(r.Context()))
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if p := authentication.PrincipalFrom(r.Context()); p != nil {
			fmt.Fprintf(w, "hello %s", p.Username)
			return
		}
		fmt.Fprint(w, "hello stranger")
	}))
	srv := httptest.NewServer(authentication.Middleware(j)(mux))
	defer srv.Close()

	fmt.Println(post(srv.URL+"/api/token/", `{"username": "alice", "password": "wrong"}`))
	resp, _ := http.Post(srv.URL+"/api/token/", "application/json", strings.NewReader(`{"username": "alice", "password": "alice-pass-123"}`))
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	access := strings.Split(string(b), `"access":"`)[1]
	access = access[:strings.IndexByte(access, '"')]

	req, _ := http.NewRequest("GET", srv.URL+"/api/me/", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, _ = http.DefaultClient.Do(req)
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(b))
	// Output:
	// 401 {"detail":"No active account found with the given credentials"}
	// 200 hello alice
}

// ExampleToken issues and checks DRF-style API keys stored as SHA-256
// digests. Pick it for long-lived keys that are revoked by deleting a row.
func ExampleToken() {
	ctx := context.Background()
	db, _ := models.Open(ctx, "sqlite::memory:")
	defer db.Close()
	_ = models.CreateTables(ctx, db, (*models.User)(nil), (*models.Token)(nil))
	_, _ = models.CreateUser(ctx, db, "alice", "alice-pass-123", false)

	tok := &authentication.Token{DB: db}
	srv := httptest.NewServer(tok.ObtainHandler())
	defer srv.Close()
	fmt.Println(post(srv.URL, `{"username": "alice", "password": "nope"}`))
	fmt.Println(post(srv.URL, `{"password": "nope"}`))
	out := post(srv.URL, `{"username": "alice", "password": "alice-pass-123"}`)
	fmt.Println(out[:13], len(out[14:len(out)-2]), "hex digits")
	// Output:
	// 400 {"non_field_errors":["Unable to log in with provided credentials."]}
	// 400 {"username":["This field is required."]}
	// 200 {"token": 40 hex digits
}

// ExampleMiddleware shows DRF's rules: the first authenticator that
// recognises the credentials decides; a rejected credential is a 401 with
// the first authenticator's challenge; no credentials means anonymous.
func ExampleMiddleware() {
	apiKey := authentication.AuthenticatorFunc(func(r *http.Request) (*authentication.Principal, error) {
		switch r.Header.Get("X-Api-Key") {
		case "":
			return nil, nil // not ours: the next authenticator may try
		case "k1":
			return &authentication.Principal{ID: 1, Username: "svc"}, nil
		}
		return nil, &authentication.FailedError{Detail: "Invalid API key."}
	})
	j := &authentication.JWT{Key: []byte("an example secret of 32 bytes!!!")}
	h := authentication.Middleware(j, apiKey)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := authentication.PrincipalFrom(r.Context()), authentication.ErrorFrom(r.Context())
		switch {
		case err != nil:
			fmt.Println("refused:", err, "| challenge:", authentication.Challenge(r.Context()))
		case p == nil:
			fmt.Println("anonymous")
		default:
			fmt.Println("principal:", p.Username)
		}
	}))
	for _, key := range []string{"", "k1", "bad"} {
		r := httptest.NewRequest("GET", "/", nil)
		if key != "" {
			r.Header.Set("X-Api-Key", key)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	// Output:
	// anonymous
	// principal: svc
	// refused: Invalid API key. | challenge: Bearer realm="api"
}

// ExampleForward delegates authentication to another service, as Traefik's
// ForwardAuth does. Anything but a 2xx naming a user, 401 or 403 fails
// closed with 503.
func ExampleForward() {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			w.WriteHeader(401)
			return
		}
		w.Header().Set("X-Auth-User-Id", "7")
		w.Header().Set("X-Auth-User", "alice")
	}))
	defer upstream.Close()
	f := &authentication.Forward{URL: upstream.URL}
	for _, auth := range []string{"Bearer s3cret", "Bearer guess"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", auth)
		p, err := f.Authenticate(r)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(p.ID, p.Username)
	}
	// Output:
	// 7 alice
	// Incorrect authentication credentials.
}
