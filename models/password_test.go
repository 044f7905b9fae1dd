package models_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
)

func TestPasswordValidators(t *testing.T) {
	v := models.DefaultPasswordValidators()
	for _, c := range []struct {
		pw   string
		want []string
	}{
		{"a-good-new-secret", nil},
		{"short", []string{"This password is too short. It must contain at least 8 characters."}},
		{"12345678", []string{"This password is too common.", "This password is entirely numeric."}},
		{"  PassWord ", []string{"This password is too common."}},
		{"93812740192", []string{"This password is entirely numeric."}},
		{"ééééééé", []string{"This password is too short. It must contain at least 8 characters."}}, // runes, not bytes
	} {
		if got := models.ValidatePassword(c.pw, nil, v); !slices.Equal(got, c.want) {
			t.Errorf("ValidatePassword(%q) = %q, want %q", c.pw, got, c.want)
		}
	}
	if got := models.MinimumLength(1)("", nil); got != "This password is too short. It must contain at least 1 character." {
		t.Errorf("MinimumLength(1): %q", got)
	}
}

func TestChangePassword(t *testing.T) {
	for name, open := range dbtest.Dialects(t, (*models.User)(nil), (*models.Token)(nil)) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			ctx := context.Background()
			u, err := models.CreateUser(ctx, db, "ann", "old-pass-123", false)
			dbtest.Must(t, err, "user")
			_, _, err = models.NewToken(ctx, db, u.ID)
			dbtest.Must(t, err, "token")
			v := models.DefaultPasswordValidators()
			var pe *models.PasswordError
			if err := models.ChangePassword(ctx, db, u.ID, "wrong", "a-good-new-secret", v); !errors.As(err, &pe) || pe.Field != "old_password" {
				t.Fatalf("wrong old password: %v", err)
			}
			if err := models.ChangePassword(ctx, db, u.ID, "old-pass-123", "qwerty", v); !errors.As(err, &pe) || pe.Field != "new_password" || len(pe.Messages) != 2 {
				t.Fatalf("weak new password: %v", err)
			}
			// Django's password max_length (128 characters, not bytes), before the old password is checked.
			if err := models.ChangePassword(ctx, db, u.ID, "wrong", strings.Repeat("é", 129), v); !errors.As(err, &pe) || pe.Field != "new_password" ||
				len(pe.Messages) != 1 || pe.Messages[0] != "Ensure this field has no more than 128 characters." {
				t.Fatalf("new password of 129 characters: %v", err)
			}
			if err := models.ChangePassword(ctx, db, u.ID, "wrong", strings.Repeat("é", 128), v); !errors.As(err, &pe) || pe.Field != "old_password" {
				t.Fatalf("new password of 128 characters: %v", err)
			}
			if err := models.ChangePassword(ctx, db, 999, "old-pass-123", "a-good-new-secret", v); !errors.Is(err, models.ErrNotFound) {
				t.Fatalf("unknown user: %v", err)
			}
			got, _ := models.UserByID(ctx, db, u.ID)
			if got.TokenVersion != 0 || !got.CheckPassword("old-pass-123") {
				t.Fatal("a refused change changed the user")
			}
			dbtest.Must(t, models.ChangePassword(ctx, db, u.ID, "old-pass-123", "a-good-new-secret", v), "change")
			got, _ = models.UserByID(ctx, db, u.ID)
			if got.TokenVersion != 1 || !got.CheckPassword("a-good-new-secret") || got.CheckPassword("old-pass-123") {
				t.Fatalf("after the change: version %d", got.TokenVersion)
			}
			if n, _ := db.NewSelect().Model((*models.Token)(nil)).Where("user_id = ?", u.ID).Count(ctx); n != 0 {
				t.Fatalf("%d DRF tokens left after the change", n)
			}
		})
	}
}
