package models_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
)

// TestPrincipalLookup finds principals by token key and by user id on
// both engines (PostgreSQL's pgx pool, SQLite through bun) with the same
// answers.
func TestPrincipalLookup(t *testing.T) {
	for name, open := range dbtest.Dialects(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t)
			authTables(t, db)
			alice, err := models.CreateUser(ctx, db, "alice", "alice-pass-123", true)
			dbtest.Must(t, err, "create alice")
			bob, err := models.CreateUser(ctx, db, "bob", "bob-pass-1234", false)
			dbtest.Must(t, err, "create bob")
			_, err = db.NewUpdate().Model(bob).Set("is_active = ?", false).WherePK().Exec(ctx)
			dbtest.Must(t, err, "deactivate bob")
			_, aliceKey, err := models.NewToken(ctx, db, alice.ID)
			dbtest.Must(t, err, "alice's token")
			_, bobKey, err := models.NewToken(ctx, db, bob.ID)
			dbtest.Must(t, err, "bob's token")

			l := models.NewPrincipalLookup(db)
			var p models.Principal
			dbtest.Must(t, l.ByToken(ctx, aliceKey, &p), "alice by token")
			if want := (models.Principal{ID: alice.ID, Username: "alice", IsStaff: true, IsActive: true}); p != want {
				t.Errorf("alice by token: %+v, want %+v", p, want)
			}
			p = models.Principal{}
			dbtest.Must(t, l.ByToken(ctx, bobKey, &p), "bob by token")
			if want := (models.Principal{ID: bob.ID, Username: "bob"}); p != want {
				t.Errorf("bob by token (inactive users are returned): %+v, want %+v", p, want)
			}
			p = models.Principal{ID: alice.ID}
			dbtest.Must(t, l.ByID(ctx, &p), "alice by id")
			if want := (models.Principal{ID: alice.ID, Username: "alice", IsStaff: true, IsActive: true}); p != want {
				t.Errorf("alice by id: %+v, want %+v", p, want)
			}
			for what, err := range map[string]error{
				"an unknown key":         l.ByToken(ctx, "0123456789abcdef0123456789abcdef01234567", &p),
				"a key of another shape": l.ByToken(ctx, "short", &p),
				"an unknown id":          l.ByID(ctx, &models.Principal{ID: 999999}),
			} {
				if !errors.Is(err, models.ErrNotFound) {
					t.Errorf("%s: %v, want an error wrapping ErrNotFound", what, err)
				}
			}
		})
	}
}
