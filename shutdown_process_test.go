package cosworth_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/internal/faultproxy"
)

// testServerBin is internal/testserver built once for the package's tests
// (into a directory TestMain removes).
var testServerBin struct {
	once sync.Once
	dir  string
	path string
	err  error
	out  []byte
}

// buildTestServer builds internal/testserver, once per test binary.
func buildTestServer(t *testing.T) string {
	t.Helper()
	b := &testServerBin
	b.once.Do(func() {
		b.dir, b.err = os.MkdirTemp("", "cosworth-testserver-")
		if b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, "testserver")
		b.out, b.err = exec.Command("go", "build", "-o", b.path, "./internal/testserver").CombinedOutput()
	})
	if b.err != nil {
		t.Fatalf("go build: %v\n%s", b.err, b.out)
	}
	return b.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if testServerBin.dir != "" {
		_ = os.RemoveAll(testServerBin.dir)
	}
	os.Exit(code)
}

// startTestServer starts bin and returns the process and its address.
func startTestServer(t *testing.T, bin string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	return startTestServerLog(t, bin, nil, args...)
}

// startTestServerLog is startTestServer with the process's stderr (its
// JSON log) written to stderr.
func startTestServerLog(t *testing.T, bin string, stderr io.Writer, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the address: %v", err)
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if !ok {
		t.Fatalf("unexpected first line %q", line)
	}
	return cmd, addr
}

// waitExit waits for cmd to exit within limit and returns its exit code.
func waitExit(t *testing.T, cmd *exec.Cmd, limit time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatalf("wait: %v", err)
		}
		return 0
	case <-time.After(limit):
		t.Fatalf("the process did not exit within %v of SIGTERM", limit)
		return -1
	}
}

// slowRequest starts GET /slow?ms=ms and returns once its headers arrived
// (the request is in flight); the channel yields the body or an error text.
func slowRequest(t *testing.T, addr, ms string) <-chan string {
	t.Helper()
	res, err := (&http.Client{Timeout: 20 * time.Second}).Get("http://" + addr + "/slow?ms=" + ms)
	if err != nil {
		t.Fatal(err)
	}
	body := make(chan string, 1)
	go func() {
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			body <- "error: " + err.Error()
			return
		}
		body <- string(b)
	}()
	return body
}

// waitRefused polls addr until connections are refused.
func waitRefused(t *testing.T, addr string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		switch {
		case err == nil:
			c.Close()
		case errors.Is(err, syscall.ECONNRESET):
			// The dial reached the accept queue as the listener closed;
			// the kernel reset it. Not served, not yet refused: dial again.
		case errors.Is(err, syscall.ECONNREFUSED):
			return
		default:
			t.Fatalf("dial during shutdown: %v, want connection refused", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("new connections still accepted %v after SIGTERM", limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestGracefulShutdownProcess(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs a process")
	}
	bin := buildTestServer(t)

	t.Run("in-flight request finishes", func(t *testing.T) {
		cmd, addr := startTestServer(t, bin, "-shutdown", "5s")
		body := slowRequest(t, addr, "1000")
		start := time.Now()
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		waitRefused(t, addr, 900*time.Millisecond) // before the in-flight request ends
		if got := <-body; got != "done" {
			t.Fatalf("in-flight request got %q, want it to finish", got)
		}
		if code := waitExit(t, cmd, 15*time.Second); code != 0 {
			t.Fatalf("exit code %d after a clean shutdown", code)
		}
		if took := time.Since(start); took < 900*time.Millisecond {
			t.Fatalf("exited after %v, before the in-flight request could finish", took)
		}
	})

	t.Run("shutdown bound", func(t *testing.T) {
		cmd, addr := startTestServer(t, bin, "-shutdown", "500ms")
		body := slowRequest(t, addr, "60000")
		start := time.Now()
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code := waitExit(t, cmd, 10*time.Second); code != 1 {
			t.Fatalf("exit code %d, want 1 when requests had to be cut off", code)
		}
		t.Logf("exit %v after SIGTERM (bound 500ms)", time.Since(start))
		if got := <-body; got == "done" {
			t.Fatal("a 60s request finished inside a 500ms shutdown bound")
		}
	})
}

// TestShutdownProcessBlackhole: SIGTERM while PostgreSQL (and Redis) are
// black-holed behind internal/faultproxy and requests wait on them. The
// process must exit within its shutdown bound (the pool's close, which
// sends cancel requests into the partition, is abandoned), with status 1
// and log lines naming what was abandoned. The exit time is logged (run
// with -count=10 -v for the figures); the test fails only when the exit
// takes 10 s beyond the bound, so a loaded machine cannot fail it while a
// shutdown that waits for the pool (15 s per connection in pgx) does.
// COSWORTH_SHUTDOWN_BOUND sets the bound (default 2s).
func TestShutdownProcessBlackhole(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a process")
	}
	t.Parallel()
	bin := buildTestServer(t)
	bound := 2 * time.Second
	if v := os.Getenv("COSWORTH_SHUTDOWN_BOUND"); v != "" {
		// For measuring at the documented default:
		// COSWORTH_SHUTDOWN_BOUND=10s go test -count=10 -v -run TestShutdownProcessBlackhole .
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("COSWORTH_SHUTDOWN_BOUND: %v", err)
		}
		bound = d
	}
	for _, withRedis := range []bool{false, true} {
		name := "postgres"
		if withRedis {
			name = "postgres and redis"
		}
		t.Run(name, func(t *testing.T) {
			dsn, _ := dbtest.PostgresSchemaURL(t)
			pg := faultproxy.Start(t, hostPort(t, dsn))
			args := []string{"-shutdown", bound.String(), "-db", pg.Rewrite(dsn)}
			var rp *faultproxy.Proxy
			if withRedis {
				dbtest.Redis(t) // skips or fails when Redis is down
				redisURL := dbtest.RedisURL()
				rp = faultproxy.Start(t, hostPort(t, redisURL))
				args = append(args, "-redis", rp.Rewrite(redisURL))
			}
			logs := &logBuffer{}
			cmd, addr := startTestServerLog(t, bin, logs, args...)
			c := &http.Client{Timeout: 30 * time.Second}
			if res := get(t, c, "http://"+addr+"/readyz"); res.status != 200 {
				t.Fatalf("before the black hole: %d %s", res.status, res.body)
			}
			pg.Blackhole()
			if rp != nil {
				rp.Blackhole()
			}
			const waiting = 8
			var wg sync.WaitGroup
			for range waiting {
				wg.Add(1)
				go func() {
					defer wg.Done()
					res, err := c.Get("http://" + addr + "/db")
					if err == nil {
						res.Body.Close()
					}
				}()
			}
			// The pool's four connections have sent their queries (or
			// startup messages) into the black hole.
			for pg.Dropped() < 4 {
				time.Sleep(10 * time.Millisecond)
			}
			start := time.Now()
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			code := waitExit(t, cmd, bound+10*time.Second)
			took := time.Since(start)
			t.Logf("exit %d after %v from SIGTERM (bound %v)", code, took, bound)
			if code != 1 {
				t.Fatalf("exit status %d after abandoning work, want 1\n%s", code, logs)
			}
			if !strings.Contains(logs.String(), `"msg":"stopped, work abandoned"`) {
				t.Fatalf("no log line saying work was abandoned:\n%s", logs)
			}
			wg.Wait()
		})
	}
}
