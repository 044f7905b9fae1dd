package pagination

import (
	"math"
	"strings"
	"testing"
)

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
		{"99999999999999999999", false, 0, math.MaxInt64, true}, // beyond 64 bits: saturates, as Python's int() has no bound
		{"99999999999999999999", true, 100, 100, true},          // then cut to the maximum
		{"-99999999999999999999", false, 0, 0, false},           // negative however large
		{"9" + strings.Repeat("0", 4300), false, 0, 0, false},   // beyond Python's int_max_str_digits
		{"٣", false, 0, 0, false},                               // Python accepts Unicode digits; Cosworth takes ASCII only
	}
	for _, tt := range tests {
		got, ok := positiveInt(tt.in, tt.strict, tt.cutoff)
		if got != tt.want || ok != tt.ok {
			t.Errorf("positiveInt(%q, %v, %d) = %d, %v; want %d, %v", tt.in, tt.strict, tt.cutoff, got, ok, tt.want, tt.ok)
		}
	}
}
