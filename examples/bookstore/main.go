// Command bookstore is Cosworth's example service: authors and books behind
// JWT and DRF-token authentication, permissions, three paginators, search,
// ordering, filters and throttling, built only from Cosworth's public API.
// Its wire behaviour is bookstore-contract.md; docs/tutorial.md builds it
// step by step.
//
//	go run ./examples/bookstore            # http://127.0.0.1:8000, SQLite file bookstore.db
//	go run ./examples/bookstore -demo      # with users alice, bob and admin
//
// Flags (each also read from the environment variable in brackets; a flag
// wins over its variable):
//
//	-addr     [BOOKSTORE_ADDR]    listen address (default 127.0.0.1:8000)
//	-db       [DATABASE_URL]      postgres:// URL, or a SQLite file path or sqlite: URL (default bookstore.db;
//	                              required, a postgres:// URL, in a build with -tags cosworth_nosqlite)
//	-redis    [REDIS_URL]         redis:// URL; when set, throttling and token lookups use Redis
//	-redis-prefix [BOOKSTORE_REDIS_PREFIX] prefix of every Redis key (default "bookstore:")
//	-secret   [BOOKSTORE_SECRET]  JWT signing key (random per start when unset, with a warning)
//	-demo     [BOOKSTORE_DEMO=1]  create the demo users if they do not exist
//	-healthcheck                  GET /healthz on -addr and exit 0 if it answers 200, else 1
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cosworth/cosworth"
	"github.com/cosworth/cosworth/models"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bookstore:", err)
		os.Exit(1)
	}
}

// config is what the flags and environment say.
type config struct {
	addr        string
	db          string
	redis       string
	redisPrefix string
	secret      string
	demo        bool
	healthcheck bool
}

// parseConfig reads args (args[0] is the program name) over the
// environment: each flag's default is its variable's value when set.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	var c config
	name := "bookstore"
	if len(args) > 0 {
		name, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", env("BOOKSTORE_ADDR", "127.0.0.1:8000"), "listen `address` [BOOKSTORE_ADDR]")
	defDB, dbUsage := "bookstore.db", "postgres:// `URL`, or a SQLite file path or sqlite: URL [DATABASE_URL]"
	if !models.SQLiteBuiltIn {
		defDB, dbUsage = "", "postgres:// `URL` (built without SQLite) [DATABASE_URL]"
	}
	fs.StringVar(&c.db, "db", env("DATABASE_URL", defDB), dbUsage)
	fs.StringVar(&c.redis, "redis", env("REDIS_URL", ""), "redis:// `URL`; when set, throttling and token lookups use Redis [REDIS_URL]")
	fs.StringVar(&c.redisPrefix, "redis-prefix", env("BOOKSTORE_REDIS_PREFIX", "bookstore:"), "`prefix` of every Redis key [BOOKSTORE_REDIS_PREFIX]")
	fs.StringVar(&c.secret, "secret", env("BOOKSTORE_SECRET", ""), "JWT signing `key`; random per start when unset [BOOKSTORE_SECRET]")
	demo, err := envBool(getenv("BOOKSTORE_DEMO"))
	if err != nil {
		return c, fmt.Errorf("BOOKSTORE_DEMO: %w", err)
	}
	fs.BoolVar(&c.demo, "demo", demo, "create users alice, bob and admin (staff) if they do not exist [BOOKSTORE_DEMO=1]")
	fs.BoolVar(&c.healthcheck, "healthcheck", false, "GET /healthz on -addr and exit 0 if it answers 200, else 1 (for Docker HEALTHCHECK)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.addr == "" {
		return c, errors.New("-addr is empty")
	}
	if c.healthcheck {
		return c, nil // it only needs -addr
	}
	if !models.SQLiteBuiltIn && !strings.HasPrefix(c.db, "postgres://") && !strings.HasPrefix(c.db, "postgresql://") {
		what := "no DATABASE_URL or -db given"
		if c.db != "" {
			what = fmt.Sprintf("-db/DATABASE_URL %q is not a postgres:// URL", redact(c.db))
		}
		return c, fmt.Errorf("%s, and this binary was built with -tags cosworth_nosqlite, so it has no SQLite: "+
			"set DATABASE_URL=postgres://user:password@host:5432/dbname (or build without the tag for the embedded SQLite)", what)
	}
	if c.db == "" {
		return c, errors.New("-db is empty")
	}
	return c, nil
}

