package models

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/uptrace/bun"
)

// Group is a named set of permissions, Django's auth Group: a user in a
// group holds every permission of the group.
type Group struct {
	bun.BaseModel `bun:"table:auth_groups,alias:grp"`
	ID            int64  `bun:"id,pk,autoincrement" json:"id"`
	Name          string `bun:"name,notnull,unique" json:"name" validate:"required,max=150"`
}

// Permission is a named right, Django's auth Permission. Codenames of model
// permissions are "add_<model>", "change_<model>", "delete_<model>" and
// "view_<model>", <model> being ModelName of the model; CreatePermissions
// creates them. Unlike Django there are no app labels: a codename is
// unique on its own.
type Permission struct {
	bun.BaseModel `bun:"table:auth_permissions,alias:perm"`
	ID            int64  `bun:"id,pk,autoincrement" json:"id"`
	Codename      string `bun:"codename,notnull,unique" json:"codename"`
	Name          string `bun:"name,notnull" json:"name"`
	Model         string `bun:"model,notnull" json:"model"`
}

// GroupPermission grants a permission to a group (Django's
// Group.permissions).
type GroupPermission struct {
	bun.BaseModel `bun:"table:auth_group_permissions"`
	GroupID       int64 `bun:"group_id,pk"`
	PermissionID  int64 `bun:"permission_id,pk"`
}

// References declares the foreign keys of GroupPermission for CreateTables.
func (*GroupPermission) References() []Reference {
	return []Reference{
		{Column: "group_id", Table: "auth_groups", OnDelete: "CASCADE"},
		{Column: "permission_id", Table: "auth_permissions", OnDelete: "CASCADE"},
	}
}

// UserGroup puts a user in a group (Django's User.groups).
type UserGroup struct {
	bun.BaseModel `bun:"table:auth_user_groups"`
	UserID        int64 `bun:"user_id,pk"`
	GroupID       int64 `bun:"group_id,pk"`
}

// References declares the foreign keys of UserGroup for CreateTables.
func (*UserGroup) References() []Reference {
	return []Reference{
		{Column: "user_id", Table: "users", OnDelete: "CASCADE"},
		{Column: "group_id", Table: "auth_groups", OnDelete: "CASCADE"},
	}
}

// UserPermission grants a permission to a user directly (Django's
// User.user_permissions).
type UserPermission struct {
	bun.BaseModel `bun:"table:auth_user_permissions"`
	UserID        int64 `bun:"user_id,pk"`
	PermissionID  int64 `bun:"permission_id,pk"`
}

// References declares the foreign keys of UserPermission for CreateTables.
func (*UserPermission) References() []Reference {
	return []Reference{
		{Column: "user_id", Table: "users", OnDelete: "CASCADE"},
		{Column: "permission_id", Table: "auth_permissions", OnDelete: "CASCADE"},
	}
}

// AuthModels returns the tables of groups and permissions in creation
// order, for CreateTables after User:
//
//	models.CreateTables(ctx, db, append([]any{(*models.User)(nil)}, models.AuthModels()...)...)
func AuthModels() []any {
	return []any{(*Group)(nil), (*Permission)(nil), (*GroupPermission)(nil), (*UserGroup)(nil), (*UserPermission)(nil)}
}

// ModelName returns the name permissions use for a model: its Go type
// name in lower case, as Django's model_name ("book" for *Book).
func ModelName(model any) string {
	t := reflect.TypeOf(model)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return ""
	}
	return strings.ToLower(t.Name())
}

// The actions of Django's default model permissions.
var modelActions = [...]string{"add", "change", "delete", "view"}

