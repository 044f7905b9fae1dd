package models_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
)

func TestModelName(t *testing.T) {
	for _, c := range []struct {
		in   any
		want string
	}{{(*Book)(nil), "book"}, {Book{}, "book"}, {(*models.User)(nil), "user"}, {nil, ""}} {
		if got := models.ModelName(c.in); got != c.want {
			t.Errorf("ModelName(%T) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestPermissions(t *testing.T) {
	tables := append([]any{(*models.User)(nil)}, models.AuthModels()...)
	for name, open := range dbtest.Dialects(t, tables...) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			ctx := context.Background()
			for range 2 { // idempotent
				dbtest.Must(t, models.CreatePermissions(ctx, db, (*Book)(nil), (*models.User)(nil)), "create permissions")
			}
			n, err := db.NewSelect().Model((*models.Permission)(nil)).Count(ctx)
			dbtest.Must(t, err, "count")
			if n != 8 {
				t.Fatalf("%d permissions, want 8", n)
			}
			if _, err := models.EnsureGroup(ctx, db, "bad", "fly_book"); !errors.Is(err, models.ErrNotFound) {
				t.Fatalf("unknown codename: %v, want ErrNotFound", err)
			}
			editors, err := models.EnsureGroup(ctx, db, "editors", "change_book", "delete_book")
			dbtest.Must(t, err, "editors")
			again, err := models.EnsureGroup(ctx, db, "editors", "change_book")
			dbtest.Must(t, err, "editors again")
			if again.ID != editors.ID {
				t.Fatalf("EnsureGroup created a second group: %d, %d", editors.ID, again.ID)
			}
			_, err = models.EnsureGroup(ctx, db, "viewers", "view_book")
			dbtest.Must(t, err, "viewers")

			ed, _ := models.CreateUser(ctx, db, "ed", "pw-pw-pw-pw", false)
			staff, _ := models.CreateUser(ctx, db, "st", "pw-pw-pw-pw", true)
			root, _ := models.CreateUser(ctx, db, "root", "pw-pw-pw-pw", false)
			_, err = db.NewUpdate().Model(root).Set("is_superuser = ?", true).WherePK().Exec(ctx)
			dbtest.Must(t, err, "superuser")

			if err := models.SetUserGroups(ctx, db, ed.ID, []string{"editors", "nope"}); !errors.Is(err, models.ErrNotFound) {
				t.Fatalf("unknown group: %v", err)
			}
			dbtest.Must(t, models.SetUserGroups(ctx, db, ed.ID, []string{"editors", "viewers"}), "groups")
			dbtest.Must(t, models.GrantUser(ctx, db, ed.ID, "add_book", "change_book"), "grant")

			has := func(id int64, extra []string) *models.PermissionSet {
				t.Helper()
				s, err := models.LoadPermissions(ctx, db, id, extra)
				dbtest.Must(t, err, "load")
				return s
			}
			if got, want := has(ed.ID, nil).Codenames, []string{"add_book", "change_book", "delete_book", "view_book"}; !slices.Equal(got, want) {
				t.Errorf("editor holds %v, want %v", got, want)
			}
			if s := has(staff.ID, nil); s.Superuser || len(s.Codenames) != 0 || s.Has("view_book") {
				t.Errorf("staff without groups holds %+v; is_staff grants nothing in Django", s)
			}
			if s := has(root.ID, nil); !s.Superuser || !s.Has("delete_user") || !s.Has("anything") {
				t.Errorf("superuser holds %+v", s)
			}
			if s := has(staff.ID, []string{"viewers", "ghosts"}); !slices.Equal(s.Codenames, []string{"view_book"}) {
				t.Errorf("extra groups gave %v", s.Codenames)
			}
			if s := has(0, []string{"editors"}); !slices.Equal(s.Codenames, []string{"change_book", "delete_book"}) {
				t.Errorf("no user, extra groups gave %v", s.Codenames)
			}
			groups, err := models.UserGroupNames(ctx, db, []int64{ed.ID, staff.ID})
			dbtest.Must(t, err, "names")
			if !slices.Equal(groups[ed.ID], []string{"editors", "viewers"}) || len(groups[staff.ID]) != 0 {
				t.Errorf("group names %v", groups)
			}

			// Django's ModelBackend: an inactive user, superuser or not, holds nothing.
			_, err = db.NewUpdate().Model((*models.User)(nil)).Set("is_active = ?", false).Where("id IN (?, ?)", ed.ID, root.ID).Exec(ctx)
			dbtest.Must(t, err, "deactivate")
			if s := has(ed.ID, nil); len(s.Codenames) != 0 || s.Superuser {
				t.Errorf("inactive editor holds %+v", s)
			}
			if s := has(root.ID, nil); s.Superuser {
				t.Errorf("inactive superuser holds %+v", s)
			}
			// Replacing groups drops the old ones.
			dbtest.Must(t, models.SetUserGroups(ctx, db, ed.ID, nil), "clear")
			groups, _ = models.UserGroupNames(ctx, db, []int64{ed.ID})
			if len(groups[ed.ID]) != 0 {
				t.Errorf("groups after clear: %v", groups)
			}
		})
	}
}
