package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/serializers"
	"github.com/cosworth/cosworth/views"
)

// registration is the body of POST /api/register/, decoded and checked by
// a serializer (it is not a table). Both fields lose surrounding
// whitespace, as DRF's CharField does by default (and simplejwt's password
// field, so the password registered is the one /api/token/ checks).
type registration struct {
	Username string `json:"username" validate:"required,max=150"`
	Password string `json:"password" validate:"required,max=128" cosworth:"write_only"` // models.PasswordMaxLength, Django's
}

// userOut is the representation of a user: {id, username, is_staff}.
type userOut struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
	IsStaff  bool   `json:"is_staff"`
}

// msgUsernameTaken is Django's message for a duplicate username.
const msgUsernameTaken = "A user with that username already exists."

// registerView creates regular users: POST {username, password} -> 201
// {id, username, is_staff}. The password is stored hashed (argon2id);
// is_staff in the body is ignored, like any unknown field.
func registerView(db *bun.DB) *views.APIView {
	ser := &serializers.Serializer[registration]{}
	return &views.APIView{
		Name: "Register",
		Post: func(w http.ResponseWriter, r *http.Request) error {
			// ReadJSON applies the views' body rules (415, 413, JSON parse
			// error); the serializer then gives DRF's field messages.
			var body json.RawMessage
			if err := views.ReadJSON(r, &body); err != nil {
				return err
			}
			var in registration
			if err := ser.Decode(r.Context(), body, &in, serializers.Create); err != nil {
				return err
			}
			if !validUsername(in.Username) {
				return usernameError("Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.")
			}
			u, err := models.CreateUser(r.Context(), db, in.Username, in.Password, false)
			if err != nil {
				var ce *models.ConstraintError
				if errors.As(models.Classify(err), &ce) && ce.Kind == models.Unique {
					return usernameError(msgUsernameTaken)
				}
				return err
			}
			return views.WriteJSON(w, http.StatusCreated, userOut{ID: u.ID, Username: u.Username, IsStaff: u.IsStaff})
		},
	}
}

func usernameError(msg string) error {
	ve := &models.ValidationError{}
	ve.Add("username", msg)
	return ve
}

// validUsername applies Django's username rule: letters, digits and
// @ . + - _ only.
func validUsername(s string) bool {
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '@' || c == '.' || c == '+' || c == '-' || c == '_':
		case c > 127: // Django's \w is Unicode-aware
		default:
			return false
		}
	}
	return true
}

// meView answers GET /api/me/ with the caller: {id, username, is_staff}.
func meView() *views.APIView {
	return &views.APIView{
		Name:        "Me",
		Permissions: []permissions.Permission{permissions.IsAuthenticated},
		Get: func(w http.ResponseWriter, r *http.Request) error {
			p := authentication.PrincipalFrom(r.Context())
			return views.WriteJSON(w, http.StatusOK, userOut{ID: p.ID, Username: p.Username, IsStaff: p.IsStaff})
		},
	}
}

// demoUsers are created by -demo when they do not exist.
var demoUsers = []struct {
	username, password string
	staff              bool
}{
	{"alice", "alice-pass-123", false},
	{"bob", "bob-pass-123", false},
	{"admin", "admin-pass-123", true},
}

// createDemoUsers creates the demo users that do not exist yet.
func createDemoUsers(ctx context.Context, db *bun.DB, logger *slog.Logger) error {
	var existing []string
	names := make([]string, len(demoUsers))
	for i, u := range demoUsers {
		names[i] = u.username
	}
	if err := db.NewSelect().Model((*models.User)(nil)).Column("username").
		Where("username IN (?)", bun.List(names)).Scan(ctx, &existing); err != nil {
		return fmt.Errorf("look up demo users: %w", err)
	}
	for _, u := range demoUsers {
		if slices.Contains(existing, u.username) {
			continue
		}
		if _, err := models.CreateUser(ctx, db, u.username, u.password, u.staff); err != nil {
			var ce *models.ConstraintError
			if errors.As(models.Classify(err), &ce) && ce.Kind == models.Unique {
				continue // another instance created it meanwhile
			}
			return fmt.Errorf("create demo user %s: %w", u.username, err)
		}
		logger.Info("demo user created", slog.String("username", u.username), slog.Bool("is_staff", u.staff))
	}
	return nil
}
