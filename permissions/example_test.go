package permissions_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/permissions"
)

// ExampleIsOwnerOrStaffOrReadOnly is the bookstore's rule for a book:
// anyone reads it; only its owner or staff change or delete it. Pair it
// with IsAuthenticatedOrReadOnly so anonymous writes are refused with 401
// before any object is loaded.
func ExampleIsOwnerOrStaffOrReadOnly() {
	type Book struct {
		Title   string
		OwnerID int64
	}
	perms := []permissions.Permission{
		permissions.IsAuthenticatedOrReadOnly,
		permissions.IsOwnerOrStaffOrReadOnly(func(b *Book) int64 { return b.OwnerID }),
	}
	book := &Book{Title: "Dune", OwnerID: 1}
	for _, c := range []struct {
		method string
		who    *authentication.Principal
	}{
		{"GET", nil},
		{"DELETE", &authentication.Principal{ID: 1, Username: "alice"}},
		{"DELETE", &authentication.Principal{ID: 2, Username: "bob"}},
		{"DELETE", &authentication.Principal{ID: 3, Username: "admin", IsStaff: true}},
	} {
		r := httptest.NewRequest(c.method, "/books/1/", nil)
		r = r.WithContext(authentication.WithPrincipal(r.Context(), c.who))
		err := permissions.Check(r, perms)
		if err == nil {
			err = permissions.CheckObject(r, perms, book)
		}
		name := "anonymous"
		if c.who != nil {
			name = c.who.Username
		}
		fmt.Printf("%s %s: %v\n", c.method, name, err)
	}
	// Output:
	// GET anonymous: <nil>
	// DELETE alice: <nil>
	// DELETE bob: You do not have permission to perform this action.
	// DELETE admin: <nil>
}

// ExampleOr composes permissions as DRF's `|`, `&` and `~` do: staff, or
// authenticated users on safe methods only.
func ExampleOr() {
	p := permissions.Or(
		permissions.IsAdminUser,
		permissions.And(permissions.IsAuthenticated, permissions.Not(permissions.Or(permissions.IsAdminUser, writes{}))),
	)
	user := &authentication.Principal{ID: 2, Username: "bob"}
	for _, method := range []string{"GET", "POST"} {
		r := httptest.NewRequest(method, "/", nil)
		r = r.WithContext(authentication.WithPrincipal(r.Context(), user))
		fmt.Println(method, p.HasPermission(r))
	}
	// Output:
	// GET true
	// POST false
}

// writes grants unsafe methods.
type writes struct{}

func (writes) HasPermission(r *http.Request) bool              { return !permissions.SafeMethod(r.Method) }
func (writes) HasObjectPermission(r *http.Request, _ any) bool { return true }

// shelfOwner lets only a shelf's owner change it. Its RowCondition is the
// same rule in SQL, so a detail view can update a shelf in one UPDATE ...
// WHERE statement.
type shelfOwner struct{}

func (shelfOwner) HasPermission(*http.Request) bool { return true }

func (shelfOwner) HasObjectPermission(r *http.Request, obj any) bool {
	p := authentication.PrincipalFrom(r.Context())
	return permissions.SafeMethod(r.Method) || (p != nil && obj.(*Shelf).Owner == p.Username)
}

func (shelfOwner) RowCondition(r *http.Request, _ *schema.Table) (string, []any, bool) {
	p := authentication.PrincipalFrom(r.Context())
	if p == nil {
		return "", nil, false // the view checks in Go
	}
	return "owner = ?", []any{p.Username}, true
}

// Shelf is a model whose owner column holds a username.
type Shelf struct {
	bun.BaseModel `bun:"table:shelves,alias:shelf"`
	ID            int64  `bun:"id,pk,autoincrement"`
	Owner         string `bun:"owner,notnull"`
}

// ExampleRowPermission shows the conditions a detail view's update would
// add to its UPDATE for a request: the built-in owner permission finds
// the owner's column itself.
func ExampleRowPermission() {
	table := pgdialect.New().Tables().Get(reflect.TypeFor[Shelf]())
	perms := []permissions.Permission{
		permissions.IsAuthenticated,
		shelfOwner{},
		permissions.OwnerOrReadOnly[Shelf]{OwnerName: func(s *Shelf) string { return s.Owner }, Staff: true},
	}
	for _, who := range []*authentication.Principal{
		{ID: 1, Username: "alice"},
		{ID: 3, Username: "admin", IsStaff: true},
		nil,
	} {
		r := httptest.NewRequest(http.MethodPatch, "/shelves/1/", nil)
		r = r.WithContext(authentication.WithPrincipal(r.Context(), who))
		conds, args, ok := permissions.RowConditions(r, table, perms, nil, nil)
		fmt.Printf("%q %v %v\n", conds, args, ok)
	}
	// Output:
	// ["owner = ?" "\"shelf\".\"owner\" = ?"] [alice alice] true
	// ["owner = ?"] [admin] true
	// [] [] false
}
