package realtime

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/drfmsg"
	"github.com/cosworth/cosworth/internal/jsonbody"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/views"
)

// reason is why a stream ends: the WebSocket close status and the detail
// sent (as the close reason, or SSE's final "close" event). The zero
// reason sends nothing (the client left, or a write failed).
type reason struct {
	code   websocket.StatusCode
	detail string
}

var (
	reasonShutdown = reason{websocket.StatusGoingAway, "Server shutting down."}
	reasonSlow     = reason{websocket.StatusPolicyViolation, "Client too slow: send buffer full."}
	reasonRevoked  = reason{websocket.StatusPolicyViolation, "Credentials no longer valid."}
	reasonAuthDown = reason{websocket.StatusTryAgainLater, "Authentication unavailable, reconnect later."}
	reasonBusDown  = reason{websocket.StatusTryAgainLater, "Event bus unavailable, reconnect later."}
)

// stream is one subscriber. An idle stream has no goroutine of its own
// (its connection's reader aside): wake starts drain when there is work
// (an event, a heartbeat, the end), and drain exits when it is done. ch,
// done and why are the feed's side; the rest belongs to drain.
type stream[T any] struct {
	r     *http.Request   // the connect request, never canceled
	base  context.Context // r's context before any re-check
	user  string
	t     transport
	ch    chan *event[T]
	done  chan struct{} // closed by the feed, with why set first
	why   reason
	busy  atomic.Bool   // drain runs (or the stream has ended)
	beat  atomic.Bool   // a heartbeat is due
	ended chan struct{} // closed when the stream has finished

	last   uint64      // the last id sent
	replay []*event[T] // sent first
	reset  bool        // send "reset" first
	beats  int         // heartbeats so far, for Recheck
}

// ServeHTTP opens a stream: a WebSocket when the request is an upgrade,
// Server-Sent Events when it accepts text/event-stream (otherwise 406).
// The principal and the view's request-level permissions are checked
// first (401/403), then the feed's bounds and health (503).
func (f *Feed[T]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		views.WriteError(w, r, &methodNotAllowed{r.Method})
		return
	}
	r, err := f.authenticate(r)
	if err == nil {
		err = permissions.Check(r, f.view.Permissions)
	}
	if err != nil {
		views.WriteError(w, r, err)
		return
	}
	ws := strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
	if !ws && !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		views.WriteError(w, r, notAcceptable{})
		return
	}
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		return
	}
	last, resume := lastEventID(r)
	s, err := f.open(r, last, resume)
	if err != nil {
		views.WriteError(w, r, err)
		return
	}
	// The stream is registered busy (no drain) before its handshake:
	// events wait in ch, and a close by the feed meanwhile (done) is
	// finished by the first drain.
	if ws {
		s.t = f.acceptWebSocket(w, r, s)
	} else {
		s.t = f.acceptSSE(w, r, s)
	}
	if s.t == nil {
		f.remove(s, reason{})
		f.live.Done()
		return
	}
	hijacked := s.t.hijacked()
	s.busy.Store(false)
	f.wake(s)
	if !hijacked {
		// Streaming through the ResponseWriter: the handler must not
		// return before the stream has ended.
		<-s.ended
	}
}

// authenticate returns r with the access_token query parameter
// authenticated (QueryToken), and the authentication outcome.
func (f *Feed[T]) authenticate(r *http.Request) (*http.Request, error) {
	if f.o.QueryToken && r.Header.Get("Authorization") == "" {
		if tok := r.URL.Query().Get("access_token"); tok != "" {
			r = r.Clone(r.Context())
			r.Header.Set("Authorization", "Bearer "+tok)
			p, err := authenticate(r, f.o.Authenticators)
			if err != nil {
				return r, err
			}
			if p != nil {
				r = r.WithContext(authentication.WithPrincipal(r.Context(), p))
			}
		}
	}
	return r, authentication.ErrorFrom(r.Context())
}

// authenticate runs auths on r as authentication.Middleware does: the
// first principal or error wins; an error other than a refusal is an
// outage.
func authenticate(r *http.Request, auths []authentication.Authenticator) (*authentication.Principal, error) {
	for _, a := range auths {
		p, err := a.Authenticate(r)
		if err != nil {
			var failed *authentication.FailedError
			if errors.As(err, &failed) {
				cp := *failed
				if c, ok := auths[0].(authentication.Challenger); ok {
					cp.Challenge = c.Challenge()
				}
				return nil, &cp
			}
			return nil, &authentication.UnavailableError{Err: err}
		}
		if p != nil {
			return p, nil
		}
	}
	return nil, nil
}

