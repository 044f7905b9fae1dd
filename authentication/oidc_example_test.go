package authentication_test

import (
	"net/http"
	"os"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/authentication"
)

// An API that accepts a Keycloak realm's access tokens beside its own
// JWTs, and logs browsers in through the same realm (not run: it needs the
// provider).
func ExampleOIDC() {
	var db *bun.DB // models.Open(...)
	own := &authentication.JWT{Key: []byte(os.Getenv("JWT_SECRET")), DB: db}
	oidc := &authentication.OIDC{
		Issuer:        "https://keycloak.example.com/realms/shop",
		Audience:      "bookstore",
		UsernameClaim: "preferred_username",
		GroupsClaim:   "groups",
		DB:            db,
		CreateUsers:   true,
		Fallback:      own, // bearer tokens of other issuers: the service's own
	}
	login := &authentication.OAuthLogin{
		Provider: &authentication.OIDCProvider{
			Issuer:        oidc.Issuer,
			ClientID:      "bookstore-web",
			ClientSecret:  os.Getenv("OIDC_CLIENT_SECRET"),
			RedirectURL:   "https://bookstore.example/api/login/callback/",
			UsernameClaim: "preferred_username",
		},
		JWT: own, DB: db, CreateUsers: true,
	}
	mux := http.NewServeMux()
	mux.Handle("/api/login/", login.StartHandler())
	mux.Handle("/api/login/callback/", login.CallbackHandler())
	_ = authentication.Middleware(oidc)(mux)
}
