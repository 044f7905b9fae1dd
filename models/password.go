package models

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/uptrace/bun"
)

// PasswordValidator checks a candidate password for user u (which may be
// nil) and returns Django's message for it, or "" when it passes: the
// counterpart of an entry of Django's AUTH_PASSWORD_VALIDATORS.
type PasswordValidator func(password string, u *User) string

// DefaultPasswordValidators are Django's default validators but the
// attribute-similarity one: at least 8 characters, not too common, not
// entirely numeric.
func DefaultPasswordValidators() []PasswordValidator {
	return []PasswordValidator{MinimumLength(8), NotCommon, NotNumeric}
}

// MinimumLength returns Django's MinimumLengthValidator: at least n
// characters (runes).
func MinimumLength(n int) PasswordValidator {
	unit := "characters"
	if n == 1 {
		unit = "character"
	}
	msg := "This password is too short. It must contain at least " + strconv.Itoa(n) + " " + unit + "."
	return func(password string, _ *User) string {
		if len([]rune(password)) < n {
			return msg
		}
		return ""
	}
}

// NotNumeric is Django's NumericPasswordValidator.
func NotNumeric(password string, _ *User) string {
	if password == "" {
		return ""
	}
	for _, r := range password {
		if r < '0' || r > '9' {
			return ""
		}
	}
	return "This password is entirely numeric."
}

//go:embed passwords_common.txt
var commonPasswordList string

var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, 1000)
	for line := range strings.Lines(commonPasswordList) {
		if s := strings.ToLower(strings.TrimSpace(line)); s != "" {
			m[s] = struct{}{}
		}
	}
	return m
})

// NotCommon is Django's CommonPasswordValidator over a shipped list of
// about a thousand of the most common passwords (compared in lower case,
// surrounding space removed, as Django does).
func NotCommon(password string, _ *User) string {
	if _, ok := commonPasswords()[strings.ToLower(strings.TrimSpace(password))]; ok {
		return "This password is too common."
	}
	return ""
}

// ValidatePassword runs every validator on password and returns their
// messages in order (nil when it passes), as Django's validate_password.
func ValidatePassword(password string, u *User, validators []PasswordValidator) []string {
	var msgs []string
	for _, v := range validators {
		if m := v(password, u); m != "" {
			msgs = append(msgs, m)
		}
	}
	return msgs
}

// PasswordError is a refused password change: Field ("old_password" or
// "new_password") with Django's messages.
type PasswordError struct {
	Field    string
	Messages []string
}

// Error returns the first message.
func (e *PasswordError) Error() string {
	return "cosworth/models: " + e.Field + ": " + strings.Join(e.Messages, " ")
}

// MsgPasswordIncorrect is Django's PasswordChangeForm message for a wrong
// old password.
const MsgPasswordIncorrect = "Your old password was entered incorrectly. Please enter it again."

// ChangePassword sets a new password for the user with the given id after
// checking the old one (an argon2id comparison whether or not the user
// exists, so the time taken does not tell) and validating the new one. It
// then raises the user's TokenVersion, which refresh tokens issued before
// carry an older value of, and deletes the user's DRF tokens: every
// credential issued before the change stops working. It returns a
// *PasswordError for a new password longer than PasswordMaxLength
// characters (checked first, as DRF validates fields before the view
// runs), a wrong old password or a refused new one, an error
// wrapping ErrNotFound for an unknown or inactive user.
func ChangePassword(ctx context.Context, db bun.IDB, userID int64, oldPassword, newPassword string, validators []PasswordValidator) error {
	if utf8.RuneCountInString(newPassword) > PasswordMaxLength {
		// The serializer's max_length, checked before anything else.
		return &PasswordError{Field: "new_password", Messages: []string{"Ensure this field has no more than " + strconv.Itoa(PasswordMaxLength) + " characters."}}
	}
	u, err := UserByID(ctx, db, userID)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			_ = checkPassword(dummyHash(), oldPassword)
		}
		return err
	}
	if !u.CheckPassword(oldPassword) {
		return &PasswordError{Field: "old_password", Messages: []string{MsgPasswordIncorrect}}
	}
	if !u.IsActive {
		return fmt.Errorf("%w: inactive user", ErrNotFound)
	}
	if msgs := ValidatePassword(newPassword, u, validators); len(msgs) > 0 {
		return &PasswordError{Field: "new_password", Messages: msgs}
	}
	hash, err := HashPassword(newPassword)
	if err != nil {
		return &PasswordError{Field: "new_password", Messages: []string{"Ensure this field has no more than " + strconv.Itoa(MaxPasswordLength) + " characters."}}
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewUpdate().Model((*User)(nil)).
			Set("password = ?", hash).
			Set("token_version = token_version + 1").
			Set("updated_at = ?", Now()).
			Where("id = ?", userID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("cosworth/models: change password: %w", err)
		}
		return DeleteUserTokens(ctx, tx, userID)
	})
}
