package realtime

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cosworth/cosworth/views"
)

// bus is where events go between publishing and delivery: *localBus (this
// process) or *redisBus (every instance).
type bus any

// localBus numbers events in this process.
type localBus struct{ last uint64 }

// next returns the next id: the current time in microseconds, or one past
// the last id when the clock has not moved on (or went back). Only the
// publisher goroutine calls it.
func (b *localBus) next() uint64 {
	b.last = max(uint64(time.Now().UnixMicro()), b.last+1)
	return b.last
}

// redisBus carries events over one Redis pub/sub channel; key holds the
// last id issued.
type redisBus struct {
	rdb     *redis.Client
	channel string
	key     string
}

// publishScript numbers an event and publishes it in one atomic step, so
// that the order of the ids is the order of the messages on the channel,
// whichever instance published them. The id is Redis's clock in
// microseconds, bumped past the last id issued: it keeps increasing when
// the key is lost (a flushed or restarted Redis). %.0f keeps Lua from
// printing large numbers in exponent form (ids stay below 2^53).
var publishScript = redis.NewScript(`
if redis.replicate_commands then pcall(redis.replicate_commands) end
local t = redis.call('TIME')
local id = tonumber(t[1]) * 1000000 + tonumber(t[2])
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
if id <= last then id = last + 1 end
local s = string.format('%.0f', id)
redis.call('SET', KEYS[1], s)
redis.call('PUBLISH', KEYS[2], s .. ' ' .. ARGV[1])
return s
`)

// floorScript returns an id no event published after it can have: the
// greater of the last id and Redis's clock.
var floorScript = redis.NewScript(`
local t = redis.call('TIME')
local id = tonumber(t[1]) * 1000000 + tonumber(t[2])
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
if id < last then id = last end
return string.format('%.0f', id)
`)

// publishRedis publishes one committed write: "<kind>\n<repr>\n<object>".
func (f *Feed[T]) publishRedis(p pending[T], repr []byte) error {
	b := f.bus.(*redisBus)
	obj, err := f.codec.encode(p.obj)
	if err != nil {
		return err
	}
	msg := make([]byte, 0, 4+len(repr)+len(obj))
	msg = append(msg, byte('0'+p.kind), '\n')
	msg = append(msg, repr...)
	msg = append(msg, '\n')
	msg = append(msg, obj...)
	ctx, cancel := context.WithTimeout(f.ctx, f.o.WriteTimeout)
	defer cancel()
	return publishScript.Run(ctx, b.rdb, []string{b.key, b.channel}, msg).Err()
}

// receive keeps the feed subscribed: without Redis it only marks the feed
// healthy; with Redis it subscribes, delivers every message, and on a
// failure closes the streams (down) and subscribes again with a backoff
// of 100ms doubling to 5s.
func (f *Feed[T]) receive() {
	defer f.wg.Done()
	b, ok := f.bus.(*redisBus)
	if !ok {
		f.up(f.bus.(*localBus).last)
		f.started()
		return
	}
	backoff := 100 * time.Millisecond
	for {
		healthy, err := f.subscribe(b)
		f.started()
		if f.ctx.Err() != nil {
			return
		}
		f.down()
		f.log.Error("cosworth/realtime: Redis subscription failed, streams closed", slog.String("feed", f.o.Name), slog.Any("error", err))
		if healthy {
			backoff = 100 * time.Millisecond
		}
		t := time.NewTimer(backoff)
		select {
		case <-f.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// subscribe subscribes to the channel and delivers its messages until the
// subscription fails or the feed ends. healthy reports whether it got as
// far as delivering.
func (f *Feed[T]) subscribe(b *redisBus) (healthy bool, err error) {
	ps := b.rdb.Subscribe(f.ctx, b.channel)
	defer ps.Close()
	// A receive waits for its timeout, not for the context: closing the
	// subscription ends it at shutdown.
	stop := context.AfterFunc(f.ctx, func() { ps.Close() })
	defer stop()
	ctx, cancel := context.WithTimeout(f.ctx, f.o.WriteTimeout)
	m, err := ps.Receive(ctx)
	if err == nil {
		if _, ok := m.(*redis.Subscription); !ok {
			err = errors.New("unexpected reply to SUBSCRIBE")
		}
	}
	var floor string
	if err == nil {
		floor, err = floorScript.Run(ctx, b.rdb, []string{b.key}).Text()
	}
	cancel()
	if err != nil {
		return false, err
	}
	n, err := strconv.ParseUint(floor, 10, 64)
	if err != nil {
		return false, err
	}
	f.up(n)
	f.started()
	pinged := false
	for {
		m, err := ps.ReceiveTimeout(f.ctx, f.o.Heartbeat)
		if err != nil {
			var ne net.Error
			if f.ctx.Err() == nil && !pinged && errors.As(err, &ne) && ne.Timeout() {
				// Quiet for a heartbeat: ask for a pong, which must come
				// within the next one.
				pinged = true
				if err := ps.Ping(f.ctx); err != nil {
					return true, err
				}
				continue
			}
			return true, err
		}
		pinged = false
		if msg, ok := m.(*redis.Message); ok {
			f.onMessage(msg.Payload)
		}
	}
}

// onMessage delivers one message of the channel: "<id> <kind>\n<repr>\n<object>".
func (f *Feed[T]) onMessage(payload string) {
	ids, rest, ok1 := strings.Cut(payload, " ")
	head, rest, ok2 := strings.Cut(rest, "\n")
	repr, obj, ok3 := strings.Cut(rest, "\n")
	id, err := strconv.ParseUint(ids, 10, 64)
	if !ok1 || !ok2 || !ok3 || err != nil || len(head) != 1 || head[0] < '1' || head[0] > '3' {
		f.log.Error("cosworth/realtime: malformed message ignored", slog.String("feed", f.o.Name))
		return
	}
	o, err := f.codec.decode(obj)
	if err != nil {
		f.log.Error("cosworth/realtime: undecodable object ignored", slog.String("feed", f.o.Name), slog.Any("error", err))
		return
	}
	f.deliver(f.build(id, views.Change(head[0]-'0'), o, []byte(repr)))
}
