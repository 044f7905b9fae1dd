package permissions

import "net/http"

// And grants a request when every permission does, as DRF's `A & B`;
// the object-level check likewise requires every object check. With no
// permissions it grants everything.
func And(perms ...Permission) Permission { return and(perms) }

// Or grants a request when any permission does, as DRF's `A | B`. At
// object level it grants when some permission grants both the request and
// the object (DRF 3.14's OR: `(A.has_permission and A.has_object_permission)
// or (B.has_permission and B.has_object_permission)`), so a permission
// that refused the request cannot grant the object. With no permissions it
// refuses everything.
func Or(perms ...Permission) Permission { return or(perms) }

// Not inverts p at both levels, as DRF's `~A`.
func Not(p Permission) Permission { return not{p} }

type and []Permission

func (a and) HasPermission(r *http.Request) bool {
	for _, p := range a {
		if !p.HasPermission(r) {
			return false
		}
	}
	return true
}

func (a and) HasObjectPermission(r *http.Request, obj any) bool {
	for _, p := range a {
		if !p.HasObjectPermission(r, obj) {
			return false
		}
	}
	return true
}

type or []Permission

func (o or) HasPermission(r *http.Request) bool {
	for _, p := range o {
		if p.HasPermission(r) {
			return true
		}
	}
	return false
}

func (o or) HasObjectPermission(r *http.Request, obj any) bool {
	for _, p := range o {
		if p.HasPermission(r) && p.HasObjectPermission(r, obj) {
			return true
		}
	}
	return false
}

type not struct{ p Permission }

func (n not) HasPermission(r *http.Request) bool { return !n.p.HasPermission(r) }
func (n not) HasObjectPermission(r *http.Request, obj any) bool {
	return !n.p.HasObjectPermission(r, obj)
}
