package serializers

import (
	"unsafe"

	"github.com/cosworth/cosworth/internal/respond"
)

// appendObject appends the representation of the T at base.
func appendObject[T any](dst []byte, st *compiled[T], v *T) []byte {
	in := st.plan.in
	base := unsafe.Pointer(v)
	dst = append(dst, '{')
	for n, i := range in.out {
		if n > 0 {
			dst = append(dst, ',')
		}
		c := &in.codecs[i]
		dst = append(dst, c.key...)
		if st.represent != nil {
			if fn := st.represent[i]; fn != nil {
				dst = fn(dst, v)
				continue
			}
		}
		dst = c.encode(dst, unsafe.Add(base, c.offset))
	}
	return append(dst, '}')
}

// AppendString appends s as a JSON string, escaped exactly as
// encoding/json escapes it (invalid UTF-8 becomes U+FFFD). Represent
// functions use it to write strings.
func AppendString(dst []byte, s string) []byte { return respond.AppendString(dst, s) }
