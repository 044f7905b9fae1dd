package filters

import "testing"

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
