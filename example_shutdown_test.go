package cosworth_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/cosworth/cosworth"
)

// A server whose shutdown closes the database pool and the Redis client
// within its one deadline, and a stream that ends when shutdown begins.
func ExampleServer_OnShutdown() {
	mux := http.NewServeMux()
	mux.HandleFunc("/events", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "event: hello")
		_ = http.NewResponseController(w).Flush()
		select {
		case <-cosworth.Draining(r.Context()):
			fmt.Fprintln(w, "event: shutdown") // the client reconnects elsewhere
		case <-r.Context().Done():
		}
	})
	srv := cosworth.NewServer(slog.New(slog.DiscardHandler), cosworth.Config{}, mux)
	closed := make(chan string, 1)
	srv.OnShutdown("database", func(context.Context) error { closed <- "database closed"; return nil }) // db.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	ctx, shutdown := context.WithCancel(context.Background()) // signal.NotifyContext in a main
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()

	res, err := http.Get("http://" + ln.Addr().String() + "/events")
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	lines := bufio.NewScanner(res.Body)
	lines.Scan()
	fmt.Println(lines.Text())
	shutdown() // SIGTERM
	lines.Scan()
	fmt.Println(lines.Text())
	fmt.Println("Serve:", <-done)
	fmt.Println(<-closed)
	// Output:
	// event: hello
	// event: shutdown
	// Serve: <nil>
	// database closed
}
