package realtime

import "github.com/cosworth/cosworth/openapi"

// Operation describes the feed's route for openapi.Config.Operations
// (key "GET /path/"): a text/event-stream response whose events carry
// the object's representation (the view's component schema, named after
// T, as the list view's operations use it), the resume parameters, and
// the errors a connect can meet. The WebSocket upgrade on the same route
// is mentioned in the description; OpenAPI has no way to describe it.
func (f *Feed[T]) Operation() *openapi.Operation {
	params := []*openapi.Parameter{
		{Name: "Last-Event-ID", In: "header", Description: "Resume after this event id (sent by EventSource when it reconnects).", Schema: &openapi.Schema{Type: openapi.Types{"string"}}},
		{Name: "last_event_id", In: "query", Description: "Resume after this event id (for clients that cannot set the header).", Schema: &openapi.Schema{Type: openapi.Types{"string"}}},
	}
	if f.o.QueryToken {
		params = append(params, &openapi.Parameter{Name: "access_token", In: "query", Description: "A bearer token, for browsers (EventSource and WebSocket cannot set headers). It appears in logs: prefer short-lived tokens.", Schema: &openapi.Schema{Type: openapi.Types{"string"}}})
	}
	return &openapi.Operation{
		Summary: "Stream committed changes",
		Description: "Server-Sent Events (Accept: text/event-stream): `event:` created, updated or deleted; `id:` an increasing event id; " +
			"`data:` the object's JSON ({\"id\": N} for a delete). A `reset` event means events may have been missed (refetch); " +
			"a `close` event ({\"detail\": ...}) ends the stream. The same route upgrades to a WebSocket, with one JSON text message " +
			"per event: {\"event\", \"id\", \"" + f.o.Name + "\"}. Only objects the caller may read are sent.",
		Parameters: params,
		Responses: map[string]*openapi.Response{
			"200": {
				Description: "The event stream",
				Content: map[string]openapi.MediaType{
					"text/event-stream": {Schema: &openapi.Schema{Type: openapi.Types{"string"}, Description: "SSE events whose data is " + f.o.Name + " JSON"}},
				},
			},
			"401": openapi.ErrorResponse("Not authenticated."),
			"403": openapi.ErrorResponse("Permission denied."),
			"406": openapi.ErrorResponse("Neither text/event-stream accepted nor a WebSocket upgrade."),
			"503": openapi.ErrorResponse("Too many open streams, or the event bus is unavailable."),
		},
	}
}
