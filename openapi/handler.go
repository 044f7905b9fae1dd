package openapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"time"
)

// Handler serves doc as JSON (Content-Type application/json) to GET and
// HEAD requests, with a strong ETag so clients revalidate with
// If-None-Match and get 304 Not Modified, and Cache-Control "no-cache"
// (revalidate every time: the document changes when the service is
// redeployed). The document is encoded once, when Handler is called;
// changes made to doc afterwards are not served. Other methods get 405
// {"detail": ...} with an Allow header, as DRF answers.
func Handler(doc *Document) http.Handler {
	body := doc.JSON()
	sum := sha256.Sum256(body)
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
	return &handler{body: body, etag: etag}
}

type handler struct {
	body []byte
	etag string
}

// ServeHTTP answers with the document.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		hd.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusMethodNotAllowed)
		_, _ = w.Write([]byte(`{"detail":"Method \"` + jsonSafe(r.Method) + `\" not allowed."}`))
		return
	}
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", h.etag)
	hd.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(h.body))
}

// jsonSafe keeps a method name printable ASCII without quotes or
// backslashes (net/http only accepts token characters in methods).
func jsonSafe(s string) string {
	b := []byte(s)
	if len(b) > 32 {
		b = b[:32]
	}
	for i, c := range b {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			b[i] = '?'
		}
	}
	return string(b)
}
