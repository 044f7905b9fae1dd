package views

import (
	"net/http/httptest"
	"testing"
)

// TestNegotiateAllocs: negotiation allocates nothing for the usual
// requests, an unescaped ?format= and any Accept header included, nor
// when it refuses one.
func TestNegotiateAllocs(t *testing.T) {
	for _, tc := range []struct{ target, accept string }{
		{"/books/", ""},
		{"/books/", "*/*"},
		{"/books/", "application/json"},
		{"/books/?limit=10&offset=20", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
		{"/books/?format=json", "application/json; charset=utf-8"},
		{"/books/?format=xml", ""},
		{"/books/", "text/html"},
	} {
		r := httptest.NewRequest("GET", tc.target, nil)
		if tc.accept != "" {
			r.Header.Set("Accept", tc.accept)
		}
		if n := testing.AllocsPerRun(100, func() { _ = negotiate(r) }); n != 0 {
			t.Errorf("%s with Accept %q: %v allocations", tc.target, tc.accept, n)
		}
	}
}
