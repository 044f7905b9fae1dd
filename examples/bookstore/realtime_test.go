package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/cosworth/cosworth/internal/dbtest"
)

// TestBookEvents runs two instances on one database and one Redis: a book
// created and deleted on the first reaches an anonymous SSE subscriber
// and a WebSocket subscriber (token in the query) of the second, and
// SIGTERM ends the streams with their reason and lets the process exit.
func TestBookEvents(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := buildBookstore(t)
	dsn, _ := dbtest.PostgresSchemaURL(t)
	_, prefix := dbtest.Redis(t)
	args := []string{"-db", dsn, "-redis", dbtest.RedisURL(), "-redis-prefix", prefix}
	a := startBookstore(t, bin, args...)
	b := startBookstore(t, bin, args...)

	a.api.Post("/api/register/", map[string]any{"username": "rita", "password": "rita-pass-123"}).AssertStatus(t, 201)
	var pair struct{ Access string }
	dbtest.Must(t, json.Unmarshal(a.api.Post("/api/token/", map[string]any{"username": "rita", "password": "rita-pass-123"}).AssertStatus(t, 200).Body, &pair), "token")

	// SSE, anonymous: anyone may read books.
	req, _ := http.NewRequest("GET", b.base+"/api/books/events/", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	dbtest.Must(t, err, "SSE")
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("SSE: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sse := bufio.NewReader(resp.Body)
	readSSE := func() (event, data string) {
		for {
			line, err := sse.ReadString('\n')
			dbtest.Must(t, err, "read SSE")
			line = strings.TrimSuffix(line, "\n")
			switch {
			case strings.HasPrefix(line, "event: "):
				event = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				data = line[len("data: "):]
			case line == "" && event != "":
				return event, data
			}
		}
	}
	// WebSocket, with the JWT as access_token.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(b.base, "http")+"/api/books/events/?access_token="+pair.Access, nil)
	dbtest.Must(t, err, "WebSocket")
	defer ws.CloseNow()
	readWS := func() map[string]json.RawMessage {
		_, msg, err := ws.Read(ctx)
		dbtest.Must(t, err, "read WebSocket")
		var m map[string]json.RawMessage
		dbtest.Must(t, json.Unmarshal(msg, &m), "message %s", msg)
		return m
	}

	author := id(t, object(t, a.as(bearer(pair.Access)).Post("/api/authors/", map[string]any{"name": "Frank Herbert", "email": "frank@example.com"}).AssertStatus(t, 201), "id", "name", "email", "created_at", "book_count"))
	book := id(t, object(t, a.as(bearer(pair.Access)).Post("/api/books/", map[string]any{"title": "Dune", "isbn": "9780441013593", "author": author, "price_cents": 999}).AssertStatus(t, 201), "id", "title", "isbn", "author", "price_cents", "published_on", "owner", "created_at"))
	a.as(bearer(pair.Access)).Delete(fmt.Sprintf("/api/books/%d/", book)).AssertStatus(t, 204)

	if ev, data := readSSE(); ev != "created" || !strings.Contains(data, `"title":"Dune"`) || !strings.Contains(data, `"owner":"rita"`) {
		t.Fatalf("SSE: %s %s", ev, data)
	}
	if ev, data := readSSE(); ev != "deleted" || data != fmt.Sprintf(`{"id":%d}`, book) {
		t.Fatalf("SSE: %s %s", ev, data)
	}
	if m := readWS(); string(m["event"]) != `"created"` || !strings.Contains(string(m["book"]), `"title":"Dune"`) {
		t.Fatalf("WebSocket: %v", m)
	}
	if m := readWS(); string(m["event"]) != `"deleted"` || string(m["book"]) != fmt.Sprintf(`{"id":%d}`, book) {
		t.Fatalf("WebSocket: %v", m)
	}

	b.stop(t)
	if ev, data := readSSE(); ev != "close" || data != `{"detail":"Server shutting down."}` {
		t.Fatalf("SSE at shutdown: %s %s", ev, data)
	}
	if _, _, err := ws.Read(ctx); websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("WebSocket at shutdown: %v", err)
	}
	a.stop(t)
}
