package models_test

import (
	"context"
	"encoding/json"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
)

// TestPgDefaultTypes checks the PostgreSQL types pgx gives Go values whose
// type it is not told: parameters in the exec modes a DSN may choose
// (default_query_exec_mode=exec or simple_protocol, PgBouncer's), and a
// column of a type pgx has no codec for (an enum) scanned into numbers and
// slices. The answers must be the same with and without the build tag
// nopgxregisterdefaulttypes (the Docker image's build, where Open's pool
// registers the mapping on each connection): scripts/test.sh runs this
// test in both builds.
func TestPgDefaultTypes(t *testing.T) {
	dsn, _ := dbtest.PostgresSchemaURL(t)
	ctx := context.Background()
	s, n := "s", int64(7)
	tm := time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC)
	params := []struct {
		arg  any
		cast string
		want string
	}{
		{int(1), "int8", "1"}, {int8(2), "int8", "2"}, {int16(3), "int2", "3"}, {int32(4), "int4", "4"},
		{int64(5), "int8", "5"}, {uint8(6), "int8", "6"}, {uint16(7), "int8", "7"}, {uint32(8), "int8", "8"},
		{uint64(1 << 63), "numeric", "9223372036854775808"}, {uint(10), "numeric", "10"},
		{float32(1.5), "float4", "1.5"}, {float64(2.5), "float8", "2.5"}, {true, "bool", "true"},
		{tm, "timestamptz", "1704164645.000006"}, {&tm, "timestamptz", "1704164645.000006"},
		{&n, "int8", "7"}, {&s, "text", "s"}, {(*int64)(nil), "int8", "NULL"},
		{time.Second, "interval", "00:00:01"}, {[]byte("ab"), "bytea", `\x6162`},
		{json.RawMessage(`{"a":1}`), "json", `{"a":1}`}, {netip.MustParseAddr("1.2.3.4"), "inet", "1.2.3.4/32"},
		{net.IP{1, 2, 3, 4}, "inet", "1.2.3.4/32"}, {[]string{"a", "b"}, "text[]", "{a,b}"},
		{[]int64{1, 2}, "int8[]", "{1,2}"}, {[]*string{&s, nil}, "text[]", "{s,NULL}"}, {&[]bool{true}, "bool[]", "{t}"},
		{pgtype.Int8{Int64: 9, Valid: true}, "int8", "9"}, {pgtype.Text{String: "t", Valid: true}, "text", "t"},
		{pgtype.UUID{Bytes: [16]byte{15: 1}, Valid: true}, "uuid", "00000000-0000-0000-0000-000000000001"},
	}
	for _, mode := range []string{"exec", "simple_protocol"} {
		t.Run(mode, func(t *testing.T) {
			db, err := models.Open(ctx, dsn+"&default_query_exec_mode="+mode, models.WithMaxConns(1))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			pool := models.Pool(db)
			for _, p := range params {
				sql := "SELECT coalesce(($1::" + p.cast + ")::text, 'NULL')"
				if p.cast == "timestamptz" {
					sql = "SELECT extract(epoch FROM $1::timestamptz)::text"
				}
				var got string
				if err := pool.QueryRow(ctx, sql, p.arg).Scan(&got); err != nil {
					t.Errorf("%T as %s: %v", p.arg, p.cast, err)
				} else if got != p.want {
					t.Errorf("%T as %s = %q, want %q", p.arg, p.cast, got, p.want)
				}
			}
		})
	}

	db, err := models.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE TYPE level AS ENUM ('1', '2', '3')"); err != nil {
		t.Fatal(err)
	}
	pool := models.Pool(db)
	var (
		level  int64
		levels []int64
		names  []string
	)
	if err := pool.QueryRow(ctx, "SELECT '2'::level, ARRAY['1', '3']::level[], ARRAY['2']::level[]").Scan(&level, &levels, &names); err != nil {
		t.Fatalf("scan an enum into int64, []int64 and []string: %v", err)
	}
	if level != 2 || len(levels) != 2 || levels[0] != 1 || levels[1] != 3 || len(names) != 1 || names[0] != "2" {
		t.Fatalf("scanned %d, %v, %q; want 2, [1 3], [\"2\"]", level, levels, names)
	}
}
