package accounts

import (
	"strings"
	"testing"
)

func TestRandomString(t *testing.T) {
	seen := map[byte]int{}
	for range 2000 {
		s := randomString(32)
		if len(s) != 32 {
			t.Fatalf("len %d, want 32", len(s))
		}
		for i := 0; i < len(s); i++ {
			if strings.IndexByte(base62, s[i]) < 0 {
				t.Fatalf("%q is not base62", s)
			}
			seen[s[i]]++
		}
	}
	// 64,000 draws: each of the 62 characters is expected about 1,032 times.
	if len(seen) != 62 {
		t.Fatalf("%d distinct characters, want 62", len(seen))
	}
}

func TestWellFormed(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{newSecret(), true},
		{KeyPrefix + strings.Repeat("a", 24), true},
		{KeyPrefix + strings.Repeat("Z", 64), true},
		{KeyPrefix + strings.Repeat("9", 23), false},
		{KeyPrefix + strings.Repeat("9", 65), false},
		{"", false},
		{KeyPrefix, false},
		{"sk_live_" + strings.Repeat("a", 32), false},
		{KeyPrefix + strings.Repeat("a", 31) + "-", false},
		{KeyPrefix + strings.Repeat("a", 31) + "\x00", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := wellFormed(tt.in); got != tt.want {
				t.Errorf("wellFormed(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
