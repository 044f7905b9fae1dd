package permissions

import (
	"net/http"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/models"
)

// ModelPerms is the permission ModelPermissions returns: DRF's
// DjangoModelPermissions for one model.
type ModelPerms struct {
	db                        bun.IDB
	add, change, delete, view string
	needView, anonRead        bool
}

// ModelPermissions returns DRF's DjangoModelPermissions for model (a
// pointer to a zero struct, e.g. (*Book)(nil)), whose permissions are read
// from db: the request must be authenticated, and POST needs
// "add_<model>", PUT and PATCH "change_<model>", DELETE "delete_<model>"
// (<model> is models.ModelName: "book"). GET, HEAD and OPTIONS need
// nothing more unless WithView is used. There is no object-level
// restriction, as in DRF: the check is made once per request, never per
// object.
//
// Permissions are Django's: an active superuser holds all of them; is_staff
// grants none by itself; a user holds its own and its groups'. They are
// loaded with one query the first time a request needs them
// (authentication.Principal.Permissions) and a failure to load them answers
// 503.
func ModelPermissions(db bun.IDB, model any) ModelPerms {
	name := models.ModelName(model)
	if db == nil || name == "" {
		panic("cosworth/permissions: ModelPermissions needs a DB and a model such as (*Book)(nil)")
	}
	return ModelPerms{db: db, add: "add_" + name, change: "change_" + name, delete: "delete_" + name, view: "view_" + name}
}

// WithView returns m requiring "view_<model>" for GET and HEAD too (DRF's
// usual perms_map override); OPTIONS still needs nothing.
func (m ModelPerms) WithView() ModelPerms {
	m.needView = true
	return m
}

// AnonReadOnly returns m letting anonymous requests read (GET, HEAD,
// OPTIONS): DRF's DjangoModelPermissionsOrAnonReadOnly.
func (m ModelPerms) AnonReadOnly() ModelPerms {
	m.anonRead = true
	return m
}

// HasPermission grants an authenticated request whose principal holds the
// method's permission; an anonymous request is refused, even a GET (DRF's
// authenticated_users_only) unless AnonReadOnly is used. An unknown method
// is refused.
func (m ModelPerms) HasPermission(r *http.Request) bool {
	p := authentication.PrincipalFrom(r.Context())
	if p == nil {
		return m.anonRead && SafeMethod(r.Method)
	}
	var code string
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if !m.needView {
			return true
		}
		code = m.view
	case http.MethodOptions:
		return true
	case http.MethodPost:
		code = m.add
	case http.MethodPut, http.MethodPatch:
		code = m.change
	case http.MethodDelete:
		code = m.delete
	default:
		return false
	}
	return p.HasPerm(r.Context(), m.db, code)
}

// HasObjectPermission grants every object (DjangoModelPermissions has no
// object-level check).
func (ModelPerms) HasObjectPermission(*http.Request, any) bool { return true }

// HasPerm returns a Permission granting authenticated requests whose
// principal holds every one of the codenames (Django's user.has_perms),
// for actions and views that are not about one model's CRUD:
//
//	Permissions: []permissions.Permission{permissions.HasPerm(db, "discount_book")}
//
// Permissions are loaded as ModelPermissions loads them.
func HasPerm(db bun.IDB, codenames ...string) Permission {
	if db == nil {
		panic("cosworth/permissions: HasPerm needs a DB")
	}
	return hasPerm{db: db, codes: codenames}
}

type hasPerm struct {
	anyObject
	db    bun.IDB
	codes []string
}

func (h hasPerm) HasPermission(r *http.Request) bool {
	p := authentication.PrincipalFrom(r.Context())
	if p == nil {
		return false
	}
	for _, c := range h.codes {
		if !p.HasPerm(r.Context(), h.db, c) {
			return false
		}
	}
	return true
}
