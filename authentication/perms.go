package authentication

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/models"
)

// permCache holds a principal's permissions once loaded in a request, or
// the error that kept them from loading.
type permCache struct {
	set *models.PermissionSet
	err error
}

// Permissions returns the permissions of p (Django's ModelBackend: its
// own, its groups', the groups of Groups, all of them for an active
// superuser), loaded from db with one query on the first call and cached
// on p, so a request costs at most one query whatever the number of checks
// or objects. A principal lives for one request, so the cache does too; p
// must not be shared between goroutines before the first call. A database
// failure is returned (wrapping ErrUnavailable) and remembered for the
// request, so a denial it causes answers 503 (see PermissionsError).
func (p *Principal) Permissions(ctx context.Context, db bun.IDB) (*models.PermissionSet, error) {
	if p.perms != nil {
		return p.perms.set, p.perms.err
	}
	ctx, cancel := lookupContext(ctx, 0)
	defer cancel()
	set, err := models.LoadPermissions(ctx, db, p.ID, p.Groups)
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrUnavailable, err)
		set = nil
	}
	p.perms = &permCache{set: set, err: err}
	return set, err
}

// HasPerm reports whether p holds the permission codename (Django's
// user.has_perm), loading p's permissions as Permissions does. A nil p
// (anonymous) holds none; a database failure holds none.
func (p *Principal) HasPerm(ctx context.Context, db bun.IDB, codename string) bool {
	if p == nil {
		return false
	}
	set, err := p.Permissions(ctx, db)
	return err == nil && set.Has(codename)
}

// PermissionsError returns the error that kept the principal's permissions
// from loading in this request, or nil. A permission denial caused by it
// is answered as the backend failure it is (503), not as a 403.
func PermissionsError(ctx context.Context) error {
	p := PrincipalFrom(ctx)
	if p == nil || p.perms == nil || p.perms.err == nil {
		return nil
	}
	return &UnavailableError{Err: p.perms.err}
}
