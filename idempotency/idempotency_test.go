package idempotency_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/idempotency"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/views"
)

type item struct {
	bun.BaseModel `bun:"table:items"`
	ID            int64  `bun:",pk,autoincrement" json:"id" cosworth:"read_only"`
	Title         string `bun:",notnull" json:"title" validate:"required,max=50"`
}

// fixture is a create view behind the middleware, on one store.
type fixture struct {
	h     http.Handler
	db    *bun.DB // the view's
	store idempotency.Store
	calls atomic.Int64  // PerformCreate runs
	block chan struct{} // a create titled "block" waits for it to close
	held  chan struct{} // closed when such a create waits
	// onCreate runs inside the create's transaction, when set.
	onCreate func(tx bun.Tx)
}

// withUser authenticates "X-User: name".
func withUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := r.Header.Get("X-User"); u != "" {
			r = r.WithContext(authentication.WithPrincipal(r.Context(), &authentication.Principal{Username: u}))
		}
		next.ServeHTTP(w, r)
	})
}

func newFixture(t *testing.T, db *bun.DB, store idempotency.Store) *fixture {
	f := &fixture{db: db, store: store, block: make(chan struct{}), held: make(chan struct{})}
	view := &views.ListCreateView[item]{
		DB: db,
		PerformCreate: func(r *http.Request, tx bun.Tx, obj *item) error {
			f.calls.Add(1)
			switch obj.Title {
			case "block":
				close(f.held)
				<-f.block
			case "fail":
				return fmt.Errorf("%w: test outage", models.ErrUnavailable)
			}
			if f.onCreate != nil {
				f.onCreate(tx)
			}
			_, err := tx.NewInsert().Model(obj).Returning("*").Exec(r.Context())
			return err
		},
	}
	f.h = withUser(idempotency.Middleware(idempotency.Options{Store: store})(view))
	return f
}

// stores returns the fixtures to run each test on: the Redis store (rows
// in SQLite), and the database store on PostgreSQL and on SQLite.
func stores() map[string]func(t *testing.T) *fixture {
	return map[string]func(t *testing.T) *fixture{
		"redis": func(t *testing.T) *fixture {
			rdb, prefix := dbtest.Redis(t)
			return newFixture(t, dbtest.SQLite(t, (*item)(nil)), &idempotency.RedisStore{Client: rdb, Prefix: prefix})
		},
		"postgres": func(t *testing.T) *fixture {
			db := dbtest.Postgres(t, (*item)(nil))
			return newFixture(t, db, &idempotency.DBStore{DB: db})
		},
		"sqlite": func(t *testing.T) *fixture {
			db := dbtest.SQLite(t, (*item)(nil))
			return newFixture(t, db, &idempotency.DBStore{DB: db})
		},
	}
}

