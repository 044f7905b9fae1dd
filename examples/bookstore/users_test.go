package main

import "testing"

func TestValidUsername(t *testing.T) {
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{"alice", true},
		{"a.l-i_c+e@example.com", true},
		{"Zoë", true}, // Django's \w is Unicode-aware
		{"al ice", false},
		{"al/ice", false},
		{"alice!", false},
		{"<script>", false},
	} {
		if got := validUsername(tt.name); got != tt.ok {
			t.Errorf("validUsername(%q) = %v, want %v", tt.name, got, tt.ok)
		}
	}
}

func TestRedact(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"postgres://app:s3cret@db:5432/x?sslmode=disable", "postgres://app:xxxxx@db:5432/x?sslmode=disable"},
		{"redis://:pa@ss@cache:6379/0", "redis://:xxxxx@cache:6379/0"},
		{"postgres://app@db/x", "postgres://app@db/x"},
		{"bookstore.db", "bookstore.db"},
		{"sqlite:/data/b.db", "sqlite:/data/b.db"},
	} {
		if got := redact(tt.in); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
