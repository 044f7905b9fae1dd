package models

import "testing"

// The verbose names Django's camel_case_to_spaces gives the same class
// names.
func TestVerboseName(t *testing.T) {
	for in, want := range map[string]string{
		"Book": "book", "BookReview": "book review", "HTTPLog": "http log", "OAuth2Token": "o auth2 token", "A1B": "a1b", "X1Y2": "x1 y2", "": "",
	} {
		if got := verboseName(in); got != want {
			t.Errorf("verboseName(%q) = %q, want %q", in, got, want)
		}
	}
}
