package realtime

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/serializers"
	"github.com/cosworth/cosworth/views"
)

// Options configure a Feed. Every zero field means the documented
// default, never "unbounded".
type Options[T any] struct {
	// Name names the feed: the member holding the object in WebSocket
	// messages and the last part of the Redis channel. Empty means T's
	// type name in lower case ("book").
	Name string
	// Redis, when set, carries events between instances (pub/sub on
	// Prefix+Name, ids from the key Prefix+Name+":id"); nil keeps them in
	// this process.
	Redis *redis.Client
	// Prefix is the prefix of the Redis channel and key; empty means
	// "cosworth:realtime:".
	Prefix string
	// Authenticators re-authenticate each stream's connect request every
	// Recheck (pass the ones given to authentication.Middleware), and
	// authenticate an access_token query parameter when QueryToken is
	// set. Without them the principal is never re-checked.
	Authenticators []authentication.Authenticator
	// Recheck is how often a stream's principal is re-checked; 0 means 1
	// minute.
	Recheck time.Duration
	// QueryToken accepts ?access_token=TOKEN (RFC 6750 §2.3) when the
	// request has no Authorization header, as "Authorization: Bearer
	// TOKEN", for browsers, whose EventSource and WebSocket cannot set
	// headers. The token then appears in URLs: in proxy and server access
	// logs, and in the browser's history; use short-lived tokens.
	QueryToken bool
	// Visible, when set, decides in Go whether a subscriber's request may
	// see obj, instead of the one query per event that checks the view's
	// Queryset; object permissions apply either way.
	Visible func(r *http.Request, obj *T) bool
	// MaxStreams bounds the open streams of this feed on this instance;
	// 0 means 1000.
	MaxStreams int
	// MaxStreamsPerUser bounds the open streams of one user (anonymous
	// clients: one IP address); 0 means 8.
	MaxStreamsPerUser int
	// SendBuffer is how many events a subscriber may fall behind before
	// it is disconnected; 0 means 32.
	SendBuffer int
	// Replay is how many recent events are kept to resume streams; 0
	// means 256.
	Replay int
	// PublishQueue bounds the committed writes waiting to be published;
	// 0 means 1024. A write that finds it full is not published (logged).
	PublishQueue int
	// OriginPatterns lists the other hosts whose pages may open a
	// WebSocket (github.com/coder/websocket's AcceptOptions.OriginPatterns);
	// empty allows only the request's own host.
	OriginPatterns []string
	// ReadLimit bounds a message a WebSocket client sends; 0 means 512
	// bytes. Clients have nothing to send: a data message closes the
	// stream (1008).
	ReadLimit int64
	// Heartbeat is the interval of SSE comments and WebSocket pings, which
	// keep proxies from closing idle streams and find dead peers; 0 means
	// 30s.
	Heartbeat time.Duration
	// WriteTimeout bounds one write (and a WebSocket ping's pong); 0 means
	// 10s.
	WriteTimeout time.Duration
	// CheckTimeout bounds the query that checks an event against the
	// view's Queryset; 0 means 5s.
	CheckTimeout time.Duration
	// Logger logs publish failures and Redis outages; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Feed streams the committed changes of one view. Create it with New; it
// is an http.Handler serving GET as SSE or a WebSocket.
type Feed[T any] struct {
	view  *views.Generic[T]
	o     Options[T]
	ctx   context.Context
	log   *slog.Logger
	ser   *serializers.Serializer[T]
	pk    *schema.Field // the primary key, for the Queryset check and deletes
	codec codec[T]
	bus   bus

	queue   chan pending[T]
	dropped atomic.Uint64

	mu      sync.Mutex
	streams map[*stream[T]]struct{}
	perUser map[string]int
	ring    []*event[T] // the last Replay events, oldest at head
	head    int
	// floor is an id up to which the feed's history is incomplete: every
	// event with a greater id is in ring or still to come.
	floor   uint64
	last    uint64 // the greatest id delivered
	healthy bool
	closed  bool
	wg      sync.WaitGroup // the feed's goroutines
	live    sync.WaitGroup // the streams not yet finished

	start     chan struct{} // closed after the first subscription attempt
	startOnce sync.Once
}

// started reports the end of the first subscription attempt to New.
func (f *Feed[T]) started() { f.startOnce.Do(func() { close(f.start) }) }

var _ http.Handler = (*Feed[struct{}])(nil)

// pending is a committed write waiting to be published.
type pending[T any] struct {
	kind views.Change
	obj  *T
}

// event is one published change, shared read-only by every stream.
type event[T any] struct {
	id   uint64
	kind views.Change
	obj  *T
	sse  []byte // the SSE frame
	ws   []byte // the WebSocket message
}

// New creates the feed of v and sets v.OnCommit to publish to it (after
// a hook already set, which still runs first). Call it before v serves
// its first request. Subscribers see what v lets them read: its DB,
// Serializer, Queryset and Permissions apply to every event; writes of
// other views reach the feed through their OnCommit (see Feed.OnCommit). The feed runs until ctx is canceled, which closes
// every stream (pass the server's shutdown context); then it answers 503.
//
// New panics when v has no DB or T is not a bun model with one primary
// key.
func New[T any](ctx context.Context, v *views.Generic[T], o Options[T]) *Feed[T] {
	if v == nil || v.DB == nil {
		panic("cosworth/realtime: New needs a view with a DB")
	}
	t := reflect.TypeFor[T]()
	table := v.DB.Table(t)
	if len(table.PKs) != 1 {
		panic("cosworth/realtime: " + t.Name() + " must have exactly one primary key")
	}
	if o.Name == "" {
		o.Name = strings.ToLower(t.Name())
	}
	if o.Prefix == "" {
		o.Prefix = "cosworth:realtime:"
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defInt := func(n *int, v int) {
		if *n <= 0 {
			*n = v
		}
	}
	def(&o.Recheck, time.Minute)
	def(&o.Heartbeat, 30*time.Second)
	def(&o.WriteTimeout, 10*time.Second)
	def(&o.CheckTimeout, 5*time.Second)
	defInt(&o.MaxStreams, 1000)
	defInt(&o.MaxStreamsPerUser, 8)
	defInt(&o.SendBuffer, 32)
	defInt(&o.Replay, 256)
	defInt(&o.PublishQueue, 1024)
	if o.ReadLimit <= 0 {
		o.ReadLimit = 512
	}
	f := &Feed[T]{
		view:    v,
		o:       o,
		ctx:     ctx,
		log:     o.Logger,
		ser:     v.Serializer,
		pk:      table.PKs[0],
		queue:   make(chan pending[T], o.PublishQueue),
		streams: make(map[*stream[T]]struct{}),
		perUser: make(map[string]int),
		ring:    make([]*event[T], 0, o.Replay),
	}
	if f.log == nil {
		f.log = slog.Default()
	}
	if f.ser == nil {
		f.ser = &serializers.Serializer[T]{}
	}
	if o.Redis != nil {
		f.codec = newCodec[T]()
		f.bus = &redisBus{rdb: o.Redis, channel: o.Prefix + o.Name, key: o.Prefix + o.Name + ":id"}
	} else {
		f.bus = &localBus{last: uint64(time.Now().UnixMicro())}
	}
	if prev := v.OnCommit; prev != nil {
		v.OnCommit = func(r *http.Request, c views.Change, obj *T) {
			prev(r, c, obj)
			f.OnCommit(r, c, obj)
		}
	} else {
		v.OnCommit = f.OnCommit
	}
	f.start = make(chan struct{})
	f.wg.Add(3)
	go f.publish()
	go f.receive()
	go f.heartbeat()
	// The first subscription is made before New returns (bounded by
	// WriteTimeout), so that a feed on a working Redis accepts streams at
	// once.
	select {
	case <-f.start:
	case <-ctx.Done():
	}
	go func() {
		<-ctx.Done()
		f.mu.Lock()
		f.closed = true
		f.healthy = false
		f.closeAllLocked(reasonShutdown)
		f.mu.Unlock()
	}()
	return f
}

// Wait blocks until the context given to New is canceled and the feed's
// goroutines and streams have ended: each stream has sent its close
// reason (bounded by WriteTimeout; a WebSocket also waits up to 5s for
// the client's close frame). Call it before the process exits.
func (f *Feed[T]) Wait() {
	f.wg.Wait()
	f.live.Wait()
}

// Dropped reports how many committed writes were not published: the
// publish queue was full, or Redis refused the PUBLISH.
func (f *Feed[T]) Dropped() uint64 { return f.dropped.Load() }

// OnCommit publishes a committed write of obj: a bounded, non-blocking
// enqueue (when the queue is full the event is dropped, logged and
// counted in Dropped). New sets it as the view's hook; set it as the
// OnCommit of the other views that write T, such as the detail view:
//
//	detail.OnCommit = feed.OnCommit
func (f *Feed[T]) OnCommit(_ *http.Request, c views.Change, obj *T) {
	select {
	case f.queue <- pending[T]{c, obj}:
	default:
		f.dropped.Add(1)
		f.log.Warn("cosworth/realtime: publish queue full, event dropped", slog.String("feed", f.o.Name))
	}
}

// publish is the publisher goroutine: it encodes each committed write and
// hands it to the bus, one at a time, in commit order.
func (f *Feed[T]) publish() {
	defer f.wg.Done()
	var repr []byte
	for {
		select {
		case <-f.ctx.Done():
			return
		case p := <-f.queue:
			repr = f.represent(repr[:0], p.kind, p.obj)
			if f.o.Redis == nil {
				f.deliver(f.build(f.bus.(*localBus).next(), p.kind, p.obj, repr))
				continue
			}
			if err := f.publishRedis(p, repr); err != nil {
				f.dropped.Add(1)
				f.log.Error("cosworth/realtime: publish failed, event dropped", slog.String("feed", f.o.Name), slog.Any("error", err))
			}
		}
	}
}

// represent appends the representation of obj: the serializer's, or
// {"id": pk} for a delete.
func (f *Feed[T]) represent(dst []byte, kind views.Change, obj *T) []byte {
	if kind != views.Deleted {
		dst = f.ser.AppendJSON(dst, obj)
		// JSON has line breaks only as whitespace (strings escape them);
		// a Represent function may add some, which would end an SSE data
		// line.
		for i, c := range dst {
			if c == '\n' || c == '\r' {
				dst[i] = ' '
			}
		}
		return dst
	}
	dst = append(dst, `{"id":`...)
	b, err := json.Marshal(f.pkValue(obj))
	if err != nil {
		b = []byte("null")
	}
	dst = append(dst, b...)
	return append(dst, '}')
}

// pkValue returns obj's primary key value.
func (f *Feed[T]) pkValue(obj *T) any {
	return f.pk.Value(reflect.ValueOf(obj).Elem()).Interface()
}

// build makes the event (both wire forms) from its parts.
func (f *Feed[T]) build(id uint64, kind views.Change, obj *T, repr []byte) *event[T] {
	name := kind.String()
	ids := strconv.FormatUint(id, 10)
	sse := make([]byte, 0, len("event: \nid: \ndata: \n\n")+len(name)+len(ids)+len(repr))
	sse = append(sse, "event: "...)
	sse = append(sse, name...)
	sse = append(sse, "\nid: "...)
	sse = append(sse, ids...)
	sse = append(sse, "\ndata: "...)
	sse = append(sse, repr...)
	sse = append(sse, "\n\n"...)
	ws := make([]byte, 0, len(`{"event":"","id":,"":}`)+len(name)+len(ids)+len(f.o.Name)+len(repr))
	ws = append(ws, `{"event":"`...)
	ws = append(ws, name...)
	ws = append(ws, `","id":`...)
	ws = append(ws, ids...)
	ws = append(ws, `,"`...)
	ws = append(ws, f.o.Name...)
	ws = append(ws, `":`...)
	ws = append(ws, repr...)
	ws = append(ws, '}')
	return &event[T]{id: id, kind: kind, obj: obj, sse: sse, ws: ws}
}

// deliver records ev for replay and offers it to every stream without
// blocking; a stream whose buffer is full is closed (a slow consumer).
// Ids at or below the last delivered one are ignored.
func (f *Feed[T]) deliver(ev *event[T]) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ev.id <= f.last {
		return
	}
	f.last = ev.id
	if len(f.ring) < cap(f.ring) {
		f.ring = append(f.ring, ev)
	} else {
		f.floor = max(f.floor, f.ring[f.head].id)
		f.ring[f.head] = ev
		f.head = (f.head + 1) % len(f.ring)
	}
	for s := range f.streams {
		select {
		case s.ch <- ev:
			f.wake(s)
		default:
			f.closeLocked(s, reasonSlow)
		}
	}
}

// since returns the recorded events after id, oldest first, and whether
// they are all the events after id (false: some may have been missed).
// f.mu is held.
func (f *Feed[T]) sinceLocked(id uint64) ([]*event[T], bool) {
	var out []*event[T]
	for i := range f.ring {
		ev := f.ring[(f.head+i)%len(f.ring)]
		if ev.id > id {
			out = append(out, ev)
		}
	}
	return out, id >= f.floor
}

// up marks the bus healthy from the given floor (history before it is
// unknown).
func (f *Feed[T]) up(floor uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	f.healthy = true
	f.floor = max(f.floor, floor)
}

// down closes every stream because the bus failed, forgets the replay
// buffer (it may have a gap now) and refuses connects until up.
func (f *Feed[T]) down() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.healthy = false
	f.closeAllLocked(reasonBusDown)
	clear(f.ring)
	f.ring = f.ring[:0]
	f.head = 0
	f.floor = max(f.floor, f.last)
}

func (f *Feed[T]) closeAllLocked(why reason) {
	for s := range f.streams {
		f.closeLocked(s, why)
	}
}

// closeLocked ends s with why (the first reason wins) and frees its
// slots. f.mu is held.
func (f *Feed[T]) closeLocked(s *stream[T], why reason) {
	if _, ok := f.streams[s]; !ok {
		return
	}
	delete(f.streams, s)
	if n := f.perUser[s.user] - 1; n > 0 {
		f.perUser[s.user] = n
	} else {
		delete(f.perUser, s.user)
	}
	s.why = why
	close(s.done)
	f.wake(s)
}

// remove ends s from its own goroutine (the client left or a write failed).
func (f *Feed[T]) remove(s *stream[T], why reason) {
	f.mu.Lock()
	f.closeLocked(s, why)
	f.mu.Unlock()
}