// CreatePermissions creates the four model permissions (add, change,
// delete, view) of each model, as Django's migrate does for every
// registered model. It is idempotent.
func CreatePermissions(ctx context.Context, db bun.IDB, modelsToRegister ...any) error {
	perms := make([]Permission, 0, 4*len(modelsToRegister))
	for _, m := range modelsToRegister {
		name := ModelName(m)
		if name == "" {
			return fmt.Errorf("cosworth/models: CreatePermissions: %T has no type name", m)
		}
		for _, a := range modelActions {
			perms = append(perms, Permission{Codename: a + "_" + name, Name: "Can " + a + " " + name, Model: name})
		}
	}
	if len(perms) == 0 {
		return nil
	}
	_, err := db.NewInsert().Model(&perms).On("CONFLICT (codename) DO NOTHING").Exec(ctx)
	if err != nil {
		return fmt.Errorf("cosworth/models: create permissions: %w", Classify(err))
	}
	return nil
}

// permissionIDs returns the ids of the given codenames, or an error
// wrapping ErrNotFound naming the first unknown one.
func permissionIDs(ctx context.Context, db bun.IDB, codenames []string) ([]int64, error) {
	if len(codenames) == 0 {
		return nil, nil
	}
	var found []Permission
	if err := db.NewSelect().Model(&found).Column("id", "codename").Where("codename IN (?)", bun.List(codenames)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("cosworth/models: look up permissions: %w", err)
	}
	ids := make([]int64, 0, len(found))
	for _, c := range codenames {
		i := slices.IndexFunc(found, func(p Permission) bool { return p.Codename == c })
		if i < 0 {
			return nil, fmt.Errorf("%w: permission %q", ErrNotFound, c)
		}
		ids = append(ids, found[i].ID)
	}
	return ids, nil
}

// EnsureGroup returns the group with the given name, creating it if it
// does not exist, and grants it the given permissions (which must exist:
// an unknown codename is an error wrapping ErrNotFound). Permissions the
// group already holds are kept.
func EnsureGroup(ctx context.Context, db bun.IDB, name string, codenames ...string) (*Group, error) {
	g := &Group{Name: name}
	if _, err := db.NewInsert().Model(g).On("CONFLICT (name) DO NOTHING").Exec(ctx); err != nil {
		return nil, fmt.Errorf("cosworth/models: create group: %w", Classify(err))
	}
	if err := db.NewSelect().Model(g).Where("name = ?", name).Limit(1).Scan(ctx); err != nil {
		return nil, notFound(err, "group")
	}
	ids, err := permissionIDs(ctx, db, codenames)
	if err != nil || len(ids) == 0 {
		return g, err
	}
	rows := make([]GroupPermission, len(ids))
	for i, id := range ids {
		rows[i] = GroupPermission{GroupID: g.ID, PermissionID: id}
	}
	if _, err := db.NewInsert().Model(&rows).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
		return nil, fmt.Errorf("cosworth/models: grant group permissions: %w", Classify(err))
	}
	return g, nil
}

// GrantUser gives the user with the given id the given permissions
// directly (Django's user.user_permissions.add). An unknown codename is
// an error wrapping ErrNotFound.
func GrantUser(ctx context.Context, db bun.IDB, userID int64, codenames ...string) error {
	ids, err := permissionIDs(ctx, db, codenames)
	if err != nil || len(ids) == 0 {
		return err
	}
	rows := make([]UserPermission, len(ids))
	for i, id := range ids {
		rows[i] = UserPermission{UserID: userID, PermissionID: id}
	}
	if _, err := db.NewInsert().Model(&rows).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
		return fmt.Errorf("cosworth/models: grant user permissions: %w", Classify(err))
	}
	return nil
}

// SetUserGroups makes the groups named in names the user's only groups
// (Django's user.groups.set). An unknown group name is an error wrapping
// ErrNotFound and changes nothing. Run it in a transaction when it must
// be atomic with other changes.
func SetUserGroups(ctx context.Context, db bun.IDB, userID int64, names []string) error {
	var groups []Group
	if len(names) > 0 {
		if err := db.NewSelect().Model(&groups).Where("name IN (?)", bun.List(names)).Scan(ctx); err != nil {
			return fmt.Errorf("cosworth/models: look up groups: %w", err)
		}
	}
	for _, n := range names {
		if !slices.ContainsFunc(groups, func(g Group) bool { return g.Name == n }) {
			return fmt.Errorf("%w: group %q", ErrNotFound, n)
		}
	}
	if _, err := db.NewDelete().Model((*UserGroup)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("cosworth/models: clear user groups: %w", err)
	}
	if len(groups) == 0 {
		return nil
	}
	rows := make([]UserGroup, len(groups))
	for i, g := range groups {
		rows[i] = UserGroup{UserID: userID, GroupID: g.ID}
	}
	if _, err := db.NewInsert().Model(&rows).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
		return fmt.Errorf("cosworth/models: set user groups: %w", Classify(err))
	}
	return nil
}

