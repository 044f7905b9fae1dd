package serializers

import (
	"strconv"
	"strings"
	"time"

	"github.com/cosworth/cosworth/models"
)

// parseDateTime is Django's parse_datetime as DRF's DateTimeField uses it:
// YYYY-MM-DD[T ]hh:mm[:ss[.ffffff]][ ][Z|±hh[:mm]], or a bare date
// (midnight); no zone means UTC. The result is UTC, truncated to
// microseconds.
func parseDateTime(b []byte) (time.Time, bool) {
	s := unsafeString(b)
	if d, err := models.ParseDate(s); err == nil {
		return d.Time(time.UTC), true
	}
	num := func(s string, min, max int) (int, string, bool) {
		n, i := 0, 0
		for i < len(s) && i < max && isDigit(s[i]) {
			n = n*10 + int(s[i]-'0')
			i++
		}
		return n, s[i:], i >= min
	}
	if len(s) < 10 {
		return time.Time{}, false
	}
	year, rest, ok := num(s, 4, 4)
	if !ok || len(rest) == 0 || rest[0] != '-' {
		return time.Time{}, false
	}
	month, rest, ok := num(rest[1:], 1, 2)
	if !ok || len(rest) == 0 || rest[0] != '-' {
		return time.Time{}, false
	}
	day, rest, ok := num(rest[1:], 1, 2)
	if !ok || len(rest) == 0 || rest[0] != 'T' && rest[0] != ' ' {
		return time.Time{}, false
	}
	hour, rest, ok := num(rest[1:], 1, 2)
	if !ok || len(rest) == 0 || rest[0] != ':' {
		return time.Time{}, false
	}
	minute, rest, ok := num(rest[1:], 1, 2)
	if !ok {
		return time.Time{}, false
	}
	second, micro := 0, 0
	if len(rest) > 0 && rest[0] == ':' {
		second, rest, ok = num(rest[1:], 1, 2)
		if !ok {
			return time.Time{}, false
		}
		if len(rest) > 0 && (rest[0] == '.' || rest[0] == ',') {
			frac := rest[1:]
			n := 0
			for n < len(frac) && isDigit(frac[n]) {
				n++
			}
			if n == 0 || n > 12 {
				return time.Time{}, false
			}
			digits := min(n, 6)
			micro, _, _ = num(frac, digits, digits)
			for range 6 - digits {
				micro *= 10
			}
			rest = frac[n:]
		}
	}
	for len(rest) > 0 && pyIsSpace(rune(rest[0])) {
		rest = rest[1:]
	}
	loc := time.UTC
	if rest != "" {
		switch {
		case rest == "Z":
		case rest[0] == '+' || rest[0] == '-':
			hh, r2, ok := num(rest[1:], 2, 2)
			if !ok {
				return time.Time{}, false
			}
			mm := 0
			if r2 != "" {
				r2 = strings.TrimPrefix(r2, ":")
				mm, r2, ok = num(r2, 2, 2)
				if !ok || r2 != "" {
					return time.Time{}, false
				}
			}
			off := hh*3600 + mm*60
			if hh > 23 || mm > 59 {
				return time.Time{}, false
			}
			if rest[0] == '-' {
				off = -off
			}
			loc = time.FixedZone("", off)
		default:
			return time.Time{}, false
		}
	}
	if month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59 || year < 1 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, second, micro*1000, loc)
	if t.Day() != day {
		return time.Time{}, false // e.g. February 30th
	}
	return t.UTC(), true
}

// appendDateTime appends t as DRF writes a datetime in UTC:
// "2024-01-02T03:04:05.123456Z", without the fraction when it is zero.
func appendDateTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	dst = append(dst, '"')
	if y < 0 || y > 9999 {
		dst = strconv.AppendInt(dst, int64(y), 10)
	} else {
		dst = append(dst, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10))
	}
	dst = append(dst, '-', byte('0'+mo/10), byte('0'+mo%10), '-', byte('0'+d/10), byte('0'+d%10),
		'T', byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':', byte('0'+s/10), byte('0'+s%10))
	if us := t.Nanosecond() / 1000; us != 0 {
		dst = append(dst, '.')
		for div := 100000; div > 0; div /= 10 {
			dst = append(dst, byte('0'+us/div%10))
		}
	}
	return append(dst, 'Z', '"')
}
