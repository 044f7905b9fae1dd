// Package faulttest holds Cosworth's end-to-end safety tests: a real
// cosworth.Server over real views, authentication and throttling, backed by
// the test PostgreSQL and Redis reached through faultproxy, under load. They
// check that bounds hold end to end, that a failing dependency yields a fast
// 503 (never a hang, a 500 or an open door), that the service recovers by
// itself, that no acknowledged write is lost or duplicated, and that
// goroutines, memory and pool connections return to their baseline. The
// package has no non-test code beyond this comment.
package faulttest
