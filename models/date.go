package models

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Date is a civil date (year, month, day) without a time or a time zone,
// for columns such as published_on. It is stored as a PostgreSQL date
// (declare the column with the bun tag `type:date`) or as YYYY-MM-DD text in
// SQLite, and is written in JSON as "YYYY-MM-DD". The zero Date means "no
// date": it is stored as NULL and written as JSON null. Use *Date for a
// nullable column whose JSON input may be null.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ErrDateFormat is returned by ParseDate (wrapped) for text that is not a
// valid YYYY-MM-DD date.
var ErrDateFormat = errors.New("cosworth/models: date must be YYYY-MM-DD")

// DateOf returns the date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// ParseDate parses s as YYYY-MM-DD (four-digit year, one- or two-digit
// month and day, as Django's parse_date), rejecting impossible dates such
// as 2023-02-29.
func ParseDate(s string) (Date, error) {
	d, ok := parseDate(s)
	if !ok {
		return Date{}, ErrDateFormat
	}
	return d, nil
}

func parseDate(s string) (Date, bool) {
	if len(s) < 8 || len(s) > 10 || s[4] != '-' {
		return Date{}, false
	}
	y, ok := digits(s[:4])
	if !ok {
		return Date{}, false
	}
	rest := s[5:]
	i := 0
	for i < len(rest) && rest[i] != '-' {
		i++
	}
	if i == 0 || i > 2 || i == len(rest) {
		return Date{}, false
	}
	m, ok1 := digits(rest[:i])
	dd, ok2 := digits(rest[i+1:])
	if !ok1 || !ok2 || len(rest)-i-1 < 1 || len(rest)-i-1 > 2 {
		return Date{}, false
	}
	d := Date{Year: y, Month: time.Month(m), Day: dd}
	if !d.IsValid() || y < 1 {
		return Date{}, false
	}
	return d, true
}

func digits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// IsZero reports whether d is the zero Date ("no date").
func (d Date) IsZero() bool { return d == Date{} }

// IsValid reports whether d is a real calendar date.
func (d Date) IsValid() bool {
	if d.Month < 1 || d.Month > 12 || d.Day < 1 {
		return false
	}
	return DateOf(d.Time(time.UTC)) == d
}

// Time returns midnight of d in loc.
func (d Date) Time(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// String returns d as YYYY-MM-DD ("" for the zero Date).
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return string(d.AppendFormat(make([]byte, 0, 10)))
}

// AppendFormat appends d as YYYY-MM-DD to b.
func (d Date) AppendFormat(b []byte) []byte {
	y := d.Year
	if y < 0 {
		b = append(b, '-')
		y = -y
	}
	if y < 1000 {
		b = append(b, '0')
		if y < 100 {
			b = append(b, '0')
			if y < 10 {
				b = append(b, '0')
			}
		}
	}
	b = strconv.AppendInt(b, int64(y), 10)
	b = append(b, '-', byte('0'+d.Month/10), byte('0'+d.Month%10), '-', byte('0'+d.Day/10), byte('0'+d.Day%10))
	return b
}

// MarshalJSON writes d as "YYYY-MM-DD", or null for the zero Date.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	b := make([]byte, 0, 12)
	b = append(b, '"')
	b = d.AppendFormat(b)
	return append(b, '"'), nil
}

// UnmarshalJSON reads "YYYY-MM-DD"; null leaves d unchanged.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return ErrDateFormat
	}
	v, ok := parseDate(string(b[1 : len(b)-1]))
	if !ok {
		return ErrDateFormat
	}
	*d = v
	return nil
}

// MarshalText writes d as YYYY-MM-DD.
func (d Date) MarshalText() ([]byte, error) { return d.AppendFormat(nil), nil }

// UnmarshalText reads YYYY-MM-DD.
func (d *Date) UnmarshalText(b []byte) error {
	v, ok := parseDate(string(b))
	if !ok {
		return ErrDateFormat
	}
	*d = v
	return nil
}

// Value stores d as YYYY-MM-DD text (which PostgreSQL casts to date), or
// NULL for the zero Date.
func (d Date) Value() (driver.Value, error) {
	if d.IsZero() {
		return nil, nil
	}
	return d.String(), nil
}

// Scan reads a date column: a time.Time (PostgreSQL date, SQLite columns
// declared DATE) or YYYY-MM-DD text, possibly followed by a time; NULL
// gives the zero Date.
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d = Date{}
		return nil
	case time.Time:
		*d = DateOf(v)
		return nil
	case string:
		return d.scanText(v)
	case []byte:
		return d.scanText(string(v))
	}
	return fmt.Errorf("cosworth/models: cannot scan %T into Date", src)
}

func (d *Date) scanText(s string) error {
	if len(s) > 10 && (s[10] == 'T' || s[10] == ' ') {
		s = s[:10]
	}
	v, ok := parseDate(s)
	if !ok {
		return ErrDateFormat
	}
	*d = v
	return nil
}
