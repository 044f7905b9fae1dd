package models_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"golang.org/x/crypto/bcrypt"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
)

// authTables creates the users and auth_tokens tables with bun directly, so
// these tests do not depend on CreateTables.
func authTables(t *testing.T, db *bun.DB) {
	t.Helper()
	ctx := context.Background()
	for _, m := range []any{(*models.User)(nil), (*models.Token)(nil)} {
		if _, err := db.NewCreateTable().Model(m).IfNotExists().WithForeignKeys().Exec(ctx); err != nil {
			t.Fatalf("create table %T: %v", m, err)
		}
	}
}

func TestPasswordHash(t *testing.T) {
	u := &models.User{}
	if err := u.SetPassword("correct horse"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.Password, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not argon2id in PHC form", u.Password)
	}
	if strings.Contains(u.Password, "correct horse") {
		t.Fatal("hash contains the password")
	}
	if !u.CheckPassword("correct horse") {
		t.Error("right password refused")
	}
	for _, wrong := range []string{"", "correct hors", "correct horse ", "Correct horse"} {
		if u.CheckPassword(wrong) {
			t.Errorf("wrong password %q accepted", wrong)
		}
	}
	other := &models.User{}
	_ = other.SetPassword("correct horse")
	if other.Password == u.Password {
		t.Error("two hashes of one password are equal: salt not random")
	}
	if err := u.SetPassword(strings.Repeat("x", models.MaxPasswordLength+1)); !errors.Is(err, models.ErrPasswordTooLong) {
		t.Errorf("over-long password: %v, want models.ErrPasswordTooLong", err)
	}
	if u.CheckPassword(strings.Repeat("x", models.MaxPasswordLength+1)) {
		t.Error("over-long password accepted")
	}
}

func TestPasswordHashTampered(t *testing.T) {
	good, _ := models.HashPassword("pw")
	parts := strings.Split(good, "$")
	for name, enc := range map[string]string{
		"empty":        "",
		"plain":        "pw",
		"huge memory":  strings.Join([]string{"", "argon2id", "v=19", "m=99999999,t=2,p=1", parts[4], parts[5]}, "$"),
		"huge time":    strings.Join([]string{"", "argon2id", "v=19", "m=19456,t=999,p=1", parts[4], parts[5]}, "$"),
		"argon2i":      strings.Join([]string{"", "argon2i", "v=19", parts[3], parts[4], parts[5]}, "$"),
		"short hash":   strings.Join([]string{"", "argon2id", "v=19", parts[3], parts[4], "AAAA"}, "$"),
		"extra params": strings.Join([]string{"", "argon2id", "v=19", parts[3] + ",x=1", parts[4], parts[5]}, "$"),
	} {
		if (&models.User{Password: enc}).CheckPassword("pw") {
			t.Errorf("%s: hash %q accepted", name, enc)
		}
	}
	// bcrypt hashes (imported accounts) are understood.
	b, err := bcrypt.GenerateFromPassword([]byte("legacy"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if !(&models.User{Password: string(b)}).CheckPassword("legacy") || (&models.User{Password: string(b)}).CheckPassword("other") {
		t.Error("bcrypt hash not checked correctly")
	}
}

func TestUserJSONHidesPassword(t *testing.T) {
	u, err := models.NewUser("alice", "secret-pass")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "password") || strings.Contains(string(b), "argon2") {
		t.Fatalf("password serialized: %s", b)
	}
	var in models.User
	if err := json.Unmarshal([]byte(`{"username":"x","password":"plain"}`), &in); err != nil {
		t.Fatal(err)
	}
	if in.Password != "" {
		t.Fatal("password read from JSON")
	}
}

func TestAuthenticateUser(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Postgres(t)
	authTables(t, db)
	alice, err := models.CreateUser(ctx, db, "alice", "alice-pass-123", false)
	if err != nil {
		t.Fatal(err)
	}
	if alice.ID == 0 || !alice.IsActive || alice.IsStaff {
		t.Fatalf("created user %+v", alice)
	}
	ghost, err := models.CreateUser(ctx, db, "ghost", "ghost-pass-123", true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.NewUpdate().Model(ghost).Set("is_active = ?", false).WherePK().Exec(ctx); err != nil {
		t.Fatal(err)
	}

	u, err := models.AuthenticateUser(ctx, db, "alice", "alice-pass-123")
	if err != nil || u.ID != alice.ID || u.Username != "alice" {
		t.Fatalf("AuthenticateUser(alice) = %+v, %v", u, err)
	}
	for _, c := range []struct{ name, user, pass string }{
		{"wrong password", "alice", "alice-pass-124"},
		{"unknown user", "nobody", "alice-pass-123"},
		{"inactive user", "ghost", "ghost-pass-123"},
		{"case differs", "Alice", "alice-pass-123"},
	} {
		before := models.PasswordChecks()
		u, err := models.AuthenticateUser(ctx, db, c.user, c.pass)
		if !errors.Is(err, models.ErrNotFound) || u != nil {
			t.Errorf("%s: %+v, %v; want models.ErrNotFound", c.name, u, err)
		}
		// Every path, including an unknown username, compares one hash.
		if n := models.PasswordChecks() - before; n != 1 {
			t.Errorf("%s: %d password comparisons, want 1", c.name, n)
		}
	}

	got, err := models.UserByID(ctx, db, alice.ID)
	if err != nil || got.Username != "alice" || !got.CreatedAt.Equal(alice.CreatedAt) {
		t.Fatalf("UserByID = %+v, %v", got, err)
	}
	if _, err := models.UserByID(ctx, db, 999999); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("UserByID(missing) = %v, want models.ErrNotFound", err)
	}
	if _, err := models.CreateUser(ctx, db, "alice", "x", false); err == nil {
		t.Fatal("duplicate username accepted")
	}
}

func TestAuthenticateUserCanceled(t *testing.T) {
	db := dbtest.Postgres(t)
	authTables(t, db)
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	time.Sleep(time.Millisecond)
	if _, err := models.AuthenticateUser(ctx, db, "alice", "x"); err == nil || errors.Is(err, models.ErrNotFound) {
		t.Fatalf("canceled lookup: %v, want a database error (not models.ErrNotFound)", err)
	}
}

func BenchmarkCheckPassword(b *testing.B) {
	u, _ := models.NewUser("bench", "bench-pass-123")
	b.ReportAllocs()
	for b.Loop() {
		if !u.CheckPassword("bench-pass-123") {
			b.Fatal("mismatch")
		}
	}
}
