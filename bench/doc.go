// Package bench measures Cosworth against a hand-written baseline: the
// same books API (list with limit/offset and count, retrieve, create,
// update) served by package baseline (chi + pgxpool, no framework) and by
// package cosworthsrv (Cosworth's generic views over bun), over one seeded
// PostgreSQL schema (package bookdb).
//
// The package holds only tests:
//
//	go test -run '^$' -bench . -benchmem ./bench/          # BenchmarkList/baseline, BenchmarkList/cosworth, ...
//	go test -run 'TestSameBytes|TestAllocBudget' ./bench/  # byte equality and the allocation budget
//
// They need PostgreSQL (COSWORTH_PG) and skip without it, unless
// COSWORTH_REQUIRE_SERVICES=1. scripts/bench.sh load-tests the two servers
// over loopback (commands baseline and cosworth); docs/performance.md has
// the method and the figures.
package bench
