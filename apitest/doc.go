// Package apitest is a test client for Cosworth services, the counterpart
// of DRF's APIClient and APITestCase: a [Client] sends requests to a
// handler in process (or to a running server, [NewLive]), encodes bodies as
// JSON, carries credentials or a forced principal, and returns a [Response]
// whose assertions print the request and the whole response when they
// fail. [DB] gives a test an isolated database: a fresh SQLite file, or a
// throwaway PostgreSQL schema when COSWORTH_TEST_DATABASE_URL is set.
//
//	c := apitest.New(handler)
//	c.ForceAuthenticate(&authentication.Principal{ID: 1, Username: "ada"})
//	res := c.Post("/api/books/", map[string]any{"title": "Dune"})
//	res.AssertStatus(t, http.StatusCreated)
package apitest