func (f *fixture) post(user, key, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/items/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if key != "" {
		r.Header.Set("Idempotency-Key", key)
	}
	if user != "" {
		r.Header.Set("X-User", user)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

func (f *fixture) rows(t *testing.T) int {
	t.Helper()
	n, err := f.db.NewSelect().Model((*item)(nil)).Count(context.Background())
	dbtest.Must(t, err, "count")
	return int(n)
}

func want(t *testing.T, w *httptest.ResponseRecorder, status int, body string) {
	t.Helper()
	if w.Code != status || (body != "" && strings.TrimSpace(w.Body.String()) != body) {
		t.Fatalf("got %d %s, want %d %s", w.Code, w.Body, status, body)
	}
}

func TestRepeatReplaysAndCreatesOnce(t *testing.T) {
	for name, open := range stores() {
		t.Run(name, func(t *testing.T) {
			f := open(t)
			first := f.post("ann", "k-1", `{"title":"Dune"}`)
			want(t, first, http.StatusCreated, "")
			if first.Header().Get(idempotency.ReplayedHeader) != "" {
				t.Fatalf("first answer marked replayed")
			}
			for range 2 {
				again := f.post("ann", "k-1", `{"title":"Dune"}`)
				want(t, again, http.StatusCreated, first.Body.String())
				if again.Header().Get("Content-Type") != "application/json" || again.Header().Get(idempotency.ReplayedHeader) != "true" {
					t.Fatalf("replay headers: %v", again.Header())
				}
			}
			if n := f.rows(t); n != 1 || f.calls.Load() != 1 {
				t.Fatalf("%d rows after %d creates, want 1 and 1", n, f.calls.Load())
			}
			// Without a key, every POST creates.
			want(t, f.post("ann", "", `{"title":"Dune"}`), http.StatusCreated, "")
			if n := f.rows(t); n != 2 {
				t.Fatalf("%d rows, want 2", n)
			}
		})
	}
}

func TestOtherBodyIs422(t *testing.T) {
	for name, open := range stores() {
		t.Run(name, func(t *testing.T) {
			f := open(t)
			want(t, f.post("ann", "k-2", `{"title":"Dune"}`), http.StatusCreated, "")
			want(t, f.post("ann", "k-2", `{"title":"Emma"}`), http.StatusUnprocessableEntity,
				`{"detail":"`+idempotency.MsgOtherBody+`"}`)
			if n := f.rows(t); n != 1 {
				t.Fatalf("%d rows, want 1", n)
			}
		})
	}
}

func TestConcurrentRepeatIs409(t *testing.T) {
	for name, open := range stores() {
		t.Run(name, func(t *testing.T) {
			f := open(t)
			done := make(chan *httptest.ResponseRecorder)
			go func() { done <- f.post("ann", "k-3", `{"title":"block"}`) }()
			<-f.held
			want(t, f.post("ann", "k-3", `{"title":"block"}`), http.StatusConflict, `{"detail":"`+idempotency.MsgRunning+`"}`)
			// Another body is still 422 while it runs.
			want(t, f.post("ann", "k-3", `{"title":"other"}`), http.StatusUnprocessableEntity, "")
			close(f.block)
			first := <-done
			want(t, first, http.StatusCreated, "")
			want(t, f.post("ann", "k-3", `{"title":"block"}`), http.StatusCreated, first.Body.String())
			if n := f.rows(t); n != 1 || f.calls.Load() != 1 {
				t.Fatalf("%d rows after %d creates, want 1 and 1", n, f.calls.Load())
			}
		})
	}
}

func TestKeysAreScopedToTheCaller(t *testing.T) {
	for name, open := range stores() {
		t.Run(name, func(t *testing.T) {
			f := open(t)
			a := f.post("ann", "shared", `{"title":"Dune"}`)
			b := f.post("bob", "shared", `{"title":"Dune"}`)
			want(t, a, http.StatusCreated, "")
			want(t, b, http.StatusCreated, "")
			if a.Body.String() == b.Body.String() || b.Header().Get(idempotency.ReplayedHeader) != "" {
				t.Fatalf("bob got ann's answer: %s", b.Body)
			}
			// An anonymous caller is a third scope.
			want(t, f.post("", "shared", `{"title":"Dune"}`), http.StatusCreated, "")
			if n := f.rows(t); n != 3 {
				t.Fatalf("%d rows, want 3", n)
			}
		})
	}
}

func TestFailuresReleaseTheKey(t *testing.T) {
	for name, open := range stores() {
		t.Run(name, func(t *testing.T) {
			f := open(t)
			// A 503 is not kept: the retry runs again.
			want(t, f.post("ann", "k-5", `{"title":"fail"}`), http.StatusServiceUnavailable, "")
			want(t, f.post("ann", "k-5", `{"title":"fail"}`), http.StatusServiceUnavailable, "")
			if c := f.calls.Load(); c != 2 {
				t.Fatalf("%d runs, want 2", c)
			}
			// A validation error is kept and replayed.
			bad := f.post("ann", "k-6", `{"title":""}`)
			want(t, bad, http.StatusBadRequest, "")
			again := f.post("ann", "k-6", `{"title":""}`)
			want(t, again, http.StatusBadRequest, bad.Body.String())
			if again.Header().Get(idempotency.ReplayedHeader) != "true" {
				t.Fatalf("400 not replayed")
			}
		})
	}
}

func TestMalformedKeyIs400(t *testing.T) {
	// The store's DB differs from the view's: the answer is kept after
	// the create instead of inside its transaction.
	f := newFixture(t, dbtest.SQLite(t, (*item)(nil)), &idempotency.DBStore{DB: dbtest.SQLite(t)})
	for _, key := range []string{strings.Repeat("k", 256), "caf\u00e9", "a\tb", `""`} {
		want(t, f.post("ann", key, `{"title":"Dune"}`), http.StatusBadRequest, `{"detail":"`+idempotency.MsgBadKey+`"}`)
	}
	r := httptest.NewRequest(http.MethodPost, "/items/", strings.NewReader(`{"title":"Dune"}`))
	r.Header["Idempotency-Key"] = []string{"a", "b"}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	want(t, w, http.StatusBadRequest, "")
	// The longest key, and the draft's quoted form, are accepted.
	want(t, f.post("ann", strings.Repeat("k", 255), `{"title":"Dune"}`), http.StatusCreated, "")
	want(t, f.post("ann", `"8e03978e-40d5-43e8-bc93-6894a57f9324"`, `{"title":"Dune"}`), http.StatusCreated, "")
	if n := f.rows(t); n != 2 || f.calls.Load() != 2 {
		t.Fatalf("%d rows after %d creates, want 2 and 2", n, f.calls.Load())
	}
}

func TestStoreOutageIs503(t *testing.T) {
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond})
	t.Cleanup(func() { _ = dead.Close() })
	closed := dbtest.SQLite(t)
	_ = closed.Close()
	for name, store := range map[string]idempotency.Store{
		"redis": &idempotency.RedisStore{Client: dead},
		"db":    &idempotency.DBStore{DB: closed},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, dbtest.SQLite(t, (*item)(nil)), store)
			w := f.post("ann", "k-7", `{"title":"Dune"}`)
			want(t, w, http.StatusServiceUnavailable, `{"detail":"Service temporarily unavailable, try again later."}`)
			if w.Header().Get("Retry-After") == "" {
				t.Fatalf("503 without Retry-After")
			}
			if n := f.rows(t); n != 0 || f.calls.Load() != 0 {
				t.Fatalf("%d rows after %d creates, want none", n, f.calls.Load())
			}
		})
	}
}

