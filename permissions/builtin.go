package permissions

import (
	"net/http"

	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/authentication"
)

// SafeMethod reports whether method is one of DRF's SAFE_METHODS: GET,
// HEAD or OPTIONS.
func SafeMethod(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// The built-in permissions, as ready values (DRF's permission classes).
// Their types are unexported, so these values cannot be replaced by
// other behaviour.
var (
	// AllowAny grants every request.
	AllowAny = allowAny{}
	// IsAuthenticated grants requests with a principal.
	IsAuthenticated = isAuthenticated{}
	// IsAdminUser grants requests whose principal is staff.
	IsAdminUser = isAdminUser{}
	// IsAuthenticatedOrReadOnly grants safe methods to anyone and other
	// methods to requests with a principal.
	IsAuthenticatedOrReadOnly = isAuthenticatedOrReadOnly{}
)

// anyObject is the object level of a permission with no object-level
// restriction: every object, and so every row, is granted.
type anyObject struct{}

// HasObjectPermission grants every object.
func (anyObject) HasObjectPermission(*http.Request, any) bool { return true }

// RowCondition grants every row.
func (anyObject) RowCondition(*http.Request, *schema.Table) (string, []any, bool) {
	return "", nil, true
}

type allowAny struct{ anyObject }

func (allowAny) HasPermission(*http.Request) bool { return true }

type isAuthenticated struct{ anyObject }

func (isAuthenticated) HasPermission(r *http.Request) bool {
	return authentication.PrincipalFrom(r.Context()) != nil
}

type isAdminUser struct{ anyObject }

func (isAdminUser) HasPermission(r *http.Request) bool {
	p := authentication.PrincipalFrom(r.Context())
	return p != nil && p.IsStaff
}

type isAuthenticatedOrReadOnly struct{ anyObject }

func (isAuthenticatedOrReadOnly) HasPermission(r *http.Request) bool {
	return SafeMethod(r.Method) || authentication.PrincipalFrom(r.Context()) != nil
}

// OwnerOrReadOnly grants safe methods on an object to anyone and other
// methods only to the object's owner (and to staff when Staff is set). It
// has no request-level restriction (combine it with IsAuthenticatedOrReadOnly
// to keep anonymous writes out of list endpoints). The owner is found by
// OwnerID (compared with Principal.ID) or, when OwnerID is nil, by
// OwnerName (compared with Principal.Username). An object that is not a *T
// is refused: a misconfigured view fails closed.
type OwnerOrReadOnly[T any] struct {
	OwnerID   func(*T) int64
	OwnerName func(*T) string
	Staff     bool
}

// IsOwnerOrReadOnly returns an OwnerOrReadOnly that identifies owners by
// id.
func IsOwnerOrReadOnly[T any](ownerID func(*T) int64) OwnerOrReadOnly[T] {
	return OwnerOrReadOnly[T]{OwnerID: ownerID}
}

// IsOwnerOrStaffOrReadOnly returns an OwnerOrReadOnly that identifies
// owners by id and lets staff write too.
func IsOwnerOrStaffOrReadOnly[T any](ownerID func(*T) int64) OwnerOrReadOnly[T] {
	return OwnerOrReadOnly[T]{OwnerID: ownerID, Staff: true}
}

// HasPermission grants every request.
func (OwnerOrReadOnly[T]) HasPermission(*http.Request) bool { return true }

// HasObjectPermission grants safe methods, and others to the owner (or staff).
func (o OwnerOrReadOnly[T]) HasObjectPermission(r *http.Request, obj any) bool {
	if SafeMethod(r.Method) {
		return true
	}
	p := authentication.PrincipalFrom(r.Context())
	if p == nil {
		return false
	}
	if o.Staff && p.IsStaff {
		return true
	}
	v, ok := obj.(*T)
	if !ok || v == nil {
		return false
	}
	switch {
	case o.OwnerID != nil:
		return p.ID != 0 && o.OwnerID(v) == p.ID
	case o.OwnerName != nil:
		return p.Username != "" && o.OwnerName(v) == p.Username
	}
	return false
}
