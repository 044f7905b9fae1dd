package authentication

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cosworth/cosworth/internal/drfmsg"
)

// Forward authenticates a request by asking another service, the way
// Traefik's ForwardAuth and nginx's auth_request do: the request's
// credentials (Authorization, Cookie, or the Headers configured) are sent
// to URL, with X-Forwarded-Method, -Proto, -Host and -Uri describing the
// original request.
//
//   - 2xx: the caller is who the response says: headers IDHeader,
//     UserHeader, StaffHeader (X-Auth-User-Id, X-Auth-User, X-Auth-Staff) or,
//     with JSONBody, a body {"id", "username", "is_staff", ...} whose
//     other members become Claims. A 2xx naming nobody fails closed.
//   - 401 or 403: the credentials are rejected (a *FailedError, 401).
//   - anything else, a redirect, a network error or no answer within
//     Timeout: an error wrapping ErrUnavailable (503). It never lets the
//     request through as anonymous.
//
// A request carrying none of the forwarded headers is not sent (it is
// anonymous). Connections to the upstream are pooled and bounded by
// MaxConnsPerHost. With CacheTTL set, positive answers are cached by the
// SHA-256 of the forwarded credentials, at most CacheSize of them: a
// revoked credential then keeps working for up to CacheTTL. The cache
// assumes the upstream's answer depends on the credentials alone; leave it
// off when the upstream authorizes by method or path (X-Forwarded-Uri).
type Forward struct {
	// URL is the upstream's verification endpoint (required).
	URL string
	// Method is the upstream request's method: GET when empty.
	Method string
	// Headers are the request headers forwarded: Authorization and Cookie
	// when nil.
	Headers []string
	// Timeout bounds the whole upstream exchange: 2 seconds when zero.
	Timeout time.Duration
	// MaxConnsPerHost bounds connections to the upstream: 64 when zero.
	MaxConnsPerHost int
	// Client, when set, replaces the bounded client Forward builds (it
	// should bound connections and not follow redirects).
	Client *http.Client
	// IDHeader, UserHeader and StaffHeader name the response headers that
	// carry the principal: X-Auth-User-Id, X-Auth-User and X-Auth-Staff
	// when empty. StaffHeader is true for "true", "1" or "yes".
	IDHeader, UserHeader, StaffHeader string
	// ClaimHeaders are further response headers copied into Claims.
	ClaimHeaders []string
	// JSONBody reads the principal from a JSON body (at most 64 KiB)
	// instead of headers.
	JSONBody bool
	// ChallengeValue is the WWW-Authenticate challenge: "Bearer" when empty.
	ChallengeValue string
	// CacheTTL, when positive, caches positive answers that long.
	CacheTTL time.Duration
	// CacheSize bounds the cache: 10000 entries when zero.
	CacheSize int

	once    sync.Once
	client  *http.Client
	timeout time.Duration
	headers []string
	cache   *forwardCache
}

var (
	_ Authenticator = (*Forward)(nil)
	_ Challenger    = (*Forward)(nil)
)

// MsgAuthenticationFailed is DRF's AuthenticationFailed default message.
const MsgAuthenticationFailed = drfmsg.AuthenticationFailed

const maxForwardBody = 64 << 10

func (f *Forward) setup() {
	f.once.Do(func() {
		if f.URL == "" {
			panic("cosworth/authentication: Forward needs a URL")
		}
		f.timeout = f.Timeout
		if f.timeout <= 0 {
			f.timeout = 2 * time.Second
		}
		src := f.Headers
		if src == nil {
			src = []string{"Authorization", "Cookie"}
		}
		f.headers = make([]string, len(src))
		for i, h := range src {
			f.headers[i] = http.CanonicalHeaderKey(h)
		}
		f.client = f.Client
		if f.client == nil {
			conns := f.MaxConnsPerHost
			if conns <= 0 {
				conns = 64
			}
			tr := &http.Transport{
				Proxy:                  nil,
				DialContext:            (&net.Dialer{Timeout: f.timeout, KeepAlive: 30 * time.Second}).DialContext,
				MaxConnsPerHost:        conns,
				MaxIdleConns:           conns,
				MaxIdleConnsPerHost:    conns,
				IdleConnTimeout:        90 * time.Second,
				TLSHandshakeTimeout:    f.timeout,
				ResponseHeaderTimeout:  f.timeout,
				MaxResponseHeaderBytes: 64 << 10,
				ForceAttemptHTTP2:      true,
			}
			f.client = &http.Client{
				Transport: tr,
				Timeout:   f.timeout,
				CheckRedirect: func(*http.Request, []*http.Request) error {
					return http.ErrUseLastResponse
				},
			}
		}
		if f.CacheTTL > 0 {
			size := f.CacheSize
			if size <= 0 {
				size = 10000
			}
			f.cache = newForwardCache(size, f.CacheTTL)
		}
	})
}

// Challenge returns ChallengeValue, "Bearer" by default.
func (f *Forward) Challenge() string {
	if f.ChallengeValue == "" {
		return "Bearer"
	}
	return f.ChallengeValue
}

