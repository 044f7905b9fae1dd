// Package jsonbody writes JSON response bodies: a pool of byte buffers to
// append them to, the JSON string escaping every encoder in Cosworth
// shares, DRF's {"detail": ...} body, and Write, which sends a finished
// body with its Content-Type and Content-Length in one allocation.
package jsonbody

import (
	"net/http"
	"strconv"
	"sync"
	"unicode/utf8"
	"unsafe"
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// GetBuffer returns a pooled byte slice of length zero. Return it with PutBuffer.
func GetBuffer() *[]byte { b := bufPool.Get().(*[]byte); *b = (*b)[:0]; return b }

// PutBuffer returns b to the pool unless it grew too large to keep.
func PutBuffer(b *[]byte) {
	if cap(*b) > 1<<20 {
		return
	}
	bufPool.Put(b)
}

// Write writes body with the given status and Content-Type application/json.
func Write(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = contentLength(len(body))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// lengthValue is a Content-Length header value with the bytes of its
// digits, so that it takes one allocation rather than two (the slice and
// the string).
type lengthValue struct {
	v      [1]string
	digits [20]byte
}

// contentLength returns the header value for a body of n bytes.
func contentLength(n int) []string {
	c := new(lengthValue)
	d := strconv.AppendInt(c.digits[:0], int64(n), 10)
	// d is c.digits (20 bytes hold any int), written once and never again.
	c.v[0] = unsafe.String(&d[0], len(d))
	return c.v[:]
}

var jsonContentType = []string{"application/json"}

// Detail writes {"detail": msg} with the given status.
func Detail(w http.ResponseWriter, status int, msg string) {
	b := GetBuffer()
	*b = AppendDetail(*b, msg)
	Write(w, status, *b)
	PutBuffer(b)
}

// AppendDetail appends {"detail":"msg"} to dst.
func AppendDetail(dst []byte, msg string) []byte {
	dst = append(dst, `{"detail":`...)
	dst = AppendString(dst, msg)
	return append(dst, '}')
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string literal, escaping as
// encoding/json does (including <, >, & and U+2028/U+2029); invalid UTF-8
// becomes U+FFFD.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
