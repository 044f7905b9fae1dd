package filters

import "testing"

func TestQueryValue(t *testing.T) {
	tests := []struct {
		raw, key, want string
		found          bool
	}{
		{"", "a", "", false},
		{"a=1", "a", "1", true},
		{"a=1&a=2", "a", "2", true}, // the last wins, as Django's QueryDict.get
		{"a=1&b=2", "b", "2", true},
		{"ab=1", "a", "", false},
		{"a", "a", "", true},
		{"a=", "a", "", true},
		{"%61=x", "a", "x", true},
		{"a=x+y%2Cz", "a", "x y,z", true},
		{"a=%zz", "a", "%zz", true},     // an invalid escape is kept, as Python's unquote
		{"a=%FF", "a", "\uFFFD", true},  // invalid UTF-8 becomes U+FFFD
		{"a=\xff", "a", "\uFFFD", true}, // also unescaped
		{"a=1;b=2", "a", "1;b=2", true}, // only '&' separates pairs
		{"a=%00", "a", "\x00", true},
	}
	for _, tt := range tests {
		got, found := queryValue(tt.raw, tt.key)
		if got != tt.want || found != tt.found {
			t.Errorf("queryValue(%q, %q) = %q, %v; want %q, %v", tt.raw, tt.key, got, found, tt.want, tt.found)
		}
	}
	raw := "search=go&ordering=-id&page=2&author=3"
	if n := testing.AllocsPerRun(100, func() { _, _ = queryValue(raw, "author") }); n != 0 {
		t.Errorf("queryValue of a plain value allocates %v times", n)
	}
}

func TestSearchTerms(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{" , ,", nil},
		{"a b,c\td\u00a0e\u3000f\x1cg", []string{"a", "b", "c", "d", "e", "f", "g"}},
		{"a\x00b \x00 c", []string{"ab", "c"}},
		{"1 2 3 4 5 6 7 8 9 10 11 12", []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}},
	}
	for _, tt := range tests {
		got := searchTerms(nil, tt.in)
		if len(got) != len(tt.want) {
			t.Errorf("searchTerms(%q) = %q, want %q", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("searchTerms(%q) = %q, want %q", tt.in, got, tt.want)
				break
			}
		}
	}
	long := ""
	for range 150 {
		long += "é"
	}
	if got := searchTerms(nil, long); len(got) != 1 || len([]rune(got[0])) != MaxSearchTermLen {
		t.Errorf("a 150-character term was not cut to %d characters: %d", MaxSearchTermLen, len([]rune(got[0])))
	}
}
