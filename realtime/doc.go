// Package realtime streams a generic view's committed changes to clients,
// as Server-Sent Events or over a WebSocket on one route, with the view's
// read rules applied to every event.
//
// A Feed hangs from a view's OnCommit hook: after a create, update or
// delete commits, the write path enqueues the object (a bounded,
// non-blocking send; nothing is published for a write that failed or
// rolled back) and the feed's own goroutine numbers it, encodes it once and
// fans it out. Without Redis the fan-out stays in the process; with
// Options.Redis every event goes through one Redis pub/sub channel, so a
// subscriber on any instance sees the writes of every instance.
//
// # Events
//
// Each event has a kind (created, updated, deleted), an id and the
// object's representation (the view's serializer; {"id": N} for a
// delete). Ids increase strictly on every stream: they are microsecond
// timestamps bumped past the last id issued (by Redis, atomically with the
// PUBLISH, when there is Redis), so they also increase across restarts and
// across instances, and a stream never delivers an id twice. As SSE:
//
//	event: created
//	id: 1733340000000001
//	data: {"id":7,"title":"Dune",...}
//
// over a WebSocket, one text message per event:
//
//	{"event":"created","id":1733340000000001,"book":{"id":7,"title":"Dune",...}}
//
// A stream that resumes (SSE's Last-Event-ID header, or ?last_event_id=
// on either transport) first receives the events after that id from a
// bounded in-memory replay buffer. When the buffer no longer covers the
// gap (it was evicted, the instance restarted, Redis was down), the stream
// starts with a "reset" event: events may have been missed, refetch.
//
// # Who receives what
//
// A client authenticates when it connects: the request's principal as
// authentication.Middleware set it, and the view's request-level
// permissions, as for a GET of the list. Every event is then checked for
// each subscriber, in the subscriber's own goroutine: the view's object
// permissions run in Go on the event's object; when the view has a
// Queryset, the object must also be in it, checked with one query by
// primary key (SELECT EXISTS(... WHERE pk = ?)) per event and subscriber,
// unless Options.Visible decides in Go instead (set it when the Queryset
// only joins or orders, or when the scope is a plain field comparison).
// A deleted row can no longer be queried: with a Queryset and no Visible,
// deletes are withheld (fail closed). An error of the check withholds the
// event.
//
// The principal is re-checked every Options.Recheck by running
// Options.Authenticators on the connect request again: a user who was
// deactivated, whose token was revoked or expired, or whose principal
// changed, has its streams closed; so does an authentication backend that
// fails (fail closed). Between two checks a revoked user may still receive
// events for at most Recheck.
//
// # Bounds
//
// Streams are bounded per instance (Options.MaxStreams) and per user
// (Options.MaxStreamsPerUser; anonymous clients per IP address): beyond
// them the connect is answered 503. Each subscriber has a send buffer of
// Options.SendBuffer events; a subscriber that falls that far behind (a
// client that does not read) is disconnected, never buffered for. Writes
// have a deadline (Options.WriteTimeout). A stream holds no request slot of
// the server: once accepted, the connection leaves net/http (it is
// hijacked), so server request timeouts and in-flight bounds do not apply
// to it, and the feed's context ends it: when the context given to New is
// canceled (shutdown) every stream is closed with a final message.
//
// A Redis outage closes every stream with the reason "event bus
// unavailable" (SSE: a "close" event; WebSocket: status 1013); new
// connects are answered 503 until the subscription is back. Clients
// reconnect (EventSource does by itself) and resume from their last id.
package realtime
