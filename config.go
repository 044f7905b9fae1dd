package cosworth

import "time"

// Config bounds what one server accepts and how long it waits. Every zero
// field means the documented safe default below, never "unbounded": a Config{}
// is a production-ready configuration listening on DefaultAddr.
//
// RequestTimeout should stay below WriteTimeout, so that a handler whose
// deadline fired can still write its 503 before the connection's write
// deadline closes it; the defaults keep a 10s margin.
type Config struct {
	// Addr is the TCP address ListenAndServe listens on; "" means DefaultAddr.
	Addr string

	// ReadHeaderTimeout bounds reading the request line and headers (slow
	// header attacks); 0 means 5s.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included (slow body
	// attacks); 0 means 30s.
	ReadTimeout time.Duration
	// WriteTimeout bounds the time from the end of the request headers to
	// the end of the response; 0 means 30s.
	WriteTimeout time.Duration
	// IdleTimeout bounds how long an idle keep-alive connection stays open;
	// 0 means 120s.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line and headers; 0 means 64 KiB.
	// Larger requests get net/http's 431.
	MaxHeaderBytes int

	// MaxBodyBytes bounds a request body; 0 means 1 MiB. A larger body is
	// answered 413 {"detail": "Request body is too large."}.
	MaxBodyBytes int64
	// MaxQueryBytes bounds the raw query string; 0 means 4 KiB. A longer one
	// is answered 414 {"detail": "Request URI is too long."}.
	MaxQueryBytes int
	// MaxQueryParams bounds the number of &-separated query parameters; 0
	// means 64. More are answered 400 {"detail": "Too many query parameters."}.
	MaxQueryParams int

	// RequestTimeout is the deadline of each request's context, which every
	// database, Redis and auth-proxy call of Cosworth takes; 0 means 20s.
	RequestTimeout time.Duration
	// MaxInFlight bounds the requests handled at once; 0 means 1024. A
	// request over the bound is answered at once with 503 {"detail":
	// "Service temporarily unavailable, try again later."} and Retry-After,
	// instead of queueing.
	MaxInFlight int

	// MaxConns bounds the connections open at once (idle keep-alives and
	// slow clients included); 0 means 4096. A connection beyond the bound
	// is answered 503 {"detail": "Service temporarily unavailable, try
	// again later."} with Retry-After and Connection: close, without its
	// request being read (or, while 64 such answers are being written,
	// closed at once). Keep it below the process's open-file limit minus
	// the database and Redis pools.
	MaxConns int

	// ShutdownTimeout bounds the whole shutdown, from the signal to Serve's
	// return: the drain delay, in-flight requests and long-lived streams,
	// and the OnShutdown functions (database pool, Redis client); what is
	// still running at the deadline is cut off or abandoned. 0 means 10s.
	ShutdownTimeout time.Duration
	// DrainDelay is how long a shutdown keeps accepting connections after
	// /readyz starts answering 503, so that load balancers stop sending
	// traffic before connections are refused; 0 means none. It counts
	// within ShutdownTimeout.
	DrainDelay time.Duration
}

// The defaults a zero Config field stands for.
const (
	DefaultAddr              = "127.0.0.1:8000"
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 30 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultMaxBodyBytes      = 1 << 20
	DefaultMaxQueryBytes     = 4 << 10
	DefaultMaxQueryParams    = 64
	DefaultRequestTimeout    = 20 * time.Second
	DefaultMaxInFlight       = 1024
	DefaultMaxConns          = 4096
	DefaultShutdownTimeout   = 10 * time.Second
)

// withDefaults returns c with every zero or negative field replaced by its default.
func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	dur := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	num := func(n *int, def int) {
		if *n <= 0 {
			*n = def
		}
	}
	dur(&c.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	dur(&c.ReadTimeout, DefaultReadTimeout)
	dur(&c.WriteTimeout, DefaultWriteTimeout)
	dur(&c.IdleTimeout, DefaultIdleTimeout)
	dur(&c.RequestTimeout, DefaultRequestTimeout)
	dur(&c.ShutdownTimeout, DefaultShutdownTimeout)
	num(&c.MaxHeaderBytes, DefaultMaxHeaderBytes)
	num(&c.MaxQueryBytes, DefaultMaxQueryBytes)
	num(&c.MaxQueryParams, DefaultMaxQueryParams)
	num(&c.MaxInFlight, DefaultMaxInFlight)
	num(&c.MaxConns, DefaultMaxConns)
	if c.DrainDelay < 0 {
		c.DrainDelay = 0
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	return c
}
