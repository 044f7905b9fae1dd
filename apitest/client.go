package apitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/cosworth/cosworth/authentication"
)

// Client sends requests to one service and remembers the credentials to
// send with them, like DRF's APIClient; make one with [New] or [NewLive].
// A request that cannot be sent returns a Response with Err set, which its
// assertions report. A Client is for one goroutine at a time (use
// [Client.Clone] for another).
type Client struct {
	// Header is set on every request, over the credentials and under the
	// request's own options.
	Header http.Header

	handler   http.Handler // in process (New)
	base      string       // a running server (NewLive)
	http      *http.Client
	authz     string
	principal *authentication.Principal
}

// New returns a client that serves each request with h in process, through
// an httptest.ResponseRecorder, as DRF's APIClient does: h is the handler a
// service mounts (its router with the authentication middleware), and
// requests go to http://example.com from 192.0.2.1.
func New(h http.Handler) *Client {
	return &Client{Header: http.Header{}, handler: h}
}

// NewLive returns a client that sends each request over the network to the
// server at baseURL (such as "http://127.0.0.1:8000"), the counterpart of
// DRF's RequestsClient for a running process. hc may be nil for a client
// with a 30-second timeout. ForceAuthenticate cannot reach another process:
// the requests of a live client that has one return an Err instead.
func NewLive(baseURL string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{Header: http.Header{}, base: strings.TrimSuffix(baseURL, "/"), http: hc}
}

// Credentials sets the Authorization header of every later request, like
// DRF's client.credentials(HTTP_AUTHORIZATION=...): "Bearer <jwt>" or
// "Token <key>". "" sends none. It returns c.
func (c *Client) Credentials(authorization string) *Client {
	c.authz = authorization
	return c
}

// ForceAuthenticate makes every later request authenticated as p without
// credentials, like DRF's force_authenticate: authentication.Middleware
// keeps p and runs no authenticator (see
// [authentication.ForceAuthenticate]). nil ends it. It returns c.
func (c *Client) ForceAuthenticate(p *authentication.Principal) *Client {
	c.principal = p
	return c
}

// Logout forgets the credentials and the forced principal: later requests
// are anonymous.
func (c *Client) Logout() {
	c.authz, c.principal = "", nil
}

// Clone returns a copy of c with its own Header, credentials and principal,
// for another user or another goroutine.
func (c *Client) Clone() *Client {
	cp := *c
	cp.Header = c.Header.Clone()
	if cp.Header == nil {
		cp.Header = http.Header{}
	}
	return &cp
}

// Option changes one request before it is sent.
type Option func(*http.Request)

// Header sets header key to value on one request; it overrides the client's
// credentials and Header.
func Header(key, value string) Option {
	return func(r *http.Request) { r.Header.Set(key, value) }
}

// Get sends GET path (a path with its query, or an absolute URL such as a
// paginator's next link).
func (c *Client) Get(path string, opts ...Option) *Response {
	return c.Do(http.MethodGet, path, nil, opts...)
}

// Head sends HEAD path.
func (c *Client) Head(path string, opts ...Option) *Response {
	return c.Do(http.MethodHead, path, nil, opts...)
}

// Options sends OPTIONS path.
func (c *Client) Options(path string, opts ...Option) *Response {
	return c.Do(http.MethodOptions, path, nil, opts...)
}

// Delete sends DELETE path.
func (c *Client) Delete(path string, opts ...Option) *Response {
	return c.Do(http.MethodDelete, path, nil, opts...)
}

// Post sends POST path with body (see [Client.Do] for how it is encoded).
func (c *Client) Post(path string, body any, opts ...Option) *Response {
	return c.Do(http.MethodPost, path, body, opts...)
}

// Put sends PUT path with body.
func (c *Client) Put(path string, body any, opts ...Option) *Response {
	return c.Do(http.MethodPut, path, body, opts...)
}

// Patch sends PATCH path with body.
func (c *Client) Patch(path string, body any, opts ...Option) *Response {
	return c.Do(http.MethodPatch, path, body, opts...)
}

// Do sends a request and reads the whole response. body is
//   - nil: no body;
//   - a string or []byte: sent as written, as application/json (raw or
//     deliberately malformed JSON);
//   - url.Values: a form, as application/x-www-form-urlencoded;
//   - an io.Reader: streamed as application/json, without a length
//     (chunked on the network);
//   - anything else: encoded with encoding/json as application/json.
//
// A Header option changes the Content-Type. When the body cannot be
// encoded or the request cannot be sent, the Response has Err set and no
// status.
func (c *Client) Do(method, path string, body any, opts ...Option) *Response {
	res := &Response{method: method, path: path}
	rd, ctype, err := encodeBody(body)
	if err != nil {
		res.Err = err
		return res
	}
	target := path
	if c.handler == nil && !strings.HasPrefix(path, "http://") && !strings.HasPrefix(path, "https://") {
		target = c.base + path
	}
	var r *http.Request
	switch {
	case c.handler != nil:
		r, err = newInProcess(method, target, rd)
	case c.http != nil:
		r, err = http.NewRequest(method, target, rd)
	default:
		err = errors.New("a Client is made by New or NewLive")
	}
	if err != nil {
		res.Err = err
		return res
	}
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	if c.authz != "" {
		r.Header.Set("Authorization", c.authz)
	}
	maps.Copy(r.Header, c.Header)
	for _, o := range opts {
		o(r)
	}
	if c.handler == nil {
		if c.principal != nil {
			res.Err = errors.New("ForceAuthenticate needs a client in process (New), not a live server")
			return res
		}
		resp, err := c.http.Do(r)
		if err != nil {
			res.Err = err
			return res
		}
		defer resp.Body.Close()
		res.Status, res.Header = resp.StatusCode, resp.Header
		if res.Body, err = io.ReadAll(resp.Body); err != nil {
			res.Err = fmt.Errorf("reading the body: %w", err)
		}
		return res
	}
	if c.principal != nil {
		r = r.WithContext(authentication.ForceAuthenticate(r.Context(), c.principal))
	}
	w := httptest.NewRecorder()
	c.handler.ServeHTTP(w, r)
	res.Status, res.Header, res.Body = w.Code, w.Result().Header, w.Body.Bytes()
	return res
}

// newInProcess is httptest.NewRequest, with its panic on a target that
// is not a valid request URI turned into an error.
func newInProcess(method, target string, body io.Reader) (r *http.Request, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("invalid request: %v", p)
		}
	}()
	return httptest.NewRequest(method, target, body), nil
}

func encodeBody(body any) (io.Reader, string, error) {
	const js = "application/json"
	switch b := body.(type) {
	case nil:
		return nil, "", nil
	case string:
		return strings.NewReader(b), js, nil
	case []byte:
		return bytes.NewReader(b), js, nil
	case url.Values:
		return strings.NewReader(b.Encode()), "application/x-www-form-urlencoded", nil
	case io.Reader:
		return struct{ io.Reader }{b}, js, nil // hide the type: no length, like a stream
	}
	j, err := json.Marshal(body)
	if err != nil {
		return nil, "", fmt.Errorf("encoding the body as JSON: %w", err)
	}
	return bytes.NewReader(j), js, nil
}
