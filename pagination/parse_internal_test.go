package pagination

import "testing"

// TestPositiveInt checks DRF's _positive_int over Python's int() syntax.
func TestPositiveInt(t *testing.T) {
	tests := []struct {
		in     string
		strict bool
		cutoff int
		want   int
		ok     bool
	}{
		{"5", true, 100, 5, true},
		{" 5 ", true, 100, 5, true},
		{"+5", true, 100, 5, true},
		{"1_0", true, 100, 10, true},
		{"500", true, 100, 100, true}, // cut to the maximum
		{"0", true, 100, 0, false},    // strict: zero is invalid
		{"0", false, 0, 0, true},
		{"-0", false, 0, 0, true},
		{"-1", false, 0, 0, false},
		{"", false, 0, 0, false},
		{"_1", false, 0, 0, false},
		{"1_", false, 0, 0, false},
		{"1__0", false, 0, 0, false},
		{"+_1", false, 0, 0, false},
		{"1.0", false, 0, 0, false},
		{"1e3", false, 0, 0, false},
		{"0x10", false, 0, 0, false},
		{"99999999999999999999", false, 0, 0, false},
		{"٣", false, 0, 0, false}, // Python accepts Unicode digits; Cosworth takes ASCII only
	}
	for _, tt := range tests {
		got, ok := positiveInt(tt.in, tt.strict, tt.cutoff)
		if got != tt.want || ok != tt.ok {
			t.Errorf("positiveInt(%q, %v, %d) = %d, %v; want %d, %v", tt.in, tt.strict, tt.cutoff, got, ok, tt.want, tt.ok)
		}
	}
}