// TestExpiry checks the retention each store gives an answer, then ages
// the record past it: the key is new again.
func TestExpiry(t *testing.T) {
	for name, open := range stores() {
		t.Run(name, func(t *testing.T) {
			f := open(t)
			want(t, f.post("ann", "k-8", `{"title":"Dune"}`), http.StatusCreated, "")
			ctx := context.Background()
			switch s := f.store.(type) {
			case *idempotency.RedisStore:
				keys, err := s.Client.Keys(ctx, s.Prefix+"idempotency:*").Result()
				dbtest.Must(t, err, "keys")
				if len(keys) != 1 {
					t.Fatalf("keys %v, want one", keys)
				}
				ttl, err := s.Client.PTTL(ctx, keys[0]).Result()
				dbtest.Must(t, err, "pttl")
				if ttl <= 23*time.Hour || ttl > 24*time.Hour {
					t.Fatalf("record TTL %v, want 24h", ttl)
				}
				dbtest.Must(t, s.Client.Del(ctx, keys[0]).Err(), "expire")
			case *idempotency.DBStore:
				var exp int64
				dbtest.Must(t, s.DB.NewRaw("SELECT expires_at FROM cosworth_idempotency").Scan(ctx, &exp), "expires_at")
				left := time.Until(time.UnixMilli(exp))
				if left <= 23*time.Hour || left > 24*time.Hour {
					t.Fatalf("record kept %v more, want 24h", left)
				}
				_, err := s.DB.NewRaw("UPDATE cosworth_idempotency SET expires_at = ?", time.Now().Add(-time.Second).UnixMilli()).Exec(ctx)
				dbtest.Must(t, err, "age the record")
			}
			want(t, f.post("ann", "k-8", `{"title":"Dune"}`), http.StatusCreated, "")
			if n := f.rows(t); n != 2 {
				t.Fatalf("%d rows, want 2: the expired key was replayed", n)
			}
			if s, ok := f.store.(*idempotency.DBStore); ok {
				// Pruning deletes expired records only.
				_, err := s.DB.NewRaw("INSERT INTO cosworth_idempotency (id, token, principal, idem_key, body_hash, done, status, content_type, expires_at) VALUES ('old', 't', '', 'k', 'h', ?, 201, '', 1)", true).Exec(ctx)
				dbtest.Must(t, err, "insert an expired record")
				dbtest.Must(t, s.Prune(ctx), "prune")
				var n int
				dbtest.Must(t, s.DB.NewRaw("SELECT count(*) FROM cosworth_idempotency").Scan(ctx, &n), "count")
				if n != 1 {
					t.Fatalf("%d records after pruning, want 1", n)
				}
			}
		})
	}
}

// TestRecordCommitsWithTheRow checks that the database store writes the
// answer in the create's transaction: a create whose claim was taken
// over while it ran is rolled back with its record.
func TestRecordCommitsWithTheRow(t *testing.T) {
	for name, open := range stores() {
		if name == "redis" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			f := open(t)
			f.onCreate = func(tx bun.Tx) {
				// Another request took the key over (as after an expired
				// lock), seen by the create's transaction.
				_, err := tx.NewRaw("UPDATE cosworth_idempotency SET token = 'other'").Exec(context.Background())
				dbtest.Must(t, err, "take the claim")
			}
			want(t, f.post("ann", "k-9", `{"title":"Dune"}`), http.StatusConflict, "")
			if n := f.rows(t); n != 0 {
				t.Fatalf("%d rows, want 0: the create outlived its record", n)
			}
			// Nothing was kept: the retry creates, once.
			f.onCreate = nil
			first := f.post("ann", "k-9", `{"title":"Dune"}`)
			want(t, first, http.StatusCreated, "")
			want(t, f.post("ann", "k-9", `{"title":"Dune"}`), http.StatusCreated, first.Body.String())
			if n := f.rows(t); n != 1 {
				t.Fatalf("%d rows, want 1", n)
			}
		})
	}
}

