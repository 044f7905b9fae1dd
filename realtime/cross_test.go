package realtime_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/realtime"
)

// redisPair returns two clients of the test Redis (one per instance) and
// a prefix unique to the test.
func redisPair(t testing.TB) (*redis.Client, *redis.Client, string) {
	a, prefix := dbtest.Redis(t)
	b := redis.NewClient(a.Options())
	t.Cleanup(func() { b.Close() })
	return a, b, prefix
}

// TestAcrossInstances: writes committed on instance A reach an SSE and a
// WebSocket subscriber of instance B through Redis, in commit order, with
// increasing ids; a write that did not commit publishes nothing.
func TestAcrossInstances(t *testing.T) {
	w := newWorld(t, "alice")
	ra, rb, prefix := redisPair(t)
	check := goroutines(t)
	a := newInstance(t, w, setup{rdb: ra, prefix: prefix})
	b := newInstance(t, w, setup{rdb: rb, prefix: prefix})
	auth := w.tokens["alice"]
	sse := dialSSE(t, b.srv.URL+"/notes/events/", "Authorization", auth)
	ws := dialWS(t, b.srv.URL+"/notes/events/", "Authorization", auth)

	n := a.write(t, w, "alice", "POST", "/notes/", `{"body":"first"}`, 201)
	id := fmt.Sprint(n["id"])
	a.write(t, w, "alice", "POST", "/notes/", `{"body":""}`, 400)
	a.write(t, w, "alice", "PATCH", "/notes/"+id+"/", `{"body":"second"}`, 200)
	a.write(t, w, "alice", "PATCH", "/notes/"+id+"/", `{"body":""}`, 400)
	a.write(t, w, "alice", "DELETE", "/notes/"+id+"/", "", 204)
	a.write(t, w, "alice", "POST", "/notes/", `{"body":"third"}`, 201)
	want := []string{`created "body":"first"`, `updated "body":"second"`, `deleted {"id":` + id + `}`, `created "body":"third"`}
	var l1, l2 uint64
	expect(t, "sse", sse.msgs, &l1, want...)
	expect(t, "ws", ws.msgs, &l2, want...)
	if l1 != l2 {
		t.Fatalf("the transports disagree on the last id: %d and %d", l1, l2)
	}

	// Shutdown: every stream ends with its reason, every goroutine with it.
	a.cancel()
	b.cancel()
	m := next(t, sse.msgs)
	if m.event != "close" || !strings.Contains(m.data, "Server shutting down.") {
		t.Fatalf("sse after shutdown: %+v", m)
	}
	for range ws.msgs {
	}
	if ws.status != 1001 {
		t.Fatalf("ws close status %d %q, want 1001", ws.status, ws.reason)
	}
	for _, in := range []*instance{a, b} {
		in.feed.Wait()
		in.srv.Close()
	}
	sse.resp.Body.Close()
	check()
}

