package client

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestDefaultBackoff(t *testing.T) {
	fixed := func(d time.Duration) func(time.Duration) time.Duration {
		return func(time.Duration) time.Duration { return d }
	}
	ms := time.Millisecond
	tests := []struct {
		attempt int
		jitter  func(time.Duration) time.Duration
		want    time.Duration
	}{
		{0, nil, 100 * ms},
		{0, fixed(0), 100 * ms},
		{0, fixed(37 * ms), 137 * ms},
		{1, fixed(37 * ms), 237 * ms},
		{2, fixed(0), 400 * ms},
		{3, fixed(50 * ms), 850 * ms},
		{8, fixed(0), 25600 * ms},
		{8, fixed(99 * ms), 25699 * ms},
		{9, fixed(0), 30 * time.Second}, // 51.2s, capped
		{62, fixed(0), 30 * time.Second},
		{1 << 30, fixed(0), 30 * time.Second},
		{-3, fixed(0), 100 * ms},
		{0, fixed(time.Hour), 200 * ms}, // a jitter source out of range is clamped
		{0, fixed(-time.Hour), 100 * ms},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, DefaultBackoff(tt.attempt, tt.jitter), "attempt %d", tt.attempt)
	}
}

func TestRandomJitterInRange(t *testing.T) {
	for range 1000 {
		d := DefaultBackoff(0, randomJitter)
		if d < 100*time.Millisecond || d >= 200*time.Millisecond {
			t.Fatalf("backoff %s outside [100ms, 200ms)", d)
		}
	}
	assert.Zero(t, randomJitter(0))
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"1", time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"99999999999999999999", 0, false},
		{"9999999999", 365 * 24 * time.Hour, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"Mon, 23 Nov 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Monday, 23-Nov-26 12:01:00 GMT", time.Minute, true},
		{"Mon Nov 23 12:00:05 2026", 5 * time.Second, true},
		{"Sun, 22 Nov 2026 12:00:00 GMT", 0, true},
		{"tomorrow", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		assert.Equal(t, tt.ok, ok, "%q", tt.in)
		assert.Equal(t, tt.want, got, "%q", tt.in)
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "120", "Mon, 23 Nov 2026 12:00:30 GMT", "-5", "1e9", ""} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := parseRetryAfter(s, now)
		if d < 0 {
			t.Fatalf("%q: negative wait %s", s, d)
		}
		if !ok && d != 0 {
			t.Fatalf("%q: wait %s without ok", s, d)
		}
	})
}
