package pgread

import "testing"

// TestLitParam checks which of bun's literals become parameters, and
// their text: only a literal that is nothing but one value.
func TestLitParam(t *testing.T) {
	for _, tt := range []struct {
		lit, text string
		null, ok  bool
	}{
		{"NULL", "", true, true},
		{"TRUE", "TRUE", false, true},
		{"FALSE", "FALSE", false, true},
		{"''", "", false, true},
		{"'abc'", "abc", false, true},
		{"'O''Brien'", "O'Brien", false, true},
		{"''''", "'", false, true},
		{`'a\b'`, `a\b`, false, true},
		{"'ü'", "ü", false, true},
		{"7", "7", false, true},
		{"-7", "-7", false, true},
		{" -7", "-7", false, true},
		{"0", "0", false, true},
		{"1.5", "", false, false},
		{"1e3", "", false, false},
		{"'a' || 'b'", "", false, false},
		{"'a'::jsonb", "", false, false},
		{"'a''", "", false, false},
		{"'", "", false, false},
		{"ARRAY['a']", "", false, false},
		{"DEFAULT", "", false, false},
		{"", "", false, false},
		{"-", "", false, false},
		{"123456789012345678901", "", false, false},
		{"'a\x00b'", "", false, false},
	} {
		got, null, ok := litParam([]byte("x"), []byte(tt.lit))
		if ok != tt.ok || null != tt.null || (ok && string(got) != "x"+tt.text) || (!ok && string(got) != "x") {
			t.Errorf("litParam(%q) = %q, null %v, ok %v; want %q, %v, %v", tt.lit, got, null, ok, "x"+tt.text, tt.null, tt.ok)
		}
	}
}
