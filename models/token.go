package models

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"

	"github.com/uptrace/bun"
)

// Token is an API key of DRF's TokenAuthentication ("Authorization: Token
// <key>"). Only the SHA-256 digest of the key is stored: the key itself is
// returned once, by NewToken, and a leaked database does not hand out
// working credentials. Keys are 160 random bits written as 40 hex digits,
// as DRF's.
//
// Unlike DRF, a user may hold several tokens (one per login or device):
// DRF's ObtainAuthToken returns the user's one existing key, which cannot
// be done when only its digest is kept. Delete a token with DeleteToken, or
// all of a user's with DeleteUserTokens; deleting the user deletes its
// tokens (ON DELETE CASCADE).
type Token struct {
	bun.BaseModel `bun:"table:auth_tokens,alias:tok"`
	Base
	UserID int64  `bun:"user_id,notnull" json:"user_id"`
	User   *User  `bun:"rel:belongs-to,join:user_id=id,on_delete:CASCADE" json:"-"`
	Digest string `bun:"digest,notnull,unique" json:"-"`
}

// TokenKeyLength is the length of a token key: 40 hex digits (160 bits).
const TokenKeyLength = 40

// NewTokenKey returns a fresh random key of TokenKeyLength hex digits.
func NewTokenKey() string {
	var b [TokenKeyLength / 2]byte
	_, _ = rand.Read(b[:]) // never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// TokenDigest returns the stored form of key: the hex SHA-256 of it.
func TokenDigest(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// NewToken creates a token for the user with the given id and returns it
// with its key, which is not stored and cannot be recovered later.
func NewToken(ctx context.Context, db bun.IDB, userID int64) (*Token, string, error) {
	key := NewTokenKey()
	t := &Token{UserID: userID, Digest: TokenDigest(key)}
	if _, err := db.NewInsert().Model(t).Exec(ctx); err != nil {
		return nil, "", fmt.Errorf("cosworth/models: create token: %w", err)
	}
	return t, key, nil
}

// UserByToken returns the user owning the token key, with one query. It
// returns an error wrapping ErrNotFound when no token matches (including
// keys of the wrong shape, which are not looked up); other errors are the
// database's. Inactive users are returned: callers check IsActive, as DRF
// does, to answer "User inactive or deleted.".
func UserByToken(ctx context.Context, db bun.IDB, key string) (*User, error) {
	if len(key) != TokenKeyLength {
		return nil, fmt.Errorf("%w: token", ErrNotFound)
	}
	digest := TokenDigest(key)
	t := new(Token)
	err := db.NewSelect().Model(t).Relation("User").Where("tok.digest = ?", digest).Limit(1).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "token")
	}
	// The index lookup compared digests, not keys; compare again in
	// constant time so a correct answer never rests on the database's
	// string comparison.
	if t.User == nil || subtle.ConstantTimeCompare([]byte(t.Digest), []byte(digest)) != 1 {
		return nil, fmt.Errorf("%w: token", ErrNotFound)
	}
	return t.User, nil
}

// DeleteToken deletes the token with the given key. Deleting a key that
// does not exist is not an error.
func DeleteToken(ctx context.Context, db bun.IDB, key string) error {
	_, err := db.NewDelete().Model((*Token)(nil)).Where("digest = ?", TokenDigest(key)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("cosworth/models: delete token: %w", err)
	}
	return nil
}

// DeleteUserTokens deletes every token of the user with the given id.
func DeleteUserTokens(ctx context.Context, db bun.IDB, userID int64) error {
	_, err := db.NewDelete().Model((*Token)(nil)).Where("user_id = ?", userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("cosworth/models: delete tokens: %w", err)
	}
	return nil
}
