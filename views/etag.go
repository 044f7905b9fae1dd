package views

import (
	"hash/crc32"
	"net/http"
	"unsafe"

	"github.com/cosworth/cosworth/internal/drfmsg"
	"github.com/cosworth/cosworth/internal/jsonbody"
)

// Conditional requests (RFC 9110 §13). The generic views give every 200
// answer to GET and HEAD (an object or a list page) and every 200 answer
// to PUT and PATCH an ETag computed from the bytes of the representation,
// and evaluate the preconditions against it:
//
//   - GET and HEAD: If-Match that does not match is 412; If-None-Match
//     that matches (weak comparison, "*" matches anything) is 304 with no
//     body, as Django's ConditionalGetMiddleware answers
//   - PUT, PATCH and DELETE (beyond DRF): checked on the row the write
//     changes (loaded and locked inside the write's transaction, or read
//     with its version by an update that then writes only that version),
//     before the body is applied:
//     If-Match that does not match (strong comparison; "*" matches any
//     existing row) or If-None-Match that matches is 412
//     {"detail": "Precondition failed."}, and nothing changes
//
// Generic.NoETag turns all of it off for a view.

// preconditionFailedError is a precondition of the request (If-Match,
// If-None-Match) that the current representation fails: 412.
type preconditionFailedError struct{}

func (preconditionFailedError) Error() string   { return drfmsg.PreconditionFailed }
func (preconditionFailedError) StatusCode() int { return http.StatusPreconditionFailed }

// errPreconditionFailed is the one 412 value: it wraps nothing, so
// answering it allocates nothing.
var errPreconditionFailed error = preconditionFailedError{}

// castagnoli is the CRC-32C table. An ETag is the CRC-32C of the body
// followed by its CRC-32 (IEEE): two CRCs of different polynomials, 64
// bits, the same in every process (several instances of a service agree
// on a representation's ETag), computed with the CPU's CRC32 and
// carry-less multiply instructions on amd64 and arm64. (hash/crc64 is
// several times slower, and compares its 2 KiB table by value on each
// call, which grows the calling goroutine's stack.)
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// etagLen is the length of an ETag: 16 hex digits in double quotes.
const etagLen = 18

// etagValue is an ETag header value with the bytes it is made of, so the
// header costs one allocation (the slice, the string and its bytes in one).
type etagValue struct {
	v [1]string
	b [etagLen]byte
}

// appendETag writes into dst the strong ETag of body: its CRC-32C and
// CRC-32 in hex, quoted.
func appendETag(dst *[etagLen]byte, body []byte) {
	sum := uint64(crc32.Checksum(body, castagnoli))<<32 | uint64(crc32.ChecksumIEEE(body))
	dst[0] = '"'
	for i := 16; i >= 1; i-- {
		dst[i] = "0123456789abcdef"[sum&0xf]
		sum >>= 4
	}
	dst[etagLen-1] = '"'
}

// etagHeader returns the ETag header value of body.
func etagHeader(body []byte) []string {
	return new(etagValue).header(body)
}

// header writes the ETag of body into e and returns it as a header value;
// e must not be written again while the response is in use.
func (e *etagValue) header(body []byte) []string {
	appendETag(&e.b, body)
	// e.b is written once, above, and never again.
	e.v[0] = unsafe.String(&e.b[0], etagLen)
	return e.v[:]
}

// writeGet answers a GET or HEAD whose 200 body is body: with its ETag,
// or 304 / 412 when the request's preconditions say so. Without ETags
// (NoETag) it is jsonbody.Write.
func (p *plan[T]) writeGet(w http.ResponseWriter, r *http.Request, body []byte) {
	if p.noETag {
		jsonbody.Write(w, http.StatusOK, body)
		return
	}
	h := w.Header()
	tag := etagHeader(body)
	ifMatch, ifNoneMatch := r.Header["If-Match"], r.Header["If-None-Match"]
	if ifMatch != nil && !etagListMatches(ifMatch, tag[0], false) {
		WriteError(w, r, errPreconditionFailed)
		return
	}
	h["Etag"] = tag
	if ifNoneMatch != nil && etagListMatches(ifNoneMatch, tag[0], true) {
		// Django's ConditionalGetMiddleware keeps ETag, Cache-Control,
		// Vary and the like on a 304, not Allow or the body's headers.
		delete(h, "Allow")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	jsonbody.Write(w, http.StatusOK, body)
}

// setWriteETag sets the ETag of body, the representation a write answers
// with (PUT, PATCH), unless the view has none. The header value is kept in
// the write's transaction t instead of an allocation of its own.
func (p *plan[T]) setWriteETag(w http.ResponseWriter, t *tx, body []byte) {
	if !p.noETag {
		w.Header()["Etag"] = t.etag.header(body)
	}
}

// checkPreconditions evaluates the If-Match and If-None-Match of a write
// (PUT, PATCH, DELETE) against obj, the row the write changes (locked,
// or read with the version the update is conditional on), before
// anything changes it: errPreconditionFailed
// when they fail. A request without them costs two header lookups; one
// with them, encoding obj once.
func (g *Generic[T]) checkPreconditions(r *http.Request, p *plan[T], obj *T) error {
	if p.noETag {
		return nil
	}
	ifMatch, ifNoneMatch := r.Header["If-Match"], r.Header["If-None-Match"]
	if ifMatch == nil && ifNoneMatch == nil {
		return nil
	}
	out := jsonbody.GetBuffer()
	*out = p.ser.AppendJSONContext(r.Context(), *out, obj)
	var tag [etagLen]byte
	appendETag(&tag, *out)
	jsonbody.PutBuffer(out)
	current := unsafe.String(&tag[0], etagLen)
	if ifMatch != nil && !etagListMatches(ifMatch, current, false) {
		return errPreconditionFailed
	}
	if ifNoneMatch != nil && etagListMatches(ifNoneMatch, current, true) {
		return errPreconditionFailed
	}
	return nil
}

// etagListMatches reports whether the header lines (an If-Match or
// If-None-Match field: "*" or a comma-separated list of entity tags) name
// current, a strong ETag. weak selects RFC 9110's weak comparison (W/
// ignored, If-None-Match); otherwise strong comparison (If-Match): a weak
// tag never matches. "*" matches any current representation. Malformed
// parts end the parsing of their line, matching nothing further.
func etagListMatches(lines []string, current string, weak bool) bool {
	for _, s := range lines {
		for i := 0; i < len(s); {
			switch c := s[i]; {
			case c == ' ' || c == '\t' || c == ',':
				i++
				continue
			case c == '*':
				return true
			}
			isWeak := false
			if len(s)-i >= 2 && s[i] == 'W' && s[i+1] == '/' {
				isWeak = true
				i += 2
			}
			if i >= len(s) || s[i] != '"' {
				break
			}
			end := i + 1
			for end < len(s) && s[end] != '"' {
				end++
			}
			if end >= len(s) {
				break
			}
			if s[i:end+1] == current && (weak || !isWeak) {
				return true
			}
			i = end + 1
		}
	}
	return false
}
