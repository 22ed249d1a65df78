package storage_test

import (
	"strings"
	"testing"

	"github.com/verso-api/verso/storage"
)

func TestValidTable(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"verso_idempotency_keys", true},
		{"t1", true},
		{"_x", true},
		{strings.Repeat("a", 48), true},
		{"", false},
		{strings.Repeat("a", 49), false},
		{"1t", false},
		{"Keys", false},
		{"keys; DROP TABLE x", false},
		{"a.b", false},
		{"a-b", false},
		{`"a"`, false},
		{"é", false},
	}
	for _, tt := range tests {
		if got := storage.ValidTable(tt.name); got != tt.want {
			t.Errorf("ValidTable(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