// TestPatchAndRequired checks a PATCH behind the middleware (its answer is
// kept after the handler) and Options.Required.
func TestPatchAndRequired(t *testing.T) {
	for name, open := range stores() {
		t.Run(name, func(t *testing.T) {
			f := open(t)
			want(t, f.post("ann", "", `{"title":"Dune"}`), http.StatusCreated, "")
			patches := 0
			detail := &views.RetrieveUpdateView[item]{DB: f.db, PerformUpdate: func(r *http.Request, tx bun.Tx, obj *item) error {
				patches++
				_, err := tx.NewUpdate().Model(obj).WherePK().Exec(r.Context())
				return err
			}}
			r := chi.NewRouter()
			r.Use(withUser)
			r.With(idempotency.Middleware(idempotency.Options{Store: f.store, Required: true})).Handle("/items/{id}/", detail)
			patch := func(key, body string) *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodPatch, "/items/1/", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-User", "ann")
				if key != "" {
					req.Header.Set("Idempotency-Key", key)
				}
				w := httptest.NewRecorder()
				r.ServeHTTP(w, req)
				return w
			}
			first := patch("p-1", `{"title":"Emma"}`)
			want(t, first, http.StatusOK, `{"id":1,"title":"Emma"}`)
			want(t, patch("p-1", `{"title":"Emma"}`), http.StatusOK, first.Body.String())
			want(t, patch("p-1", `{"title":"Persuasion"}`), http.StatusUnprocessableEntity, "")
			want(t, patch("", `{"title":"Persuasion"}`), http.StatusBadRequest, `{"detail":"`+idempotency.MsgNoKey+`"}`)
			if patches != 1 {
				t.Fatalf("%d updates ran, want 1", patches)
			}
			// GET passes through without a key.
			req := httptest.NewRequest(http.MethodGet, "/items/1/", nil)
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			want(t, w, http.StatusOK, `{"id":1,"title":"Emma"}`)
		})
	}
}

// TestSimultaneousFirstRequests sends the same new key from several
// goroutines at once: exactly one request runs; the others are told it is
// running (409) or get its answer.
func TestSimultaneousFirstRequests(t *testing.T) {
	for name, open := range stores() {
		t.Run(name, func(t *testing.T) {
			f := open(t)
			const n = 8
			answers := make(chan *httptest.ResponseRecorder, n)
			start := make(chan struct{})
			for range n {
				go func() {
					<-start
					answers <- f.post("ann", "k-10", `{"title":"Dune"}`)
				}()
			}
			close(start)
			var created []string
			conflicts := 0
			for range n {
				w := <-answers
				switch w.Code {
				case http.StatusCreated:
					created = append(created, w.Body.String())
				case http.StatusConflict:
					conflicts++
				default:
					t.Errorf("answer %d %s", w.Code, w.Body)
				}
			}
			for _, b := range created {
				if b != created[0] {
					t.Errorf("two different 201 bodies: %s and %s", created[0], b)
				}
			}
			if len(created) == 0 || len(created)+conflicts != n {
				t.Errorf("%d created and %d conflicts of %d", len(created), conflicts, n)
			}
			if rows := f.rows(t); rows != 1 || f.calls.Load() != 1 {
				t.Fatalf("%d rows after %d creates, want 1 and 1", rows, f.calls.Load())
			}
		})
	}
}

// TestFullDBStore checks MaxEntries: once pruning finds the table full,
// new keys are refused with 503 and repeats are still answered.
func TestFullDBStore(t *testing.T) {
	db := dbtest.SQLite(t, (*item)(nil))
	store := &idempotency.DBStore{DB: db, MaxEntries: 1}
	f := newFixture(t, db, store)
	first := f.post("ann", "k-11", `{"title":"Dune"}`)
	want(t, first, http.StatusCreated, "")
	dbtest.Must(t, store.Prune(context.Background()), "prune")
	want(t, f.post("ann", "k-12", `{"title":"Dune"}`), http.StatusServiceUnavailable, "")
	want(t, f.post("ann", "k-11", `{"title":"Dune"}`), http.StatusCreated, first.Body.String())
	if n := f.rows(t); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}
	// Room again once the record is gone.
	_, err := db.NewRaw("UPDATE cosworth_idempotency SET expires_at = 0").Exec(context.Background())
	dbtest.Must(t, err, "age the record")
	dbtest.Must(t, store.Prune(context.Background()), "prune")
	want(t, f.post("ann", "k-12", `{"title":"Dune"}`), http.StatusCreated, "")
}
