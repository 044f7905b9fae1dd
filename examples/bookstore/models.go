package main

import (
	"net/http"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/serializers"
)

// Author is a writer of books: {id, name, email, created_at, book_count}.
// Deleting an author deletes its books (the foreign key of Book.AuthorID
// cascades).
type Author struct {
	bun.BaseModel `bun:"table:authors,alias:author"`
	models.Base          // id, created_at, updated_at (updated_at is not serialized)
	Name          string `bun:"name,notnull" json:"name" validate:"required,max=100"`
	Email         string `bun:"email,notnull,unique" json:"email" validate:"required,max=254,email"` // Django's EmailField max_length
	// BookCount is the number of the author's books, computed by the
	// database with each read (see Annotations): read-only.
	BookCount int64 `bun:"book_count,scanonly" json:"book_count"`
}

// Annotations computes book_count (DRF: annotate(book_count=Count("books"))).
func (*Author) Annotations() map[string]string {
	return map[string]string{"book_count": "SELECT count(*) FROM books AS b WHERE b.author_id = ?TableAlias.id"}
}

// Book is a book on sale: {id, title, isbn, author, price_cents,
// published_on, owner, created_at}. author is the author's id; owner is the
// username of the user who created it, read-only, stored as owner_id.
type Book struct {
	bun.BaseModel `bun:"table:books,alias:book"`
	models.Base
	Title       string       `bun:"title,notnull" json:"title" validate:"required,max=200"`
	ISBN        string       `bun:"isbn,notnull,unique" json:"isbn" validate:"required,len=13,numeric"`
	AuthorID    int64        `bun:"author_id,notnull" json:"author" validate:"required"`
	PriceCents  int64        `bun:"price_cents,notnull" json:"price_cents" validate:"required,min=0"`
	PublishedOn *models.Date `bun:"published_on,type:date" json:"published_on"`
	OwnerID     int64        `bun:"owner_id,notnull" json:"owner" cosworth:"read_only"`

	// Owner is the relation the owner field shows by its username (a
	// Slug: the views join its id and username to every read).
	Owner *models.User `bun:"rel:belongs-to,join:owner_id=id,on_delete:cascade" json:"-"`
	// Author is only declared for its foreign key: deleting an author
	// deletes its books.
	Author *Author `bun:"rel:belongs-to,join:author_id=id,on_delete:cascade" json:"-"`
}

// tables lists the models in creation order (referenced tables first).
func tables() []any {
	return append(append([]any{(*models.User)(nil), (*models.Token)(nil)}, models.AuthModels()...), (*Author)(nil), (*Book)(nil))
}

// authorSerializer represents an author as {id, name, email, created_at,
// book_count}
// (Fields picks and orders them, as DRF's Meta.fields; updated_at stays
// out).
// A duplicate email is answered as DRF's UniqueValidator does, in the same
// 400 as the other fields' errors: {"email": ["author with this email
// already exists."]} (the views look it up; the unique constraint is the
// backstop).
func authorSerializer() *serializers.Serializer[Author] {
	return &serializers.Serializer[Author]{Fields: []string{"id", "name", "email", "created_at", "book_count"}}
}

// bookSerializer represents a book with its owner as a username. A
// duplicate isbn and an author id that does not exist are answered as
// DRF does, with the other fields' errors in one 400: {"isbn": ["book with
// this isbn already exists."], "author": ["Invalid pk \"9\" - object does
// not exist."], ...} (the views look them up; the constraints are the
// backstop).
func bookSerializer() *serializers.Serializer[Book] {
	return &serializers.Serializer[Book]{
		Fields: []string{"id", "title", "isbn", "author", "price_cents", "published_on", "owner", "created_at"},
		// DRF: owner = serializers.SlugRelatedField(read_only=True,
		// slug_field="username").
		Slugs: []serializers.Slug{{Name: "owner", Relation: "Owner", Field: "username"}},
	}
}

// ownBook makes a new book the caller's (DRF's perform_create with
// serializer.save(owner=request.user)), before its INSERT. With the
// owner set as well, the answer shows it without reading it back.
func ownBook(r *http.Request, b *Book) error {
	p := authentication.PrincipalFrom(r.Context())
	b.OwnerID = p.ID
	b.Owner = &models.User{Base: models.Base{ID: p.ID}, Username: p.Username}
	return nil
}

// bookOwner is the owner of a book, for IsOwnerOrStaffOrReadOnly.
func bookOwner(b *Book) int64 { return b.OwnerID }

// staffDeletes lets only staff delete; every other method passes. It is
// a permission written by hand, the way a DRF project writes a
// BasePermission subclass.
type staffDeletes struct{}

// HasPermission refuses DELETE to non-staff.
func (staffDeletes) HasPermission(r *http.Request) bool {
	return r.Method != http.MethodDelete || permissions.IsAdminUser.HasPermission(r)
}

// HasObjectPermission grants: the request-level check decided.
func (staffDeletes) HasObjectPermission(*http.Request, any) bool { return true }
