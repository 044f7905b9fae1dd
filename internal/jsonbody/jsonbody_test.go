package jsonbody

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

func TestWriteContentLength(t *testing.T) {
	for _, n := range []int{0, 7, 10, 99, 100, 12345, 1 << 20} {
		w := httptest.NewRecorder()
		Write(w, http.StatusOK, make([]byte, n))
		if got := w.Header().Get("Content-Length"); got != strconv.Itoa(n) {
			t.Errorf("Content-Length for %d bytes = %q", n, got)
		}
		if w.Body.Len() != n {
			t.Errorf("body of %d bytes written as %d", n, w.Body.Len())
		}
	}
}

// headerWriter is a ResponseWriter that allocates nothing itself.
type headerWriter struct{ h http.Header }

func (w *headerWriter) Header() http.Header         { return w.h }
func (w *headerWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *headerWriter) WriteHeader(int)             {}

// TestWriteAllocs guards the one allocation Write makes: the Content-Length
// value and its digits together (a []string and strconv.Itoa took two).
func TestWriteAllocs(t *testing.T) {
	w := &headerWriter{h: http.Header{}}
	body := make([]byte, 321)
	got := testing.AllocsPerRun(100, func() { Write(w, http.StatusOK, body) })
	if got > 1 {
		t.Fatalf("Write allocates %.0f times, want at most 1", got)
	}
}