// Authenticate implements Authenticator.
func (f *Forward) Authenticate(r *http.Request) (*Principal, error) {
	f.setup()
	present := false
	for _, h := range f.headers {
		if len(r.Header[h]) > 0 {
			present = true
			break
		}
	}
	if !present {
		return nil, nil
	}
	var ck [32]byte
	if f.cache != nil {
		hs := sha256.New()
		for _, h := range f.headers {
			for _, v := range r.Header[h] {
				hs.Write([]byte(h))
				hs.Write([]byte{0})
				hs.Write([]byte(v))
				hs.Write([]byte{0})
			}
		}
		hs.Sum(ck[:0])
		if p := f.cache.get(ck); p != nil {
			return p, nil
		}
	}
	p, err := f.ask(r)
	if err != nil {
		return nil, err
	}
	if f.cache != nil {
		f.cache.put(ck, p)
	}
	return p, nil
}

func (f *Forward) ask(r *http.Request) (*Principal, error) {
	ctx, cancel := context.WithTimeout(r.Context(), f.timeout)
	defer cancel()
	method := f.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, f.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: forward auth request: %w", ErrUnavailable, err)
	}
	for _, h := range f.headers {
		if v := r.Header[h]; len(v) > 0 {
			req.Header[h] = v
		}
	}
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	req.Header.Set("X-Forwarded-Method", r.Method)
	req.Header.Set("X-Forwarded-Proto", proto)
	req.Header.Set("X-Forwarded-Host", r.Host)
	req.Header.Set("X-Forwarded-Uri", r.URL.RequestURI())
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: forward auth: %w", ErrUnavailable, err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxForwardBody))
		_ = resp.Body.Close()
	}()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, &FailedError{Detail: MsgAuthenticationFailed}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, fmt.Errorf("%w: forward auth answered %d", ErrUnavailable, resp.StatusCode)
	}
	var p *Principal
	if f.JSONBody {
		p, err = f.fromBody(resp.Body)
	} else {
		p, err = f.fromHeaders(resp.Header)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: forward auth: %w", ErrUnavailable, err)
	}
	p.Backend = "forward"
	return p, nil
}

func headerOr(name, def string) string {
	if name == "" {
		return def
	}
	return name
}

var errNoIdentity = errors.New("2xx answer names no user")

func (f *Forward) fromHeaders(h http.Header) (*Principal, error) {
	p := &Principal{Username: h.Get(headerOr(f.UserHeader, "X-Auth-User"))}
	if id := h.Get(headerOr(f.IDHeader, "X-Auth-User-Id")); id != "" {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return nil, errors.New("user id header is not an integer")
		}
		p.ID = n
	}
	if p.ID == 0 && p.Username == "" {
		return nil, errNoIdentity
	}
	switch strings.ToLower(h.Get(headerOr(f.StaffHeader, "X-Auth-Staff"))) {
	case "true", "1", "yes":
		p.IsStaff = true
	}
	for _, c := range f.ClaimHeaders {
		if v := h.Get(c); v != "" {
			if p.Claims == nil {
				p.Claims = make(map[string]any, len(f.ClaimHeaders))
			}
			p.Claims[c] = v
		}
	}
	return p, nil
}

func (f *Forward) fromBody(body io.Reader) (*Principal, error) {
	b, err := io.ReadAll(io.LimitReader(body, maxForwardBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxForwardBody {
		return nil, errors.New("body too large")
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, errors.New("body is not a JSON object")
	}
	p := &Principal{}
	switch v := m["id"].(type) {
	case json.Number:
		n, err := v.Int64()
		if err != nil {
			return nil, errors.New("id is not an integer")
		}
		p.ID = n
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, errors.New("id is not an integer")
		}
		p.ID = n
	case nil:
	default:
		return nil, errors.New("id is not an integer")
	}
	p.Username, _ = m["username"].(string)
	p.IsStaff, _ = m["is_staff"].(bool)
	if p.ID == 0 && p.Username == "" {
		return nil, errNoIdentity
	}
	delete(m, "id")
	delete(m, "username")
	delete(m, "is_staff")
	if len(m) > 0 {
		p.Claims = m
	}
	return p, nil
}

// forwardCache is a bounded map of positive answers with a TTL: expired
// entries are dropped when met, and when full the oldest entry is evicted
// (insertion order, kept in a ring).
type forwardCache struct {
	mu   sync.Mutex
	ttl  time.Duration
	m    map[[32]byte]forwardEntry
	ring [][32]byte
	next int
}

type forwardEntry struct {
	p       Principal
	expires time.Time
}

func newForwardCache(size int, ttl time.Duration) *forwardCache {
	return &forwardCache{ttl: ttl, m: make(map[[32]byte]forwardEntry, size), ring: make([][32]byte, 0, size)}
}

func (c *forwardCache) get(k [32]byte) *Principal {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return nil
	}
	if time.Now().After(e.expires) {
		delete(c.m, k)
		return nil
	}
	p := e.p // a copy per request: callers may not share one
	return &p
}

func (c *forwardCache) put(k [32]byte, p *Principal) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok {
		if len(c.ring) < cap(c.ring) {
			c.ring = append(c.ring, k)
		} else {
			delete(c.m, c.ring[c.next])
			c.ring[c.next] = k
			c.next = (c.next + 1) % len(c.ring)
		}
	}
	c.m[k] = forwardEntry{p: *p, expires: time.Now().Add(c.ttl)}
}
