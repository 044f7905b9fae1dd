package authentication_test

import (
	"crypto/sha256"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
)

// authServer is an in-process OpenID Connect provider with an
// authorization endpoint that logs in `user` at once and a token endpoint
// that checks the client secret and the PKCE verifier.
type authServer struct {
	srv      *httptest.Server
	mu       sync.Mutex
	codes    map[string]grant
	user     string
	badNonce atomic.Bool
}

type grant struct{ challenge, nonce, redirect string }

func newAuthServer(t *testing.T) *authServer {
	a := &authServer{codes: map[string]grant{}, user: "olga"}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": a.srv.URL, "jwks_uri": a.srv.URL + "/jwks",
			"authorization_endpoint": a.srv.URL + "/authorize", "token_endpoint": a.srv.URL + "/token"})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{"kty": "RSA", "kid": "k1", "n": b64(rsaKey.N.Bytes()), "e": b64(big.NewInt(int64(rsaKey.E)).Bytes())}}})
	})
	mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != "web" || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" {
			http.Error(w, "bad authorization request", http.StatusBadRequest)
			return
		}
		code := "code-" + q.Get("state")[:8]
		a.mu.Lock()
		a.codes[code] = grant{challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), redirect: q.Get("redirect_uri")}
		a.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code="+code+"&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		a.mu.Lock()
		g, found := a.codes[r.PostForm.Get("code")]
		delete(a.codes, r.PostForm.Get("code"))
		a.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if id != "web" || secret != "s3cret" || !found || b64(sum[:]) != g.challenge || r.PostForm.Get("redirect_uri") != g.redirect {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		nonce := g.nonce
		if a.badNonce.Load() {
			nonce = "replayed"
		}
		idt := signIdP(t, jwt.SigningMethodRS256, rsaKey, "k1", jwt.MapClaims{"iss": a.srv.URL, "aud": "web", "sub": a.user, "nonce": nonce,
			"iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix()})
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 60, "id_token": idt})
	})
	a.srv = httptest.NewServer(mux)
	t.Cleanup(a.srv.Close)
	return a
}

// TestOAuthLogin runs the authorization-code flow with PKCE against the
// in-process provider, as a browser would, and checks the service's own
// token pair comes back for the provider's user.
func TestOAuthLogin(t *testing.T) {
	a := newAuthServer(t)
	db := dbtest.SQLite(t, (*models.User)(nil))
	own := &authentication.JWT{Key: []byte("0123456789abcdef0123456789abcdef"), DB: db}
	login := &authentication.OAuthLogin{
		Provider:    &authentication.OIDCProvider{Issuer: a.srv.URL, ClientID: "web", ClientSecret: "s3cret", RedirectURL: "http://app.test/login/callback/"},
		JWT:         own,
		DB:          db,
		CreateUsers: true,
	}
	start, callback := login.StartHandler(), login.CallbackHandler()

	// browse follows the flow: start, the provider, the callback. tamper may
	// change the callback request.
	browse := func(tamper func(*http.Request)) *httptest.ResponseRecorder {
		t.Helper()
		w := httptest.NewRecorder()
		start.ServeHTTP(w, httptest.NewRequest("GET", "http://app.test/login/", nil))
		if w.Code != http.StatusFound {
			t.Fatalf("start: %d %s", w.Code, w.Body)
		}
		cookies := w.Result().Cookies()
		if len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteLaxMode {
			t.Fatalf("start cookie %+v", cookies)
		}
		loc := w.Header().Get("Location")
		if !strings.HasPrefix(loc, a.srv.URL+"/authorize?") {
			t.Fatalf("start redirects to %s", loc)
		}
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noFollow.Get(loc)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		back := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(back, "http://app.test/login/callback/?") {
			t.Fatalf("provider answered %d %s", resp.StatusCode, back)
		}
		req := httptest.NewRequest("GET", back, nil)
		req.AddCookie(cookies[0])
		if tamper != nil {
			tamper(req)
		}
		w = httptest.NewRecorder()
		callback.ServeHTTP(w, req)
		return w
	}

	w := browse(nil)
	if w.Code != http.StatusOK {
		t.Fatalf("callback: %d %s", w.Code, w.Body)
	}
	var pair struct{ Refresh, Access string }
	if err := json.Unmarshal(w.Body.Bytes(), &pair); err != nil || pair.Access == "" || pair.Refresh == "" {
		t.Fatalf("callback body %s", w.Body)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+pair.Access)
	p, err := own.Authenticate(r)
	if err != nil || p == nil || p.Username != "olga" {
		t.Fatalf("the service's access token: %+v %v", p, err)
	}
	if w := browse(nil); w.Code != http.StatusOK { // the same user again
		t.Fatalf("second login: %d %s", w.Code, w.Body)
	}
	if n, _ := db.NewSelect().Model((*models.User)(nil)).Count(t.Context()); n != 1 {
		t.Fatalf("%d users after two logins of one, want 1", n)
	}

	for name, c := range map[string]struct {
		tamper func(*http.Request)
		status int
	}{
		"no cookie": {func(r *http.Request) { r.Header.Del("Cookie") }, 400},
		"wrong state": {func(r *http.Request) {
			q := r.URL.Query()
			q.Set("state", "forged-state-value")
			r.URL.RawQuery = q.Encode()
		}, 400},
		"wrong PKCE verifier": {func(r *http.Request) {
			c, _ := r.Cookie("cosworth_oauth")
			parts := strings.Split(c.Value, ".")
			r.Header.Del("Cookie")
			r.AddCookie(&http.Cookie{Name: "cosworth_oauth", Value: parts[0] + "." + parts[1] + ".not-the-verifier-0123456789012345678901234"})
		}, 401},
		"provider error": {func(r *http.Request) {
			q := r.URL.Query()
			q.Del("code")
			q.Set("error", "access_denied")
			r.URL.RawQuery = q.Encode()
		}, 400},
	} {
		if w := browse(c.tamper); w.Code != c.status {
			t.Errorf("%s: %d %s, want %d", name, w.Code, w.Body, c.status)
		}
	}
	a.badNonce.Store(true)
	if w := browse(nil); w.Code != http.StatusUnauthorized {
		t.Errorf("replayed nonce: %d %s, want 401", w.Code, w.Body)
	}
}
