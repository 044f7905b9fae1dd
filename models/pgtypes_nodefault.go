//go:build nopgxregisterdefaulttypes

package models

import (
	"encoding/json"
	"net"
	"net/netip"
	"reflect"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// pgDefaultTypes are the Go types pgx maps to a PostgreSQL type by
// default (pgtype's registerDefaultPgTypeVariants), less the generic ones
// (pgtype.Array, FlatArray, Range and Multirange of each), whose code is
// most of what the build tag nopgxregisterdefaulttypes leaves out (1.4 MB).
// The mapping is what pgx uses for a value whose PostgreSQL type it does
// not know: a parameter in the exec and simple-protocol modes (a DSN's
// default_query_exec_mode), a column of a type it has no codec for
// scanned into anything but a string.
var pgDefaultTypes = []struct {
	v    any
	name string
}{
	{int16(0), "int2"}, {int32(0), "int4"}, {int64(0), "int8"},
	{int8(0), "int8"}, {int(0), "int8"}, {uint8(0), "int8"}, {uint16(0), "int8"}, {uint32(0), "int8"},
	{uint64(0), "numeric"}, {uint(0), "numeric"},
	{float32(0), "float4"}, {float64(0), "float8"},
	{false, "bool"}, {time.Time{}, "timestamptz"}, {time.Duration(0), "interval"}, {"", "text"},
	{json.RawMessage(nil), "json"}, {[]byte(nil), "bytea"},
	{net.IP(nil), "inet"}, {net.IPNet{}, "cidr"}, {netip.Addr{}, "inet"}, {netip.Prefix{}, "cidr"},
	{pgtype.Bits{}, "varbit"}, {pgtype.Bool{}, "bool"}, {pgtype.Box{}, "box"}, {pgtype.Circle{}, "circle"},
	{pgtype.Date{}, "date"}, {pgtype.Float4{}, "float4"}, {pgtype.Float8{}, "float8"},
	{pgtype.Int2{}, "int2"}, {pgtype.Int4{}, "int4"}, {pgtype.Int8{}, "int8"}, {pgtype.Interval{}, "interval"},
	{pgtype.Line{}, "line"}, {pgtype.Lseg{}, "lseg"}, {pgtype.Numeric{}, "numeric"}, {pgtype.Path{}, "path"},
	{pgtype.Point{}, "point"}, {pgtype.Polygon{}, "polygon"}, {pgtype.TID{}, "tid"}, {pgtype.Text{}, "text"},
	{pgtype.Time{}, "time"}, {pgtype.Timestamp{}, "timestamp"}, {pgtype.Timestamptz{}, "timestamptz"},
	{pgtype.TSVector{}, "tsvector"}, {pgtype.UUID{}, "uuid"},
}

// registerPgTypes gives m, a connection's type map, the mapping pgx's
// default type map has in a build without nopgxregisterdefaulttypes, for
// the types of pgDefaultTypes and as pgx does for each type T: T, *T,
// []T, *[]T, []*T and *[]*T (the arrays map to the type's array type).
var registerPgTypes = func(m *pgtype.Map) {
	for _, d := range pgDefaultTypes {
		t := reflect.TypeOf(d.v)
		p := reflect.PointerTo(t)
		for _, v := range [...]reflect.Type{t, p} {
			m.RegisterDefaultPgType(reflect.Zero(v).Interface(), d.name)
		}
		for _, v := range [...]reflect.Type{reflect.SliceOf(t), reflect.SliceOf(p)} {
			m.RegisterDefaultPgType(reflect.Zero(v).Interface(), "_"+d.name)
			m.RegisterDefaultPgType(reflect.Zero(reflect.PointerTo(v)).Interface(), "_"+d.name)
		}
	}
}
