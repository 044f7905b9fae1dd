// Package openapi generates an OpenAPI 3.1 document from the views mounted
// on a chi router, the way drf-spectacular does for DRF, and serves it.
//
// Generate walks the router (chi.Walk). Every handler that implements
// views.Describer (all generic views) becomes operations: its path with
// chi's {params} as path parameters typed by the lookup field, its query
// parameters (the paginator's, search, ordering and field filters), its
// request and response bodies as component schemas derived from the
// serializer plan (Book for responses, BookRequest for create and PUT,
// PatchedBookRequest for PATCH, PaginatedBookList for paged lists), DRF's
// error responses, and the security the view's permissions require.
// Endpoints that are not generic views (views.APIView handlers, token
// endpoints) are described by registering an Operation in
// Config.Operations.
//
// The document is built once, at start; Handler serves its JSON with an
// ETag. Generation uses the standard library only. Package
// openapi/openapitest validates documents and real responses against them
// with an independent OpenAPI library, for tests.
package openapi