// UserGroupNames returns the names of the groups of each user in ids, by
// user id, in one query (names sorted).
func UserGroupNames(ctx context.Context, db bun.IDB, ids []int64) (map[int64][]string, error) {
	out := make(map[int64][]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		UserID int64  `bun:"user_id"`
		Name   string `bun:"name"`
	}
	err := db.NewRaw("SELECT ug.user_id, g.name FROM auth_user_groups AS ug JOIN auth_groups AS g ON g.id = ug.group_id WHERE ug.user_id IN (?) ORDER BY g.name", bun.List(ids)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("cosworth/models: user groups: %w", err)
	}
	for _, r := range rows {
		out[r.UserID] = append(out[r.UserID], r.Name)
	}
	return out, nil
}

// PermissionSet is what a user may do: every permission when Superuser,
// else the codenames (sorted, without duplicates).
type PermissionSet struct {
	Superuser bool
	Codenames []string
}

// Has reports whether the set holds the permission codename.
func (s *PermissionSet) Has(codename string) bool {
	if s == nil {
		return false
	}
	if s.Superuser {
		return true
	}
	_, ok := slices.BinarySearch(s.Codenames, codename)
	return ok
}

// LoadPermissions returns the permissions of the user with the given id in
// one query, as Django's ModelBackend computes them: those granted to the
// user directly, those of its groups, and those of the groups named in
// extraGroups (groups an identity provider asserted, say); every
// permission for an active superuser; none for an inactive user or an
// unknown id (extraGroups still count when userID is 0, for principals
// without a user row).
func LoadPermissions(ctx context.Context, db bun.IDB, userID int64, extraGroups []string) (*PermissionSet, error) {
	var b strings.Builder
	args := make([]any, 0, 5)
	b.WriteString("SELECT 0 AS su, p.codename FROM auth_permissions AS p WHERE p.id IN (" +
		"SELECT up.permission_id FROM auth_user_permissions AS up JOIN users AS u ON u.id = up.user_id WHERE up.user_id = ? AND u.is_active" +
		" UNION SELECT gp.permission_id FROM auth_group_permissions AS gp JOIN auth_user_groups AS ug ON ug.group_id = gp.group_id JOIN users AS u ON u.id = ug.user_id WHERE ug.user_id = ? AND u.is_active")
	args = append(args, userID, userID)
	if len(extraGroups) > 0 {
		b.WriteString(" UNION SELECT gp.permission_id FROM auth_group_permissions AS gp JOIN auth_groups AS g ON g.id = gp.group_id WHERE g.name IN (?)")
		args = append(args, bun.List(extraGroups))
	}
	b.WriteString(") UNION ALL SELECT 1, '' FROM users AS u WHERE u.id = ? AND u.is_superuser AND u.is_active")
	args = append(args, userID)
	var rows []struct {
		Su       int    `bun:"su"`
		Codename string `bun:"codename"`
	}
	if err := db.NewRaw(b.String(), args...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("cosworth/models: load permissions: %w", err)
	}
	s := &PermissionSet{Codenames: make([]string, 0, len(rows))}
	for _, r := range rows {
		if r.Su == 1 {
			s.Superuser = true
			continue
		}
		s.Codenames = append(s.Codenames, r.Codename)
	}
	slices.Sort(s.Codenames)
	s.Codenames = slices.Compact(s.Codenames)
	return s, nil
}
