package authentication_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
)

func BenchmarkJWTAuthenticateStateless(b *testing.B) {
	j := &authentication.JWT{Key: testSecret}
	_, access, err := j.IssuePair(42, nil)
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+access)
	b.ReportAllocs()
	for b.Loop() {
		if p, err := j.Authenticate(r); err != nil || p.ID != 42 {
			b.Fatal(p, err)
		}
	}
}

func BenchmarkJWTAuthenticatePostgres(b *testing.B) {
	ctx := context.Background()
	db := dbtest.Postgres(b, (*models.User)(nil))
	u, err := models.CreateUser(ctx, db, "bench", "bench-pass-123", false)
	if err != nil {
		b.Fatal(err)
	}
	j := &authentication.JWT{Key: testSecret, DB: db}
	_, access, err := j.IssuePair(u.ID, nil)
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+access)
	b.ReportAllocs()
	for b.Loop() {
		if p, err := j.Authenticate(r); err != nil || p.Username != "bench" {
			b.Fatal(p, err)
		}
	}
}

func BenchmarkMiddlewareAnonymous(b *testing.B) {
	j := &authentication.JWT{Key: testSecret}
	tok := &authentication.Token{DB: dbtest.SQLite(b, (*models.User)(nil), (*models.Token)(nil))}
	h := authentication.Middleware(j, tok)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := httptest.NewRequest("GET", "/", nil)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

func BenchmarkTokenAuthenticatePostgres(b *testing.B) {
	ctx := context.Background()
	db := dbtest.Postgres(b, (*models.User)(nil), (*models.Token)(nil))
	u, err := models.CreateUser(ctx, db, "bench", "bench-pass-123", false)
	if err != nil {
		b.Fatal(err)
	}
	_, key, err := models.NewToken(ctx, db, u.ID)
	if err != nil {
		b.Fatal(err)
	}
	tok := &authentication.Token{DB: db}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Token "+key)
	b.ReportAllocs()
	for b.Loop() {
		if p, err := tok.Authenticate(r); err != nil || p.ID != u.ID {
			b.Fatal(p, err)
		}
	}
}

func BenchmarkRedisAuthenticate(b *testing.B) {
	rdb, prefix := dbtest.Redis(b)
	a := &authentication.Redis{Client: rdb, Prefix: prefix}
	key, err := a.Issue(context.Background(), &authentication.Principal{ID: 7, Username: "alice"})
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Token "+key)
	b.ReportAllocs()
	for b.Loop() {
		if p, err := a.Authenticate(r); err != nil || p.ID != 7 {
			b.Fatal(p, err)
		}
	}
}
