package openapi

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/drfmsg"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/views"
)

// Names of the derived security schemes (drf-spectacular's).
const (
	SchemeJWT   = "jwtAuth"
	SchemeToken = "tokenAuth"
	SchemeBasic = "basicAuth"
)

// JWTScheme is the security scheme of authentication.JWT: a bearer token.
func JWTScheme() *SecurityScheme {
	return &SecurityScheme{Type: "http", Scheme: "bearer", BearerFormat: "JWT"}
}

// TokenScheme is the security scheme of DRF's token authentication: the
// header `Authorization: Token <key>`.
func TokenScheme() *SecurityScheme {
	return &SecurityScheme{Type: "apiKey", In: "header", Name: "Authorization",
		Description: `Token-based authentication with required prefix "Token"`}
}

// securitySchemes derives the document's schemes from cfg.
func (g *generator) securitySchemes() {
	schemes := g.doc.Components.SecuritySchemes
	for _, a := range g.cfg.Authenticators {
		if s, ok := a.(SecuritySchemer); ok {
			if name, scheme := s.OpenAPISecurityScheme(); name != "" && scheme != nil {
				schemes[name] = scheme
			}
			continue
		}
		if _, ok := a.(*authentication.JWT); ok {
			schemes[SchemeJWT] = JWTScheme()
			continue
		}
		c, ok := a.(authentication.Challenger)
		if !ok {
			continue
		}
		word, _, _ := strings.Cut(strings.TrimSpace(c.Challenge()), " ")
		switch strings.ToLower(word) {
		case "":
		case "bearer":
			schemes["bearerAuth"] = &SecurityScheme{Type: "http", Scheme: "bearer"}
		case "basic":
			schemes[SchemeBasic] = &SecurityScheme{Type: "http", Scheme: "basic"}
		case "token":
			schemes[SchemeToken] = TokenScheme()
		default:
			// DRF's TokenAuthentication with another keyword.
			s := TokenScheme()
			s.Description = `Token-based authentication with required prefix "` + word + `"`
			schemes[strings.ToLower(word)+"Auth"] = s
		}
	}
	for name, s := range g.cfg.SecuritySchemes {
		schemes[name] = s
	}
	g.schemes = sortedKeys(schemes)
}

// probe runs the request-level checks of perms for method on synthetic
// requests: anonymous, a regular user and a staff user. Permissions are
// plain functions of the request; one that needs more than the method and
// the principal (and panics without it) makes the result unknown.
func probe(perms []permissions.Permission, method, path string) (anon, user, staff bool, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	check := func(p *authentication.Principal) bool {
		r := &http.Request{
			Method:     method,
			URL:        &url.URL{Path: path},
			Host:       "openapi.invalid",
			Header:     http.Header{},
			Proto:      "HTTP/1.1",
			ProtoMajor: 1,
			ProtoMinor: 1,
		}
		r = r.WithContext(authentication.WithPrincipal(context.Background(), p))
		return permissions.Check(r, perms) == nil
	}
	anon = check(nil)
	user = check(&authentication.Principal{ID: -1, Username: "openapi-probe", Backend: "openapi"})
	staff = check(&authentication.Principal{ID: -2, Username: "openapi-probe-staff", IsStaff: true, Backend: "openapi"})
	return anon, user, staff, true
}

// security sets the security requirements of op and the 401 and 403
// responses its permissions can produce.
func (g *generator) security(op *Operation, info *views.Info, method, path string) {
	anon, user, staff, ok := probe(info.Permissions, method, path)
	required := ok && !anon
	if len(g.schemes) > 0 {
		for _, name := range g.schemes {
			op.Security = append(op.Security, SecurityRequirement{name: []string{}})
		}
		if !required {
			op.Security = append(op.Security, SecurityRequirement{})
		}
		// Rejected credentials are a 401 whatever the permissions.
		op.Responses["401"] = responseUnauthorized(required)
	}
	// 403: an authenticated caller can be refused by a request-level check,
	// or, on a detail view, by an object-level one.
	refusable := !ok || !user || !staff || (info.Detail && len(info.Permissions) > 0)
	if len(g.schemes) == 0 && (!ok || !anon) {
		refusable = true // without authenticators a refusal is always 403
	}
	if refusable {
		op.Responses["403"] = responseDetail(`Permission denied: {"detail": "` + drfmsg.PermissionDenied + `"}`)
	}
	if required && len(g.schemes) > 0 {
		op.Description = strings.TrimSpace(op.Description + " Requires authentication.")
		if !user && staff {
			op.Description = strings.TrimSpace(strings.TrimSuffix(op.Description, "Requires authentication.") + " Requires a staff user.")
		}
	}
}
