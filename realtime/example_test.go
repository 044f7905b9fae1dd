package realtime_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/realtime"
	"github.com/cosworth/cosworth/views"
)

// Message is a model whose changes the example streams.
type Message struct {
	bun.BaseModel `bun:"table:messages,alias:message"`
	ID            int64  `bun:",pk,autoincrement" json:"id" cosworth:"read_only"`
	Text          string `bun:",notnull" json:"text" validate:"required"`
}

// ExampleNew streams the committed changes of a list view and its detail
// view as Server-Sent Events, in process (set Options.Redis for several
// instances). Mount the feed next to the views; its context is the
// server's, so that shutdown ends the streams.
func ExampleNew() {
	ctx, stop := context.WithCancel(context.Background())
	dir, _ := os.MkdirTemp("", "realtime")
	defer os.RemoveAll(dir)
	db, err := models.Open(ctx, filepath.Join(dir, "example.db"))
	if err != nil {
		panic(err)
	}
	defer db.Close()
	if err := models.CreateTables(ctx, db, (*Message)(nil)); err != nil {
		panic(err)
	}

	list := &views.ListCreateView[Message]{DB: db}
	detail := &views.RetrieveUpdateDestroyView[Message]{DB: db}
	feed := realtime.New(ctx, (*views.Generic[Message])(list), realtime.Options[Message]{})
	detail.OnCommit = feed.OnCommit

	r := chi.NewRouter()
	r.Handle("/messages/", list)
	r.Handle("/messages/events/", feed)
	r.Handle("/messages/{id}/", detail)
	srv := httptest.NewServer(r)
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL+"/messages/events/", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()

	post, _ := http.Post(srv.URL+"/messages/", "application/json", strings.NewReader(`{"text":"hello"}`))
	post.Body.Close()
	del, _ := http.NewRequest("DELETE", srv.URL+"/messages/1/", nil)
	if resp, err := http.DefaultClient.Do(del); err == nil {
		resp.Body.Close()
	}

	// Each event: "event:", "id:" (increasing), "data:", a blank line.
	events := bufio.NewScanner(resp.Body)
	for n := 0; n < 2 && events.Scan(); {
		line := events.Text()
		if strings.HasPrefix(line, "event: ") || strings.HasPrefix(line, "data: ") {
			fmt.Println(line)
		}
		if strings.HasPrefix(line, "data: ") {
			n++
		}
	}
	stop()
	feed.Wait()
	// Output:
	// event: created
	// data: {"id":1,"text":"hello"}
	// event: deleted
	// data: {"id":1}
}
