package serializers

import (
	"context"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"time"
	"unsafe"

	"github.com/cosworth/cosworth/internal/jsonbody"
	"github.com/cosworth/cosworth/models"
)

// appendObject appends the representation of the T at base.
func appendObject[T any](ctx context.Context, dst []byte, st *compiled[T], v *T) []byte {
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
				dst = fn(ctx, dst, v)
				continue
			}
		}
		dst = c.encode(dst, unsafe.Add(base, c.offset))
	}
	for n, e := range st.rel.extra {
		if n > 0 || len(in.out) > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, e.key...)
		dst = e.fn(ctx, dst, v)
	}
	return append(dst, '}')
}

// AppendString appends s as a JSON string, escaped exactly as
// encoding/json escapes it (invalid UTF-8 becomes U+FFFD). Represent
// functions use it to write strings.
func AppendString(dst []byte, s string) []byte { return jsonbody.AppendString(dst, s) }

// encode appends the JSON value of the field at fp.
func (c *codec) encode(dst []byte, fp unsafe.Pointer) []byte {
	if c.ptr && c.kind != kindOther {
		fp = *(*unsafe.Pointer)(fp)
		if fp == nil {
			return append(dst, "null"...)
		}
	}
	switch c.kind {
	case kindString:
		return jsonbody.AppendString(dst, *(*string)(fp))
	case kindBool:
		if *(*bool)(fp) {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case kindInt:
		var i int64
		switch c.bits {
		case 8:
			i = int64(*(*int8)(fp))
		case 16:
			i = int64(*(*int16)(fp))
		case 32:
			i = int64(*(*int32)(fp))
		default:
			i = *(*int64)(fp)
		}
		return strconv.AppendInt(dst, i, 10)
	case kindUint:
		var u uint64
		switch c.bits {
		case 8:
			u = uint64(*(*uint8)(fp))
		case 16:
			u = uint64(*(*uint16)(fp))
		case 32:
			u = uint64(*(*uint32)(fp))
		default:
			u = *(*uint64)(fp)
		}
		return strconv.AppendUint(dst, u, 10)
	case kindFloat:
		if c.bits == 32 {
			return appendPyFloat(dst, float64(*(*float32)(fp)), 32)
		}
		return appendPyFloat(dst, *(*float64)(fp), 64)
	case kindTime:
		return appendDateTime(dst, *(*time.Time)(fp))
	case kindDate:
		d := *(*models.Date)(fp)
		if d.IsZero() {
			return append(dst, "null"...)
		}
		dst = append(dst, '"')
		dst = d.AppendFormat(dst)
		return append(dst, '"')
	}
	b, err := json.Marshal(reflect.NewAt(c.typ, fp).Interface())
	if err != nil {
		return append(dst, "null"...)
	}
	return append(dst, b...)
}

// appendPyFloat appends f as Python's repr(float) writes it (and so as
// DRF's JSON does): the shortest round-tripping digits, with ".0" for
// whole numbers and exponent notation below 1e-4 and from 1e16. NaN and
// infinities, which JSON cannot hold, are written as null.
func appendPyFloat(dst []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, bits) // [-]d[.ddd]e±dd
	neg := e[0] == '-'
	if neg {
		e = e[1:]
		dst = append(dst, '-')
	}
	ei := 0
	for ei < len(e) && e[ei] != 'e' {
		ei++
	}
	mant := e[:ei]
	exp := 0
	expNeg := e[ei+1] == '-'
	for _, c := range e[ei+2:] {
		exp = exp*10 + int(c-'0')
	}
	if expNeg {
		exp = -exp
	}
	var digits [24]byte
	nd := 0
	for _, c := range mant {
		if c != '.' {
			digits[nd] = c
			nd++
		}
	}
	ds := digits[:nd]
	if exp >= -4 && exp < 16 {
		if exp >= 0 {
			if nd <= exp+1 {
				dst = append(dst, ds...)
				for range exp + 1 - nd {
					dst = append(dst, '0')
				}
				return append(dst, '.', '0')
			}
			dst = append(dst, ds[:exp+1]...)
			dst = append(dst, '.')
			return append(dst, ds[exp+1:]...)
		}
		dst = append(dst, '0', '.')
		for range -exp - 1 {
			dst = append(dst, '0')
		}
		return append(dst, ds...)
	}
	dst = append(dst, ds[0])
	if nd > 1 {
		dst = append(dst, '.')
		dst = append(dst, ds[1:]...)
	}
	dst = append(dst, 'e')
	if exp < 0 {
		dst = append(dst, '-')
		exp = -exp
	} else {
		dst = append(dst, '+')
	}
	if exp < 10 {
		dst = append(dst, '0')
	}
	return strconv.AppendInt(dst, int64(exp), 10)
}