// lastEventID reads the id a client resumes from: SSE's Last-Event-ID
// header, or the last_event_id query parameter.
func lastEventID(r *http.Request) (uint64, bool) {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("last_event_id")
	}
	if v == "" {
		return 0, false
	}
	id, err := strconv.ParseUint(v, 10, 64)
	return id, err == nil
}

// userKey is what MaxStreamsPerUser counts by.
func userKey(r *http.Request) string {
	if p := authentication.PrincipalFrom(r.Context()); p != nil {
		if p.ID != 0 {
			return "u" + strconv.FormatInt(p.ID, 10)
		}
		return "n" + p.Username
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return "a" + host
}

// open registers a stream for r within the bounds, with the recorded
// events after last to send first when the client resumes.
func (f *Feed[T]) open(r *http.Request, last uint64, resume bool) (*stream[T], error) {
	user := userKey(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.healthy || len(f.streams) >= f.o.MaxStreams || f.perUser[user] >= f.o.MaxStreamsPerUser {
		return nil, unavailable{}
	}
	base := context.WithoutCancel(r.Context())
	s := &stream[T]{
		r:     r.WithContext(base),
		base:  base,
		user:  user,
		ch:    make(chan *event[T], f.o.SendBuffer),
		done:  make(chan struct{}),
		ended: make(chan struct{}),
	}
	s.busy.Store(true) // until ServeHTTP has s.t
	f.streams[s] = struct{}{}
	f.perUser[user]++
	f.live.Add(1)
	if resume {
		var complete bool
		s.last = last
		s.replay, complete = f.sinceLocked(last)
		s.reset = !complete
	}
	return s, nil
}

// transport writes a stream's frames.
type transport interface {
	// write sends one frame: SSE text or a WebSocket message.
	write(sse, ws []byte) error
	// beat keeps the connection alive and finds a dead peer.
	beat() error
	// finish sends why (unless it is the zero reason) and closes.
	finish(why reason)
	hijacked() bool
}

// wake makes sure a drain goroutine runs for s.
func (f *Feed[T]) wake(s *stream[T]) {
	if s.busy.CompareAndSwap(false, true) {
		go f.drain(s)
	}
}

// drain does s's work until there is none left, then exits; a stream
// that ends is finished here, once.
func (f *Feed[T]) drain(s *stream[T]) {
	for {
		if f.step(s) {
			return // ended: busy stays set, no drain starts again
		}
		s.busy.Store(false)
		// Work that arrived after step looked and before busy was
		// cleared found busy set and started nothing: look again.
		if !s.pending() || !s.busy.CompareAndSwap(false, true) {
			return
		}
	}
}

// pending reports whether s has work.
func (s *stream[T]) pending() bool {
	select {
	case <-s.done:
		return true
	default:
	}
	return len(s.ch) > 0 || s.beat.Load()
}

// step does all of s's work there is: the reset and replay of a resumed
// stream, the events, a heartbeat (with a principal re-check every
// Recheck). It reports whether s has ended.
func (f *Feed[T]) step(s *stream[T]) (ended bool) {
	defer func() {
		if ended {
			f.remove(s, reason{})
			s.t.finish(s.why) // s.why is settled: remove held f.mu
			close(s.ended)
			f.live.Done()
		}
	}()
	if s.reset {
		s.reset = false
		if s.t.write([]byte("event: reset\ndata: {}\n\n"), []byte(`{"event":"reset"}`)) != nil {
			return true
		}
	}
	for _, ev := range s.replay {
		if f.send(s, ev) != nil {
			return true
		}
	}
	s.replay = nil
	for {
		select {
		case <-s.done:
			return true
		case ev := <-s.ch:
			if f.send(s, ev) != nil {
				return true
			}
			continue
		default:
		}
		if !s.beat.Swap(false) {
			return false
		}
		if s.beats++; s.beats%max(1, int(f.o.Recheck/f.o.Heartbeat)) == 0 {
			if why, ok := f.recheck(s); !ok {
				f.remove(s, why)
				return true
			}
		}
		if s.t.beat() != nil {
			return true
		}
	}
}

// heartbeat marks a heartbeat due on every stream every Heartbeat (one
// ticker for the feed, none per stream).
func (f *Feed[T]) heartbeat() {
	defer f.wg.Done()
	tick := time.NewTicker(f.o.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-f.ctx.Done():
			return
		case <-tick.C:
		}
		f.mu.Lock()
		for s := range f.streams {
			s.beat.Store(true)
			f.wake(s)
		}
		f.mu.Unlock()
	}
}

// gone ends s because its client left.
func (f *Feed[T]) gone(s *stream[T]) {
	f.remove(s, reason{})
	f.wake(s)
}

// send writes ev to s when s may see it and has not seen it.
func (f *Feed[T]) send(s *stream[T], ev *event[T]) error {
	if ev.id <= s.last || !f.visible(s, ev) {
		return nil
	}
	s.last = ev.id
	return s.t.write(ev.sse, ev.ws)
}

// visible reports whether s may see ev's object: the view's object
// permissions, then Visible or the view's Queryset (one query by primary
// key; a delete, which no query can find any more, is withheld). Errors
// withhold the event.
func (f *Feed[T]) visible(s *stream[T], ev *event[T]) bool {
	if permissions.CheckObject(s.r, f.view.Permissions, ev.obj) != nil {
		return false
	}
	if f.o.Visible != nil {
		return f.o.Visible(s.r, ev.obj)
	}
	if f.view.Queryset == nil {
		return true
	}
	if ev.kind == views.Deleted {
		return false
	}
	ctx, cancel := context.WithTimeout(f.ctx, f.o.CheckTimeout)
	defer cancel()
	q := f.view.Queryset(s.r, f.view.DB.NewSelect().Model((*T)(nil)))
	ok, err := q.Where("?TableAlias.? = ?", bun.Ident(f.pk.Name), f.pkValue(ev.obj)).Exists(ctx)
	if err != nil {
		if f.ctx.Err() == nil {
			f.log.Warn("cosworth/realtime: Queryset check failed, event withheld", slog.String("feed", f.o.Name), slog.Any("error", err))
		}
		return false
	}
	return ok
}

// recheck authenticates s's connect request again; the stream must end
// (with why) when the principal is gone or changed, the backend fails, or
// the view's request-level permissions now refuse it.
func (f *Feed[T]) recheck(s *stream[T]) (why reason, ok bool) {
	old := authentication.PrincipalFrom(s.r.Context())
	if old == nil || len(f.o.Authenticators) == 0 {
		return reason{}, true
	}
	ctx, cancel := context.WithTimeout(f.ctx, f.o.CheckTimeout)
	defer cancel()
	p, err := authenticate(s.r.WithContext(ctx), f.o.Authenticators)
	if err != nil {
		var failed *authentication.FailedError
		if errors.As(err, &failed) {
			return reasonRevoked, false
		}
		return reasonAuthDown, false
	}
	if p == nil || p.ID != old.ID || p.Username != old.Username {
		return reasonRevoked, false
	}
	s.r = s.r.WithContext(authentication.WithPrincipal(s.base, p))
	if permissions.Check(s.r, f.view.Permissions) != nil {
		return reasonRevoked, false
	}
	return reason{}, true
}

// acceptSSE starts an SSE response: on the hijacked connection when
// net/http lets go of it (HTTP/1.x), else in the handler, where the
// server's request deadline ends it (the client resumes).
func (f *Feed[T]) acceptSSE(w http.ResponseWriter, r *http.Request, s *stream[T]) transport {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	rc := http.NewResponseController(w)
	conn, brw, err := rc.Hijack()
	if err != nil {
		w.WriteHeader(http.StatusOK)
		t := &sseWriter{w: w, rc: rc, timeout: f.o.WriteTimeout}
		if t.write([]byte(":\n\n"), nil) != nil {
			return nil
		}
		context.AfterFunc(r.Context(), func() { f.gone(s) })
		return t
	}
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 200 OK\r\nConnection: close\r\n")
	_ = h.Write(&b)
	b.WriteString("\r\n:\n\n")
	t := &sseConn{c: conn, timeout: f.o.WriteTimeout}
	if brw.Reader.Buffered() > 0 || t.write(b.Bytes(), nil) != nil {
		_ = conn.Close()
		return nil
	}
	go func() {
		// The client sends nothing more: a read returns when it leaves
		// (or when finish closes the connection).
		var p [1]byte
		_, _ = conn.Read(p[:])
		f.gone(s)
	}()
	return t
}

// sseConn is SSE on a hijacked connection.
type sseConn struct {
	c       net.Conn
	timeout time.Duration
}

func (t *sseConn) write(sse, _ []byte) error {
	_ = t.c.SetWriteDeadline(time.Now().Add(t.timeout))
	_, err := t.c.Write(sse)
	return err
}

func (t *sseConn) beat() error { return t.write([]byte(":\n\n"), nil) }

func (t *sseConn) finish(why reason) {
	if why.detail != "" {
		_ = t.write(closeFrame(why), nil)
	}
	_ = t.c.Close()
}

func (t *sseConn) hijacked() bool { return true }

// sseWriter is SSE through the ResponseWriter.
type sseWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

func (t *sseWriter) write(sse, _ []byte) error {
	_ = t.rc.SetWriteDeadline(time.Now().Add(t.timeout))
	if _, err := t.w.Write(sse); err != nil {
		return err
	}
	return t.rc.Flush()
}

func (t *sseWriter) beat() error { return t.write([]byte(":\n\n"), nil) }

func (t *sseWriter) finish(why reason) {
	if why.detail != "" {
		_ = t.write(closeFrame(why), nil)
	}
}

func (t *sseWriter) hijacked() bool { return false }

// closeFrame is SSE's last event: "close" with the reason as a DRF detail.
func closeFrame(why reason) []byte {
	b := []byte("event: close\ndata: {\"detail\":")
	b = jsonbody.AppendString(b, why.detail)
	return append(b, "}\n\n"...)
}

// acceptWebSocket upgrades the connection (coder/websocket checks the
// Origin and answers a refused handshake itself).
func (f *Feed[T]) acceptWebSocket(w http.ResponseWriter, r *http.Request, s *stream[T]) transport {
	c, err := websocket.Accept(smallBuffers{w}, r, &websocket.AcceptOptions{
		OriginPatterns:  f.o.OriginPatterns,
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		return nil
	}
	c.SetReadLimit(f.o.ReadLimit)
	// CloseRead answers pings and the close handshake, and ends the
	// returned context when the client closes or sends a data message.
	read := c.CloseRead(context.Background())
	context.AfterFunc(read, func() { f.gone(s) })
	return &wsConn{c: c, timeout: f.o.WriteTimeout}
}

// wsConn is a WebSocket stream.
type wsConn struct {
	c       *websocket.Conn
	timeout time.Duration
}

func (t *wsConn) write(_, ws []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), t.timeout)
	defer cancel()
	return t.c.Write(ctx, websocket.MessageText, ws)
}

