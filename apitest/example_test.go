package apitest_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/apitest"
	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/models"
)

// exampleDB opens a SQLite database for the examples; a test uses
// apitest.DB(t, ...) instead.
func exampleDB() (*bun.DB, func()) {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "apitest-example")
	db, err := models.Open(ctx, filepath.Join(dir, "notes.db"))
	if err != nil {
		log.Fatal(err)
	}
	if err := models.CreateTables(ctx, db, notesModels...); err != nil {
		log.Fatal(err)
	}
	return db, func() { db.Close(); os.RemoveAll(dir) }
}

// A Client sends requests to the service's handler in process. Post
// encodes its body as JSON; ForceAuthenticate makes the requests come from
// a user without credentials (DRF's force_authenticate), and Logout makes
// them anonymous again. In a test, assert with res.AssertStatus(t, 201) and
// res.AssertJSON(t, want), which print the response when they fail.
func ExampleClient() {
	db, done := exampleDB()
	defer done()
	c := apitest.New(notesAPI(db))

	res := c.Post("/api/notes/", map[string]any{"text": "buy milk"})
	fmt.Println(res.Status, string(res.Body))

	c.ForceAuthenticate(&authentication.Principal{ID: 1, Username: "alice"})
	res = c.Post("/api/notes/", map[string]any{"text": "buy milk"})
	fmt.Println(res.Status, string(res.Body))
	res = c.Post("/api/notes/", map[string]any{"text": ""})
	fmt.Println(res.Status, string(res.Body))

	c.Logout()
	var notes []Note
	if err := c.Get("/api/notes/").JSON(&notes); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d note by %s\n", len(notes), notes[0].Owner)
	// Output:
	// 401 {"detail":"Authentication credentials were not provided."}
	// 201 {"id":1,"text":"buy milk","owner":"alice"}
	// 400 {"text":["This field may not be blank."]}
	// 1 note by alice
}

// Credentials sets the Authorization header of the later requests, like
// DRF's client.credentials(HTTP_AUTHORIZATION=...): here a JWT obtained
// from the service itself.
func ExampleClient_Credentials() {
	db, done := exampleDB()
	defer done()
	if _, err := models.CreateUser(context.Background(), db, "alice", "alice-pass-123", false); err != nil {
		log.Fatal(err)
	}
	c := apitest.New(notesAPI(db))

	var pair struct{ Access string }
	if err := c.Post("/api/token/", map[string]string{"username": "alice", "password": "alice-pass-123"}).JSON(&pair); err != nil {
		log.Fatal(err)
	}
	c.Credentials("Bearer " + pair.Access)
	fmt.Println(string(c.Get("/api/me/").Body))
	c.Credentials("Bearer not-a-token")
	fmt.Println(c.Get("/api/me/").Status)
	// Output:
	// {"id":1,"username":"alice"}
	// 401
}

// NewLive sends the same requests over the network to a running server,
// DRF's RequestsClient: here an httptest.Server, in the bookstore's
// end-to-end tests the built binary. Credentials travel as headers;
// ForceAuthenticate cannot reach another process and fails instead.
func ExampleNewLive() {
	db, done := exampleDB()
	defer done()
	srv := httptest.NewServer(notesAPI(db))
	defer srv.Close()

	c := apitest.NewLive(srv.URL, srv.Client())
	res := c.Get("/api/notes/")
	fmt.Println(res.Status, string(res.Body))
	res = c.Post("/api/notes/", map[string]any{"text": "buy milk"})
	fmt.Println(res.Status, res.Header.Get("WWW-Authenticate"))
	c.ForceAuthenticate(&authentication.Principal{ID: 1, Username: "alice"})
	fmt.Println(c.Get("/api/notes/").Err)
	// Output:
	// 200 []
	// 401 Bearer realm="api"
	// ForceAuthenticate needs a client in process (New), not a live server
}
