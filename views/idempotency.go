package views

import (
	"context"
	"net/http"

	"github.com/uptrace/bun"
)

// TxRecorder is implemented by a ResponseWriter that keeps the answer of a
// write, such as the one idempotency.Middleware hands to the view: a
// generic create calls RecordTx inside its transaction, just before
// COMMIT, with the answer it sends once committed, so that what RecordTx
// writes through tx commits with the created row or not at all. An error
// rolls the create back and is answered instead.
type TxRecorder interface {
	RecordTx(ctx context.Context, tx bun.IDB, status int, contentType string, body []byte) error
}

// txRecorder returns the TxRecorder w is or wraps (through Unwrap, the
// http.ResponseController convention), or nil.
func txRecorder(w http.ResponseWriter) TxRecorder {
	for {
		switch x := w.(type) {
		case TxRecorder:
			return x
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			return nil
		}
	}
}
