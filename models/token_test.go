package models_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
)

func TestTokenStoredHashed(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Postgres(t)
	authTables(t, db)
	alice, err := models.CreateUser(ctx, db, "alice", "alice-pass-123", false)
	dbtest.Must(t, err, "create user")

	tok, key, err := models.NewToken(ctx, db, alice.ID)
	dbtest.Must(t, err, "new token")
	if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(key) {
		t.Fatalf("key %q is not 40 hex digits", key)
	}
	_, key2, err := models.NewToken(ctx, db, alice.ID)
	dbtest.Must(t, err, "second token")
	if key2 == key {
		t.Fatal("two tokens share a key")
	}

	// What the database holds is the digest, never the key.
	var stored []string
	dbtest.Must(t, db.NewRaw("SELECT digest FROM auth_tokens").Scan(ctx, &stored), "read digests")
	var dump string
	dbtest.Must(t, db.NewRaw("SELECT string_agg(t::text, '|') FROM auth_tokens AS t").Scan(ctx, &dump), "dump rows")
	if len(stored) != 2 || strings.Contains(dump, key) || strings.Contains(dump, key2) {
		t.Fatalf("token rows %q contain a key", dump)
	}
	if tok.Digest != models.TokenDigest(key) || len(tok.Digest) != 64 {
		t.Fatalf("digest %q", tok.Digest)
	}

	u, err := models.UserByToken(ctx, db, key)
	if err != nil || u.ID != alice.ID || u.Username != "alice" || !u.IsActive {
		t.Fatalf("UserByToken = %+v, %v", u, err)
	}
	for _, bad := range []string{"", key[:39], key + "0", strings.ToUpper(key), tok.Digest, models.NewTokenKey()} {
		if _, err := models.UserByToken(ctx, db, bad); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("UserByToken(%q) = %v, want ErrNotFound", bad, err)
		}
	}

	// Inactive users are returned, for the caller to refuse.
	_, err = db.NewUpdate().Model(alice).Set("is_active = ?", false).WherePK().Exec(ctx)
	dbtest.Must(t, err, "deactivate")
	if u, err := models.UserByToken(ctx, db, key); err != nil || u.IsActive {
		t.Fatalf("inactive user: %+v, %v", u, err)
	}

	dbtest.Must(t, models.DeleteToken(ctx, db, key), "delete token")
	if _, err := models.UserByToken(ctx, db, key); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("deleted token still works: %v", err)
	}
	if _, err := models.UserByToken(ctx, db, key2); err != nil {
		t.Fatalf("other token lost: %v", err)
	}
	dbtest.Must(t, models.DeleteUserTokens(ctx, db, alice.ID), "delete user tokens")
	if _, err := models.UserByToken(ctx, db, key2); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("token survived DeleteUserTokens: %v", err)
	}

	// Deleting the user deletes its tokens.
	_, _, err = models.NewToken(ctx, db, alice.ID)
	dbtest.Must(t, err, "third token")
	_, err = db.NewDelete().Model(alice).WherePK().Exec(ctx)
	dbtest.Must(t, err, "delete user")
	var n int
	dbtest.Must(t, db.NewRaw("SELECT count(*) FROM auth_tokens").Scan(ctx, &n), "count")
	if n != 0 {
		t.Fatalf("%d tokens left after the user was deleted", n)
	}
}

func TestTokenSQLite(t *testing.T) {
	ctx := context.Background()
	db := dbtest.SQLite(t)
	authTables(t, db)
	alice, err := models.CreateUser(ctx, db, "alice", "alice-pass-123", true)
	dbtest.Must(t, err, "create user")
	_, key, err := models.NewToken(ctx, db, alice.ID)
	dbtest.Must(t, err, "new token")
	u, err := models.UserByToken(ctx, db, key)
	if err != nil || u.ID != alice.ID || !u.IsStaff {
		t.Fatalf("UserByToken = %+v, %v", u, err)
	}
}
