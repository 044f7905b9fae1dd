package authentication

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"reflect"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/models"
)

// userLookup finds the user a credential names, once per request: on the
// pgx pool of a PostgreSQL DB opened by models.Open with one query whose
// few columns are scanned into Go values, elsewhere (SQLite, a bun.Tx)
// through models. Through bun and database/sql the same round trip took
// some 75 allocations more.
type userLookup struct {
	db      *bun.DB // set when db has a pgx pool
	byToken string  // the query of byTokenDigest
	byID    string  // the query of byUserID
}

func newUserLookup(idb bun.IDB) userLookup {
	db, ok := idb.(*bun.DB)
	if !ok || models.Pool(db) == nil {
		return userLookup{}
	}
	tokens := string(db.Table(reflect.TypeFor[models.Token]()).SQLName)
	users := string(db.Table(reflect.TypeFor[models.User]()).SQLName)
	return userLookup{
		db: db,
		byToken: "SELECT u.id, u.username, u.is_staff, u.is_active, tok.digest FROM " + tokens +
			" AS tok JOIN " + users + " AS u ON u.id = tok.user_id WHERE tok.digest = $1 LIMIT 1",
		byID: "SELECT u.username, u.is_staff, u.is_active FROM " + users + " AS u WHERE u.id = $1 LIMIT 1",
	}
}

// byTokenKey is models.UserByToken as a principal and whether the user
// is active. An unknown key is an error wrapping models.ErrNotFound.
func (l *userLookup) byTokenKey(ctx context.Context, idb bun.IDB, key string) (*Principal, bool, error) {
	if l.db == nil {
		u, err := models.UserByToken(ctx, idb, key)
		if err != nil {
			return nil, false, err
		}
		return &Principal{ID: u.ID, Username: u.Username, IsStaff: u.IsStaff, Backend: "token"}, u.IsActive, nil
	}
	if len(key) != models.TokenKeyLength {
		return nil, false, fmt.Errorf("%w: token", models.ErrNotFound)
	}
	digest := models.TokenDigest(key)
	p := &Principal{Backend: "token"}
	var active bool
	var stored string
	if err := l.queryRow(ctx, l.byToken, digest, &p.ID, &p.Username, &p.IsStaff, &active, &stored); err != nil {
		return nil, false, err
	}
	// As models.UserByToken: the index compared digests; compare again in
	// constant time so a correct answer never rests on the database's
	// string comparison.
	if subtle.ConstantTimeCompare([]byte(stored), []byte(digest)) != 1 {
		return nil, false, fmt.Errorf("%w: token", models.ErrNotFound)
	}
	return p, active, nil
}

// byUserID fills p's username and staff flag from the user p.ID (as
// models.UserByID) and reports whether the user is active. An unknown id is
// an error wrapping models.ErrNotFound.
func (l *userLookup) byUserID(ctx context.Context, idb bun.IDB, p *Principal) (bool, error) {
	if l.db == nil {
		u, err := models.UserByID(ctx, idb, p.ID)
		if err != nil {
			return false, err
		}
		p.Username, p.IsStaff = u.Username, u.IsStaff
		return u.IsActive, nil
	}
	var active bool
	if err := l.queryRow(ctx, l.byID, p.ID, &p.Username, &p.IsStaff, &active); err != nil {
		return false, err
	}
	return active, nil
}

// queryRow runs query with arg on a pooled connection (waiting at most the
// acquire timeout) and scans its one row into dst; no row is an error
// wrapping models.ErrNotFound.
func (l *userLookup) queryRow(ctx context.Context, query string, arg any, dst ...any) error {
	conn, err := models.Acquire(ctx, l.db)
	if err != nil {
		return err
	}
	defer conn.Release()
	if err := conn.QueryRow(ctx, query, arg).Scan(dst...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: user", models.ErrNotFound)
		}
		return fmt.Errorf("cosworth/authentication: user lookup: %w", err)
	}
	return nil
}
