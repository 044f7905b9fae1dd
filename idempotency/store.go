package idempotency

import (
	"context"
	"errors"

	"github.com/uptrace/bun"
)

// Store keeps idempotency records, shared by every instance that serves
// the same routes. Begin, Finish and Release are each atomic in the store;
// a Store answers errors (an outage, a full store) rather than guessing,
// and Middleware answers them with 503 without running the request.
type Store interface {
	// Begin claims id for a new request holding token: when id has no
	// live record it stores a running one (rec, with rec.Done false,
	// kept for the lock time) and returns nil. Otherwise it returns the
	// live record, running or done, and claims nothing.
	Begin(ctx context.Context, id, token string, rec *Record) (*Record, error)
	// Finish stores rec (done) as the answer for id if token still holds
	// id's running claim. It returns ErrLost when it does not (the claim
	// expired and another request took it, or the answer is stored
	// already).
	Finish(ctx context.Context, id, token string, rec *Record) error
	// Release removes id's claim if token still holds it and no answer
	// is stored, so that the request may be retried.
	Release(ctx context.Context, id, token string) error
}

// TxStore is a Store that can write the answer inside the caller's
// database transaction (DBStore), so that the record and the rows a
// request creates commit together or not at all.
type TxStore interface {
	Store
	// FinishTx is Finish run on tx.
	FinishTx(ctx context.Context, tx bun.IDB, id, token string, rec *Record) error
}

// Record is what a Store keeps for one key: who sent it, the hash of the
// request body and, once done, the answer.
type Record struct {
	// Principal is the username of the caller ("" when anonymous).
	Principal string
	// Key is the Idempotency-Key as the client sent it.
	Key string
	// BodyHash is the hex SHA-256 of the request body.
	BodyHash string
	// Done is set when the answer is stored; a record that is not done
	// belongs to a request still running.
	Done bool
	// Status, ContentType and Body are the stored answer.
	Status      int
	ContentType string
	Body        []byte
}

// ErrLost is returned by Finish when the token no longer holds the claim.
var ErrLost = errors.New("cosworth/idempotency: the claim on the key was lost")

// ErrFull is returned by Begin when the store holds as many records as it
// may (DBStore.MaxEntries).
var ErrFull = errors.New("cosworth/idempotency: the store is full")

// ErrOtherDB is returned by DBStore.FinishTx for a transaction of another
// database than the store's; Middleware then keeps the answer after the
// handler returns, as with a Store that is not a TxStore.
var ErrOtherDB = errors.New("cosworth/idempotency: the transaction is not on the store's DB")
