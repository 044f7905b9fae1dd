package realtime_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/go-chi/chi/v5"
	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/realtime"
	"github.com/cosworth/cosworth/views"
)

// Note is a row owned by a user. Owner is not in its representation
// (json:"-"), so an object permission that reads it on another instance
// needs the whole object carried.
type Note struct {
	bun.BaseModel `bun:"table:notes,alias:note"`
	ID            int64  `bun:",pk,autoincrement" json:"id" cosworth:"read_only"`
	Owner         int64  `bun:",notnull" json:"-"`
	Body          string `bun:",notnull" json:"body" validate:"required"`
}

// ownerReads lets a user see only their own notes (object level).
type ownerReads struct{}

func (ownerReads) HasPermission(*http.Request) bool { return true }
func (ownerReads) HasObjectPermission(r *http.Request, obj any) bool {
	p := authentication.PrincipalFrom(r.Context())
	return p != nil && p.ID == obj.(*Note).Owner
}

// ownedBy is an owner-scoped Queryset (DRF's get_queryset filtering by
// request.user).
func ownedBy(r *http.Request, q *bun.SelectQuery) *bun.SelectQuery {
	var id int64 = -1
	if p := authentication.PrincipalFrom(r.Context()); p != nil {
		id = p.ID
	}
	return q.Where("?TableAlias.owner = ?", id)
}

// world is a database with users and their DRF tokens.
type world struct {
	db     *bun.DB
	tokens map[string]string // username -> "Token <key>"
	ids    map[string]int64
}

func newWorld(t testing.TB, users ...string) *world {
	db := dbtest.Postgres(t, (*models.User)(nil), (*models.Token)(nil), (*Note)(nil))
	w := &world{db: db, tokens: map[string]string{}, ids: map[string]int64{}}
	for _, name := range users {
		u := &models.User{Username: name, Password: "x", IsActive: true}
		_, err := db.NewInsert().Model(u).Exec(t.Context())
		dbtest.Must(t, err, "insert user")
		_, key, err := models.NewToken(t.Context(), db, u.ID)
		dbtest.Must(t, err, "token")
		w.tokens[name] = "Token " + key
		w.ids[name] = u.ID
	}
	return w
}

// instance is one server of the service: its views, its feed, on its own
// listener.
type instance struct {
	srv    *httptest.Server
	feed   *realtime.Feed[Note]
	cancel context.CancelFunc
}

type setup struct {
	scoped  bool          // the views' Queryset is owner-scoped
	objPerm bool          // ownerReads applies
	rdb     *redis.Client // nil: in process
	prefix  string        // Redis prefix
	opts    realtime.Options[Note]
}

func newInstance(t testing.TB, w *world, s setup) *instance {
	t.Helper()
	auths := []authentication.Authenticator{&authentication.Token{DB: w.db}}
	g := &views.ListCreateView[Note]{
		DB: w.db,
		PerformCreate: func(r *http.Request, tx bun.Tx, n *Note) error {
			n.Owner = authentication.PrincipalFrom(r.Context()).ID
			_, err := tx.NewInsert().Model(n).Returning("*").Exec(r.Context())
			return err
		},
	}
	if s.scoped {
		g.Queryset = ownedBy
	}
	if s.objPerm {
		g.Permissions = []permissions.Permission{ownerReads{}}
	}
	detail := &views.RetrieveUpdateDestroyView[Note]{DB: w.db, Queryset: g.Queryset, Permissions: g.Permissions}
	opts := s.opts
	opts.Redis = s.rdb
	opts.Prefix = s.prefix
	opts.Authenticators = auths
	ctx, cancel := context.WithCancel(context.Background())
	feed := realtime.New(ctx, (*views.Generic[Note])(g), opts)
	detail.OnCommit = feed.OnCommit
	r := chi.NewRouter()
	r.Use(authentication.Middleware(auths...))
	r.Handle("/notes/", g)
	r.Handle("/notes/events/", feed)
	r.Handle("/notes/{id}/", detail)
	in := &instance{srv: httptest.NewServer(r), feed: feed, cancel: cancel}
	t.Cleanup(func() {
		cancel()
		feed.Wait()
		in.srv.Close()
	})
	return in
}

