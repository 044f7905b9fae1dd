package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/openapi"
	"github.com/cosworth/cosworth/pagination"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/views"
)

// The "editors" group: regular users in it may change and delete any book.
const editorsGroup = "editors"

// setupAccounts creates the model permissions of the service's models and
// the editors group, and with demo the editor user in it.
func setupAccounts(ctx context.Context, db *bun.DB, demo bool, logger *slog.Logger) error {
	if err := models.CreatePermissions(ctx, db, (*Author)(nil), (*Book)(nil)); err != nil {
		return err
	}
	if _, err := models.EnsureGroup(ctx, db, editorsGroup, "change_book", "delete_book"); err != nil {
		return fmt.Errorf("editors group: %w", err)
	}
	if !demo {
		return nil
	}
	u, err := models.CreateUser(ctx, db, "editor", "editor-pass-123", false)
	if err != nil {
		var ce *models.ConstraintError
		if errors.As(models.Classify(err), &ce) && ce.Kind == models.Unique {
			return nil // created before
		}
		return fmt.Errorf("create demo user editor: %w", err)
	}
	if err := models.SetUserGroups(ctx, db, u.ID, []string{editorsGroup}); err != nil {
		return err
	}
	logger.Info("demo user created", slog.String("username", u.Username), slog.String("group", editorsGroup))
	return nil
}

// bearerAuth is the service's JWT, or with -oidc-issuer an OpenID Connect
// authenticator that takes the provider's tokens (the user whose username
// is the token's sub, created on first sight; its "groups" claim counts as
// groups) and hands every other bearer token to the JWT.
func bearerAuth(db *bun.DB, own *authentication.JWT, cfg config) authentication.Authenticator {
	if cfg.oidcIssuer == "" {
		return own
	}
	return &authentication.OIDC{
		Issuer:      cfg.oidcIssuer,
		Audience:    cfg.oidcAudience,
		DB:          db,
		CreateUsers: true,
		GroupsClaim: "groups",
		Fallback:    own,
	}
}

// bookWriters may change or delete a book: its owner, staff, or a user
// holding the model permission (the editors group), as
// DjangoModelPermissions; anyone reads.
func bookWriters(db *bun.DB) permissions.Permission {
	return permissions.Or(
		permissions.IsOwnerOrStaffOrReadOnly(bookOwner),
		permissions.ModelPermissions(db, (*Book)(nil)),
	)
}

// passwordChange is the body of POST /api/me/password/.
type passwordChange struct {
	OldPassword string `json:"old_password" validate:"required,max=4096" cosworth:"write_only"`
	NewPassword string `json:"new_password" validate:"required,max=128" cosworth:"write_only"`
}

// revokeRedisTokens returns a function deleting a user's DRF tokens held in
// Redis (with -redis they live there, not in the database, and carry a
// snapshot of the user that a database change does not reach), or one
// doing nothing.
func revokeRedisTokens(auths []authentication.Authenticator) func(context.Context, int64) error {
	for _, a := range auths {
		if rt, ok := a.(*authentication.Redis); ok {
			return rt.RevokeUser
		}
	}
	return func(context.Context, int64) error { return nil }
}

// passwordView changes the caller's password: POST {old_password,
// new_password} -> 204. A wrong old password or a new one refused by
// Django's default validators is a 400 naming the field. Every refresh
// token and DRF token issued before stops working.
func passwordView(db *bun.DB, auths []authentication.Authenticator) *views.APIView {
	revoke := revokeRedisTokens(auths)
	validators := models.DefaultPasswordValidators()
	return &views.APIView{
		Name:        "Password Change",
		Permissions: []permissions.Permission{permissions.IsAuthenticated},
		Post: func(w http.ResponseWriter, r *http.Request) error {
			var in struct {
				Old *string `json:"old_password"`
				New *string `json:"new_password"`
			}
			if err := views.ReadJSON(r, &in); err != nil {
				return err
			}
			ve := &models.ValidationError{}
			missing := false
			if in.Old == nil || *in.Old == "" {
				ve.Add("old_password", "This field is required.")
				missing = true
			}
			if in.New == nil || *in.New == "" {
				ve.Add("new_password", "This field is required.")
				missing = true
			}
			if missing {
				return ve
			}
			p := authentication.PrincipalFrom(r.Context())
			err := models.ChangePassword(r.Context(), db, p.ID, *in.Old, *in.New, validators)
			var pe *models.PasswordError
			if errors.As(err, &pe) {
				for _, m := range pe.Messages {
					ve.Add(pe.Field, m)
				}
				return ve
			}
			if err != nil {
				return err
			}
			if err := revoke(r.Context(), p.ID); err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		},
	}
}

// userAdminOut is a user as staff see it.
type userAdminOut struct {
	ID       int64    `json:"id"`
	Username string   `json:"username"`
	IsStaff  bool     `json:"is_staff"`
	IsActive bool     `json:"is_active"`
	Groups   []string `json:"groups"`
}

func adminOut(u *models.User, groups []string) userAdminOut {
	if groups == nil {
		groups = []string{}
	}
	return userAdminOut{ID: u.ID, Username: u.Username, IsStaff: u.IsStaff, IsActive: u.IsActive, Groups: groups}
}