func (t *wsConn) beat() error {
	ctx, cancel := context.WithTimeout(context.Background(), t.timeout)
	defer cancel()
	return t.c.Ping(ctx)
}

func (t *wsConn) finish(why reason) {
	if why.code == 0 {
		_ = t.c.CloseNow()
		return
	}
	_ = t.c.Close(why.code, why.detail)
}

func (t *wsConn) hijacked() bool { return true }

// smallBuffers hands websocket.Accept the hijacked connection with 512-byte
// buffers instead of net/http's 4 KiB ones: a stream reads only control
// frames, and bufio writes an event larger than its buffer straight
// through. This halves the memory of an idle WebSocket stream.
type smallBuffers struct{ http.ResponseWriter }

// Hijack hijacks the connection under the ResponseWriter, keeping the
// bytes net/http had read ahead.
func (s smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(s.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	var r io.Reader = c
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		r = io.MultiReader(bytes.NewReader(bytes.Clone(b)), c)
	}
	return c, bufio.NewReadWriter(bufio.NewReaderSize(r, 512), bufio.NewWriterSize(c, 512)), nil
}

// methodNotAllowed is DRF's 405.
type methodNotAllowed struct{ method string }

func (e *methodNotAllowed) Error() string   { return `Method "` + e.method + `" not allowed.` }
func (e *methodNotAllowed) StatusCode() int { return http.StatusMethodNotAllowed }

// notAcceptable is DRF's 406: neither an upgrade nor text/event-stream.
type notAcceptable struct{}

func (notAcceptable) Error() string   { return drfmsg.NotAcceptable }
func (notAcceptable) StatusCode() int { return http.StatusNotAcceptable }

// unavailable is 503: the feed is at a bound, its bus is down, or it has
// shut down.
type unavailable struct{}

func (unavailable) Error() string            { return drfmsg.Unavailable }
func (unavailable) StatusCode() int          { return http.StatusServiceUnavailable }
func (unavailable) SetHeaders(h http.Header) { h.Set("Retry-After", "1") }
