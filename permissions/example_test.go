package permissions_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

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