// usersView lists users for staff: GET /api/users/, 10 a page
// (?page=, ?page_size= up to 100), with their groups (two queries for the
// page, one for the groups of its users).
func usersView(db *bun.DB) *views.APIView {
	pager := pagination.PageNumber{PageSize: 10, MaxPageSize: 100}
	return &views.APIView{
		Name:        "User List",
		Permissions: []permissions.Permission{permissions.IsAdminUser},
		Get: func(w http.ResponseWriter, r *http.Request) error {
			var rows []models.User
			q := db.NewSelect().Model(&rows).Column("id", "username", "is_staff", "is_active").OrderExpr("u.id")
			page, err := views.Paginate(r, db, q, pager, &rows)
			if err != nil {
				return err
			}
			ids := make([]int64, len(rows))
			for i := range rows {
				ids[i] = rows[i].ID
			}
			groups, err := models.UserGroupNames(r.Context(), db, ids)
			if err != nil {
				return err
			}
			out := make([]userAdminOut, len(rows))
			for i := range rows {
				out[i] = adminOut(&rows[i], groups[rows[i].ID])
			}
			results, err := json.Marshal(out)
			if err != nil {
				return err
			}
			body := page.AppendClose(append(page.AppendOpen(nil), results...))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(body)
			return nil
		},
	}
}

// userPatch is the body of PATCH /api/users/{id}/: every member optional.
type userPatch struct {
	IsActive *bool     `json:"is_active"`
	IsStaff  *bool     `json:"is_staff"`
	Groups   *[]string `json:"groups"`
}

// userAdminView lets staff change a user: PATCH /api/users/{id}/
// {is_active, is_staff, groups} -> 200 with the user. A deactivated user's
// tokens are refused from the next request on (the authenticators read
// is_active with the user).
func userAdminView(db *bun.DB, auths []authentication.Authenticator) *views.APIView {
	revoke := revokeRedisTokens(auths)
	return &views.APIView{
		Name:        "User Instance",
		Permissions: []permissions.Permission{permissions.IsAdminUser},
		Patch: func(w http.ResponseWriter, r *http.Request) error {
			id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
			if err != nil || id < 1 {
				return models.ErrNotFound
			}
			var in userPatch
			if err := views.ReadJSON(r, &in); err != nil {
				return err
			}
			ctx := r.Context()
			var out userAdminOut
			err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
				u, err := models.UserByID(ctx, tx, id)
				if err != nil {
					return err
				}
				if in.IsActive != nil || in.IsStaff != nil {
					if in.IsActive != nil {
						u.IsActive = *in.IsActive
					}
					if in.IsStaff != nil {
						u.IsStaff = *in.IsStaff
					}
					if _, err := tx.NewUpdate().Model(u).Column("is_active", "is_staff", "updated_at").WherePK().Exec(ctx); err != nil {
						return err
					}
				}
				if in.Groups != nil {
					if err := models.SetUserGroups(ctx, tx, id, *in.Groups); err != nil {
						if errors.Is(err, models.ErrNotFound) {
							ve := &models.ValidationError{}
							ve.Add("groups", "Object with name="+groupNotFound(ctx, tx, *in.Groups)+" does not exist.")
							return ve
						}
						return err
					}
				}
				groups, err := models.UserGroupNames(ctx, tx, []int64{id})
				if err != nil {
					return err
				}
				out = adminOut(u, groups[id])
				return nil
			})
			if err != nil {
				return err
			}
			if !out.IsActive {
				// Redis tokens hold a snapshot of the user: end them too.
				if err := revoke(ctx, id); err != nil {
					return err
				}
			}
			return views.WriteJSON(w, http.StatusOK, out)
		},
	}
}

// groupNotFound returns the first of names that is not a group.
func groupNotFound(ctx context.Context, db bun.IDB, names []string) string {
	for _, n := range names {
		if ok, err := db.NewSelect().Model((*models.Group)(nil)).Where("name = ?", n).Exists(ctx); err == nil && !ok {
			return n
		}
	}
	return ""
}

// userPage is a page of GET /api/users/.
type userPage struct {
	Count    int64          `json:"count"`
	Next     *string        `json:"next"`
	Previous *string        `json:"previous"`
	Results  []userAdminOut `json:"results"`
}

// accountOperations describes the accounts endpoints in the OpenAPI
// document (they are APIViews, which generation cannot see into).
func accountOperations() map[string]*openapi.Operation {
	bearer := []openapi.SecurityRequirement{{openapi.SchemeJWT: {}}, {openapi.SchemeToken: {}}}
	denied := openapi.ErrorResponse("Not authenticated, or not staff.")
	user := openapi.JSONResponse("The user", openapi.SchemaFor[userAdminOut]())
	return map[string]*openapi.Operation{
		"POST /api/me/password/": {
			Summary: "Change the caller's password; every refresh token and DRF token issued before stops working",
			RequestBody: &openapi.RequestBody{Required: true, Content: map[string]openapi.MediaType{
				"application/json": {Schema: openapi.SchemaFor[passwordChange]()},
			}},
			Responses: map[string]*openapi.Response{
				"204": {Description: "Changed"},
				"400": openapi.ValidationResponse(),
				"401": openapi.ErrorResponse("Not authenticated."),
				"403": openapi.ErrorResponse("Not authenticated."),
			},
			Security: bearer,
		},
		"GET /api/users/": {
			Summary:   "List users (staff only)",
			Responses: map[string]*openapi.Response{"200": openapi.JSONResponse("A page of users", openapi.SchemaFor[userPage]()), "401": denied, "403": denied, "404": openapi.ErrorResponse("Invalid page.")},
			Security:  bearer,
		},
		"PATCH /api/users/{id}/": {
			Summary: "Activate or deactivate a user, set staff and groups (staff only)",
			RequestBody: &openapi.RequestBody{Required: true, Content: map[string]openapi.MediaType{
				"application/json": {Schema: openapi.SchemaFor[userPatch]()},
			}},
			Responses: map[string]*openapi.Response{"200": user, "400": openapi.ValidationResponse(), "401": denied, "403": denied, "404": openapi.ErrorResponse("Not found.")},
			Security:  bearer,
		},
	}
}