// write sends a request as user and checks its status.
func (in *instance) write(t testing.TB, w *world, user, method, path, body string, want int) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(method, in.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", w.tokens[user])
	resp, err := http.DefaultClient.Do(req)
	dbtest.Must(t, err, "%s %s", method, path)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != want {
		t.Fatalf("%s %s as %s: %d %v, want %d", method, path, user, resp.StatusCode, out, want)
	}
	return out
}

// message is one received event, from either transport.
type message struct {
	event string
	id    uint64
	data  string // the object's JSON
}

// sseClient reads an SSE stream into msgs (closed at the end of the stream).
type sseClient struct {
	resp *http.Response
	msgs chan message
}

func dialSSE(t testing.TB, url string, hdr ...string) *sseClient {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept", "text/event-stream")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	dbtest.Must(t, err, "GET %s", url)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		resp.Body.Close()
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	c := &sseClient{resp: resp, msgs: make(chan message, 4096)}
	t.Cleanup(func() { resp.Body.Close() })
	go func() {
		defer close(c.msgs)
		br := bufio.NewReader(resp.Body)
		var m message
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSuffix(line, "\n")
			switch {
			case line == "":
				if m.event != "" {
					c.msgs <- m
				}
				m = message{}
			case strings.HasPrefix(line, "event: "):
				m.event = line[len("event: "):]
			case strings.HasPrefix(line, "id: "):
				m.id, _ = strconv.ParseUint(line[len("id: "):], 10, 64)
			case strings.HasPrefix(line, "data: "):
				m.data = line[len("data: "):]
			}
		}
	}()
	return c
}

// wsClient reads a WebSocket stream into msgs; status is the close status
// once msgs is closed.
type wsClient struct {
	c      *websocket.Conn
	msgs   chan message
	status websocket.StatusCode
	reason string
}

func dialWS(t testing.TB, url string, hdr ...string) *wsClient {
	t.Helper()
	h := http.Header{}
	for i := 0; i+1 < len(hdr); i += 2 {
		h.Set(hdr[i], hdr[i+1])
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http"), &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (%d)", url, err, status)
	}
	c.SetReadLimit(1 << 20)
	w := &wsClient{c: c, msgs: make(chan message, 4096)}
	t.Cleanup(func() { c.CloseNow() })
	go func() {
		defer close(w.msgs)
		for {
			_, b, err := c.Read(context.Background())
			if err != nil {
				w.status = websocket.CloseStatus(err)
				var ce websocket.CloseError
				if errors.As(err, &ce) {
					w.reason = ce.Reason
				}
				return
			}
			var raw map[string]json.RawMessage
			if err := json.Unmarshal(b, &raw); err != nil {
				panic(fmt.Sprintf("message %s: %v", b, err))
			}
			var m message
			_ = json.Unmarshal(raw["event"], &m.event)
			_ = json.Unmarshal(raw["id"], &m.id)
			m.data = string(raw["note"])
			w.msgs <- m
		}
	}()
	return w
}

// next returns the next message, failing the test when the stream ends
// or nothing comes for 10 seconds (a hang guard, not a latency bound).
func next(t testing.TB, msgs <-chan message) message {
	t.Helper()
	select {
	case m, ok := <-msgs:
		if !ok {
			t.Fatal("the stream ended")
		}
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no message within 10s")
	}
	return message{}
}

// expect reads messages and checks their kinds and bodies, and that ids
// increase.
func expect(t testing.TB, who string, msgs <-chan message, last *uint64, want ...string) {
	t.Helper()
	for _, w := range want {
		kind, body, _ := strings.Cut(w, " ")
		m := next(t, msgs)
		if m.event != kind || !strings.Contains(m.data, body) {
			t.Fatalf("%s: got %s %s, want %s %s", who, m.event, m.data, kind, body)
		}
		if m.id <= *last {
			t.Fatalf("%s: id %d after %d", who, m.id, *last)
		}
		*last = m.id
	}
}

// goroutines returns a function that fails the test unless the goroutine
// count comes back to what it is now.
func goroutines(t testing.TB) func() {
	before := runtime.NumGoroutine()
	return func() {
		t.Helper()
		var now int
		for range 500 {
			if now = runtime.NumGoroutine(); now <= before {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		buf := make([]byte, 1<<20)
		t.Fatalf("goroutines: %d, were %d\n%s", now, before, buf[:runtime.Stack(buf, true)])
	}
}

func principal(r *http.Request) *authentication.Principal {
	return authentication.PrincipalFrom(r.Context())
}
