package views_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"

	"github.com/cosworth/cosworth/views"
)

// QuotaError is a service's own error: a caller over their quota gets
// 402 with a body naming the limit and an X-Quota-Limit header.
type QuotaError struct {
	Limit int
}

// The parts of the views' error contract QuotaError implements.
var (
	_ views.Error        = (*QuotaError)(nil)
	_ views.ErrorBody    = (*QuotaError)(nil)
	_ views.ErrorHeaders = (*QuotaError)(nil)
)

// Error is the public message; WriteError sends it only through
// AppendJSON here, and logs it for a status of 500 or more.
func (e *QuotaError) Error() string { return "Note quota exceeded." }

// StatusCode is 402.
func (e *QuotaError) StatusCode() int { return http.StatusPaymentRequired }

// AppendJSON appends {"detail": ..., "limit": N} to the views' pooled
// buffer.
func (e *QuotaError) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"detail":"Note quota exceeded.","limit":`...)
	dst = strconv.AppendInt(dst, int64(e.Limit), 10)
	return append(dst, '}')
}

// SetHeaders sets X-Quota-Limit.
func (e *QuotaError) SetHeaders(h http.Header) { h.Set("X-Quota-Limit", strconv.Itoa(e.Limit)) }

// An error type of your own chooses its response by implementing
// views.Error (a StatusCode method), and optionally views.ErrorBody and
// views.ErrorHeaders. WriteError finds it in a wrapped error too; an
// error that implements none of it is a logged 500 whose text is never
// sent.
func ExampleError() {
	notes := &views.APIView{
		Name: "Notes",
		Post: func(w http.ResponseWriter, r *http.Request) error {
			if r.URL.Query().Get("bug") != "" {
				return errors.New("notes: connection string postgres://secret@db") // never sent
			}
			return fmt.Errorf("create note: %w", &QuotaError{Limit: 100})
		},
	}
	for _, path := range []string{"/notes/", "/notes/?bug=1"} {
		w := httptest.NewRecorder()
		notes.ServeHTTP(w, httptest.NewRequest(http.MethodPost, path, strings.NewReader("{}")))
		fmt.Println(w.Code, w.Header().Get("X-Quota-Limit"), strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// 402 100 {"detail":"Note quota exceeded.","limit":100}
	// 500  {"detail":"A server error occurred."}
}