// TestPermissionsPerEvent: with two instances on Redis, a user never
// receives an event of an object they may not read, whether the rule is
// an owner-scoped Queryset (checked by one query), the same rule as
// Visible (checked in Go), or an object permission reading a field that
// is not in the representation (carried to the other instance whole).
func TestPermissionsPerEvent(t *testing.T) {
	isOwner := func(r *http.Request, n *Note) bool {
		p := authenticationPrincipalID(r)
		return p == n.Owner
	}
	cases := []struct {
		name    string
		s       setup
		deletes bool // the owner sees deletes
	}{
		{"queryset", setup{scoped: true}, false},
		{"visible", setup{scoped: true, opts: realtime.Options[Note]{Visible: isOwner}}, true},
		{"object permission", setup{objPerm: true}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, "alice", "bob")
			ra, rb, prefix := redisPair(t)
			sa, sb := c.s, c.s
			sa.rdb, sa.prefix, sb.rdb, sb.prefix = ra, prefix, rb, prefix
			a := newInstance(t, w, sa)
			b := newInstance(t, w, sb)
			alice := dialSSE(t, b.srv.URL+"/notes/events/", "Authorization", w.tokens["alice"])
			bob := dialWS(t, b.srv.URL+"/notes/events/", "Authorization", w.tokens["bob"])

			n := a.write(t, w, "alice", "POST", "/notes/", `{"body":"alice 1"}`, 201)
			a.write(t, w, "bob", "POST", "/notes/", `{"body":"bob 1"}`, 201)
			a.write(t, w, "alice", "PATCH", fmt.Sprintf("/notes/%v/", n["id"]), `{"body":"alice 2"}`, 200)
			var la, lb uint64
			expect(t, "alice", alice.msgs, &la, `created "body":"alice 1"`, `updated "body":"alice 2"`)
			// The Queryset check sees the row as it is when it runs: the
			// delete waits until the update was delivered.
			a.write(t, w, "alice", "DELETE", fmt.Sprintf("/notes/%v/", n["id"]), "", 204)
			a.write(t, w, "alice", "POST", "/notes/", `{"body":"alice 3"}`, 201)
			a.write(t, w, "bob", "POST", "/notes/", `{"body":"bob 2"}`, 201)
			var wantAlice []string
			if c.deletes {
				wantAlice = append(wantAlice, "deleted "+fmt.Sprintf(`{"id":%v}`, n["id"]))
			}
			wantAlice = append(wantAlice, `created "body":"alice 3"`)
			// Each user's own last write is the next message: nothing of
			// the other's came in between.
			expect(t, "alice", alice.msgs, &la, wantAlice...)
			expect(t, "bob", bob.msgs, &lb, `created "body":"bob 1"`, `created "body":"bob 2"`)
		})
	}
}

func authenticationPrincipalID(r *http.Request) int64 {
	if p := principal(r); p != nil {
		return p.ID
	}
	return -1
}

// TestRevokedUserStreamsClose: a deactivated user's SSE stream and a
// user whose tokens were deleted (WebSocket) are closed at the next
// re-check, with the reason; the others go on.
func TestRevokedUserStreamsClose(t *testing.T) {
	w := newWorld(t, "alice", "bob", "carol")
	check := goroutines(t)
	in := newInstance(t, w, setup{opts: realtime.Options[Note]{Recheck: 20e6, Heartbeat: 20e6}})
	alice := dialSSE(t, in.srv.URL+"/notes/events/", "Authorization", w.tokens["alice"])
	bob := dialWS(t, in.srv.URL+"/notes/events/", "Authorization", w.tokens["bob"])
	carol := dialSSE(t, in.srv.URL+"/notes/events/", "Authorization", w.tokens["carol"])

	_, err := w.db.NewUpdate().Model((*models.User)(nil)).Set("is_active = false").Where("id = ?", w.ids["alice"]).Exec(t.Context())
	dbtest.Must(t, err, "deactivate")
	dbtest.Must(t, models.DeleteUserTokens(t.Context(), w.db, w.ids["bob"]), "revoke")

	m := next(t, alice.msgs)
	if m.event != "close" || !strings.Contains(m.data, "Credentials no longer valid.") {
		t.Fatalf("alice: %+v", m)
	}
	if _, ok := <-alice.msgs; ok {
		t.Fatal("alice's stream goes on")
	}
	for range bob.msgs {
	}
	if bob.status != 1008 || bob.reason != "Credentials no longer valid." {
		t.Fatalf("bob: %d %q", bob.status, bob.reason)
	}
	in.write(t, w, "carol", "POST", "/notes/", `{"body":"still here"}`, 201)
	var l uint64
	expect(t, "carol", carol.msgs, &l, `created "body":"still here"`)
	// The revoked users cannot come back.
	for _, user := range []string{"alice", "bob"} {
		req, _ := http.NewRequest("GET", in.srv.URL+"/notes/events/", nil)
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Authorization", w.tokens[user])
		resp, err := http.DefaultClient.Do(req)
		dbtest.Must(t, err, "reconnect")
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("%s reconnects: %d, want 401", user, resp.StatusCode)
		}
	}
	in.cancel()
	in.feed.Wait()
	in.srv.Close()
	carol.resp.Body.Close()
	check()
}
