package faulttest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cosworth/cosworth/models"
)

// TestAmbiguousCommit: a create whose INSERT reached the connection but
// whose answer never came back (PostgreSQL black-holed after the statement
// was sent, then the connection cut, or the request deadline passing) may
// have been committed: it is answered 500 without Retry-After, never the
// retryable 503, and logged as an ambiguous write with the request id. A
// create that cannot reach PostgreSQL at all (no connection) is the
// retryable 503 with Retry-After, and nothing is stored.
func TestAmbiguousCommit(t *testing.T) {
	for _, fault := range []string{"cut after send", "deadline after send"} {
		t.Run(fault, func(t *testing.T) {
			st := newStack(t, stackOptions{})
			c := client(t)
			if o := send(c, http.MethodPost, st.url+"/notes/", "", `{"title":"warm"}`); o.status != http.StatusCreated {
				t.Fatalf("warm-up create: %d %s %v", o.status, o.body, o.err)
			}
			dropped := st.pg.Dropped()
			st.pg.Blackhole()
			res := make(chan outcome, 1)
			go func() { res <- sendID(c, st.url+"/notes/", `{"title":"lost"}`) }()
			// The INSERT went into the black hole: it was sent.
			waitFor(t, "the INSERT reaching the black hole", 10*time.Second, func() (bool, string) {
				return st.pg.Dropped() > dropped, ""
			})
			if fault == "cut after send" {
				st.pg.Cut()
			}
			o := <-res
			st.pg.Restore()
			if o.status != http.StatusInternalServerError || o.retry != "" || o.body != `{"detail":"A server error occurred."}` {
				t.Fatalf("ambiguous create answered %d %s (Retry-After %q, err %v), want 500 without Retry-After", o.status, o.body, o.retry, o.err)
			}
			found := false
			for _, line := range strings.Split(st.logs.String(), "\n") {
				var m map[string]any
				if json.Unmarshal([]byte(line), &m) != nil || m["request_id"] != o.requestID {
					continue
				}
				if e, _ := m["error"].(string); strings.Contains(e, "ambiguous write") {
					found = true
				}
			}
			if !found {
				t.Fatalf("no log line with the request id %q naming the ambiguous write:\n%.4000s", o.requestID, st.logs)
			}
		})
	}

	t.Run("not sent", func(t *testing.T) {
		st := newStack(t, stackOptions{})
		c := client(t)
		st.pg.Cut()
		// Connections the pool held died with the cut: drop them, so the
		// create needs a new one, which is refused before anything is sent.
		models.Pool(st.db).Reset()
		o := send(c, http.MethodPost, st.url+"/notes/", "", `{"title":"refused"}`)
		st.pg.Restore()
		if o.status != http.StatusServiceUnavailable || o.retry == "" || o.body != unavailableBody {
			t.Fatalf("unsent create answered %d %s (Retry-After %q), want 503 with Retry-After", o.status, o.body, o.retry)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		n, err := st.db.NewSelect().Model((*Note)(nil)).Where("title = ?", "refused").Count(ctx)
		if err != nil || n != 0 {
			t.Fatalf("%d rows (%v) for a create answered 503: a retry would duplicate it", n, err)
		}
	})
}

// sendID is send for a JSON POST, also returning the response's request id.
func sendID(c *http.Client, url, body string) outcome {
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		return outcome{err: err}
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return outcome{status: res.StatusCode, body: string(b), retry: res.Header.Get("Retry-After"), requestID: res.Header.Get("X-Request-Id")}
}
