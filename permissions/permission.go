// Package permissions decides whether a request may proceed, the way DRF's
// permission classes do: a request-level check before any work and an
// object-level check on the object a detail view loaded. An
// unauthenticated request that is denied gets 401 (with the
// WWW-Authenticate challenge of the first authenticator) and an
// authenticated one 403, as in DRF.
package permissions

import (
	"net/http"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/drfmsg"
)

// Permission grants or denies a request. HasPermission runs for every
// request; HasObjectPermission runs on detail views with the loaded object
// (a *T for a view over T).
type Permission interface {
	HasPermission(r *http.Request) bool
	HasObjectPermission(r *http.Request, obj any) bool
}

// Messager is implemented by a Permission with its own denial message
// (DRF's `message` attribute).
type Messager interface {
	Message() string
}

// DeniedError is a request refused by a permission.
type DeniedError struct {
	// NotAuthenticated is set when the request carried no accepted
	// credentials; it then answers 401 when Challenge is set.
	NotAuthenticated bool
	Challenge        string
	Message          string
}

// Standard messages (DRF's).
const (
	MsgNotAuthenticated = drfmsg.NotAuthenticated
	MsgDenied           = drfmsg.PermissionDenied
)

// Error returns Message.
func (d *DeniedError) Error() string { return d.Message }

// StatusCode is 401 for an unauthenticated request when a challenge exists, else 403.
func (d *DeniedError) StatusCode() int {
	if d.NotAuthenticated && d.Challenge != "" {
		return http.StatusUnauthorized
	}
	return http.StatusForbidden
}

// SetHeaders sets WWW-Authenticate on a 401.
func (d *DeniedError) SetHeaders(h http.Header) {
	if d.NotAuthenticated && d.Challenge != "" {
		h["Www-Authenticate"] = []string{d.Challenge} // h.Set's canonical key, without its allocation
	}
}

// Check runs the request-level check of every permission and returns a
// *DeniedError for the first that refuses, or nil.
func Check(r *http.Request, perms []Permission) error {
	for _, p := range perms {
		if !p.HasPermission(r) {
			return deny(r, p)
		}
	}
	return nil
}

// CheckObject runs the object-level check of every permission on obj and
// returns a *DeniedError for the first that refuses, or nil.
func CheckObject(r *http.Request, perms []Permission, obj any) error {
	for _, p := range perms {
		if !p.HasObjectPermission(r, obj) {
			return deny(r, p)
		}
	}
	return nil
}

// deny is DRF's APIView.permission_denied: when authenticators are
// configured and none accepted the request, it is NotAuthenticated (401
// with the first authenticator's challenge, or 403 when it has none, both
// with "Authentication credentials were not provided."); otherwise it is
// PermissionDenied (403) with the permission's message. With no
// authenticators at all, an anonymous request gets the 403 too.
func deny(r *http.Request, p Permission) error {
	ctx := r.Context()
	if err := authentication.PermissionsError(ctx); err != nil {
		return err // the permissions could not be loaded: 503, not 403
	}
	if authentication.PrincipalFrom(ctx) == nil && authentication.HasAuthenticators(ctx) {
		return &DeniedError{NotAuthenticated: true, Challenge: authentication.Challenge(ctx), Message: MsgNotAuthenticated}
	}
	msg := MsgDenied
	if m, ok := p.(Messager); ok {
		if s := m.Message(); s != "" {
			msg = s
		}
	}
	return &DeniedError{Message: msg}
}