func envBool(v string) (bool, error) {
	if v == "" {
		return false, nil
	}
	return strconv.ParseBool(v)
}

// run is the whole program: main only adds the process's arguments,
// environment, output streams and a context canceled by SIGINT/SIGTERM.
// It returns when ctx is canceled (after a graceful shutdown) or on the
// first error.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if cfg.healthcheck {
		return healthcheck(ctx, cfg.addr, stdout)
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	if cfg.secret == "" {
		var b [32]byte
		_, _ = rand.Read(b[:])
		cfg.secret = hex.EncodeToString(b[:])
		logger.Warn("no -secret or BOOKSTORE_SECRET: using a random JWT signing key, so tokens stop working when the process restarts")
	}
	return serve(ctx, cfg, logger)
}

// healthcheck GETs /healthz on addr (a wildcard host means loopback) and
// returns nil when it answers 200 within a few seconds.
func healthcheck(ctx context.Context, addr string, stdout io.Writer) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("healthcheck: -addr %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	u := "http://" + net.JoinHostPort(host, port) + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", u, resp.Status)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}

// redact hides the password of a database or Redis URL for the log.
func redact(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		if at := strings.LastIndexByte(dsn, '@'); at > i {
			if colon := strings.IndexByte(dsn[i+3:at], ':'); colon >= 0 {
				return dsn[:i+3+colon] + ":xxxxx" + dsn[at:]
			}
		}
	}
	return dsn
}

// serve opens the database (and Redis), creates the tables, and serves the
// routes until ctx is canceled.
func serve(ctx context.Context, cfg config, logger *slog.Logger) error {
	if len(cfg.secret) < 32 {
		return errors.New("-secret must be at least 32 bytes (HS256 needs a key as long as its hash); generate one with: openssl rand -hex 32")
	}
	openCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	db, err := models.Open(openCtx, cfg.db)
	if err != nil {
		return fmt.Errorf("open database %s: %w", redact(cfg.db), err)
	}
	// Until the server owns the closes (OnShutdown, within its deadline).
	closeAll := []func() error{db.Close}
	defer func() {
		for _, c := range closeAll {
			_ = c()
		}
	}()
	if err := models.CreateTables(openCtx, db, tables()...); err != nil {
		return fmt.Errorf("create tables: %w", err)
	}
	if cfg.demo {
		if err := createDemoUsers(openCtx, db, logger); err != nil {
			return err
		}
	}

	var rdb *redis.Client
	var pingers []cosworth.Pinger
	if cfg.redis != "" {
		opt, err := redis.ParseURL(cfg.redis)
		if err != nil {
			return fmt.Errorf("-redis: %w", err)
		}
		opt.ContextTimeoutEnabled = true // request and health-check deadlines bound each command (docs/deployment.md)
		rdb = redis.NewClient(opt)
		closeAll = append(closeAll, rdb.Close)
		if err := rdb.Ping(openCtx).Err(); err != nil {
			return fmt.Errorf("connect to Redis %s: %w", redact(cfg.redis), err)
		}
		pingers = append(pingers, cosworth.PingerFunc(func(ctx context.Context) error { return rdb.Ping(ctx).Err() }))
	}
	h, err := routes(newDeps(db, rdb, cfg, pingers))
	if err != nil {
		return err
	}

	logger.Info("bookstore starting", slog.String("addr", "http://"+cfg.addr), slog.String("db", redact(cfg.db)),
		slog.Bool("redis", rdb != nil), slog.Bool("demo", cfg.demo))
	if !cfg.demo {
		logger.Info("no users yet? register one with POST /api/register/, or restart with -demo for alice, bob and admin (see docs/tutorial.md)")
	}
	srv := cosworth.NewServer(logger, cosworth.Config{Addr: cfg.addr}, h)
	// One shutdown deadline for everything: a pool or client that has not
	// closed by then is abandoned and run returns an error (exit 1).
	srv.OnShutdown("database", func(context.Context) error { return db.Close() })
	if rdb != nil {
		srv.OnShutdown("redis", func(context.Context) error { return rdb.Close() })
	}
	closeAll = nil
	return srv.ListenAndServe(ctx)
}
