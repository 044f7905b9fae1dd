package permissions_test

import (
	"fmt"
	"net/http"
	"reflect"
	"testing"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/permissions"
)

type doc struct {
	bun.BaseModel `bun:"table:docs,alias:doc"`
	ID            int64   `bun:"id,pk"`
	OwnerID       int64   `bun:"owner_id"`
	EditorID      int64   `bun:"editor_id"`
	Owner         string  `bun:"owner"`
	Title         string  `bun:"title"`
	Folder        *folder `bun:"rel:belongs-to,join:editor_id=id"`
}

type folder struct {
	ID      int64 `bun:"id,pk"`
	OwnerID int64 `bun:"owner_id"`
}

// TestRowCondition: each built-in's row condition is the SQL form of its
// object check, and a check the database cannot make is left to Go.
func TestRowCondition(t *testing.T) {
	table := pgdialect.New().Tables().Get(reflect.TypeFor[doc]())
	byID := permissions.IsOwnerOrStaffOrReadOnly(func(d *doc) int64 { return d.OwnerID })
	byEditor := permissions.IsOwnerOrReadOnly(func(d *doc) int64 { return d.EditorID })
	byName := permissions.OwnerOrReadOnly[doc]{OwnerName: func(d *doc) string { return d.Owner }}
	computed := permissions.IsOwnerOrReadOnly(func(d *doc) int64 { return d.OwnerID + 1 })
	related := permissions.IsOwnerOrReadOnly(func(d *doc) int64 { return d.Folder.OwnerID })
	noID := &authentication.Principal{Username: "carol"}
	tests := []struct {
		name   string
		perm   permissions.Permission
		method string
		p      *authentication.Principal
		want   string // cond and args as fmt prints them; "go" when ok is false
	}{
		{"AllowAny", permissions.AllowAny, "PATCH", owner, `"" []`},
		{"IsAuthenticatedOrReadOnly", permissions.IsAuthenticatedOrReadOnly, "PUT", owner, `"" []`},
		{"owner by id", byID, "PATCH", owner, `"\"doc\".\"owner_id\" = ?" [1]`},
		{"another column", byEditor, "PATCH", other, `"\"doc\".\"editor_id\" = ?" [2]`},
		{"owner by name", byName, "PUT", other, `"\"doc\".\"owner\" = ?" [bob]`},
		{"staff", byID, "PATCH", staff, `"" []`},
		{"staff without Staff", byEditor, "PATCH", staff, `"\"doc\".\"editor_id\" = ?" [3]`},
		{"safe method", byID, "GET", anonymous, `"" []`},
		{"anonymous", byID, "PATCH", anonymous, "go"},
		{"no id", byID, "PATCH", noID, "go"},
		{"computed owner", computed, "PATCH", owner, "go"},
		{"owner through a relation", related, "PATCH", owner, "go"},
		{"And", permissions.And(permissions.IsAuthenticated, byID, byName), "PATCH", owner, `"(\"doc\".\"owner_id\" = ?) AND (\"doc\".\"owner\" = ?)" [1 alice]`},
		{"And with one", permissions.And(permissions.IsAuthenticated, byID), "PATCH", owner, `"\"doc\".\"owner_id\" = ?" [1]`},
		{"And with a Go check", permissions.And(byID, computed), "PATCH", owner, "go"},
		{"Or", permissions.Or(byEditor, byName), "PATCH", owner, `"(\"doc\".\"editor_id\" = ?) OR (\"doc\".\"owner\" = ?)" [1 alice]`},
		{"Or granting every row", permissions.Or(byEditor, permissions.IsAdminUser), "PATCH", staff, `"" []`},
		{"Or leaves out who does not grant the request", permissions.Or(byEditor, permissions.IsAdminUser), "PATCH", owner, `"\"doc\".\"editor_id\" = ?" [1]`},
		{"Or with a Go check", permissions.Or(byEditor, computed), "PATCH", owner, "go"},
		{"Or granting no request", permissions.Or(permissions.IsAdminUser), "PATCH", owner, "go"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rp, ok := tt.perm.(permissions.RowPermission)
			if !ok {
				t.Fatalf("%T is not a RowPermission", tt.perm)
			}
			for range 2 { // the second answer comes from the cache
				cond, args, ok := rp.RowCondition(request(tt.method, tt.p), table)
				got := "go"
				if ok {
					got = fmt.Sprintf("%q %v", cond, args)
				}
				if got != tt.want {
					t.Fatalf("RowCondition: %s, want %s", got, tt.want)
				}
			}
		})
	}
	if _, ok := permissions.Not(byID).(permissions.RowPermission); ok {
		t.Errorf("Not is a RowPermission; it checks in Go")
	}
}

// TestRowConditions: the conditions of a view's permissions, in order,
// or none at all when one of them checks in Go.
func TestRowConditions(t *testing.T) {
	table := pgdialect.New().Tables().Get(reflect.TypeFor[doc]())
	byID := permissions.IsOwnerOrReadOnly(func(d *doc) int64 { return d.OwnerID })
	r := request(http.MethodPatch, owner)
	conds, args, ok := permissions.RowConditions(r, table, []permissions.Permission{permissions.IsAuthenticated, byID}, []string{"key = ?"}, []any{10})
	if got := fmt.Sprintf("%q %v %v", conds, args, ok); got != `["key = ?" "\"doc\".\"owner_id\" = ?"] [10 1] true` {
		t.Errorf("RowConditions: %s", got)
	}
	if _, _, ok := permissions.RowConditions(r, table, []permissions.Permission{byID, permissions.Not(byID)}, nil, nil); ok {
		t.Errorf("RowConditions with Not: ok")
	}
}
