package client

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Backoff bounds used by DefaultBackoff.
const (
	BackoffBase   = 100 * time.Millisecond
	BackoffJitter = 100 * time.Millisecond
	BackoffMax    = 30 * time.Second
)

// DefaultBackoff returns the wait before retry number attempt (0 for the
// first retry): min(2^attempt * 100ms + jitter(100ms), 30s). A nil jitter
// adds none; a negative attempt counts as 0.
func DefaultBackoff(attempt int, jitter func(n time.Duration) time.Duration) time.Duration {
	attempt = max(attempt, 0)
	// 2^18 * 100ms already exceeds the cap; stopping there avoids overflow.
	if attempt > 18 {
		return BackoffMax
	}
	d := BackoffBase << attempt
	if jitter != nil {
		d += min(max(jitter(BackoffJitter), 0), BackoffJitter)
	}
	return min(d, BackoffMax)
}

// parseRetryAfter reads a Retry-After header, either delay-seconds or an
// HTTP date, as a wait from now. A date in the past is a wait of 0.
func parseRetryAfter(h string, now time.Time) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if h[0] >= '0' && h[0] <= '9' {
		secs, err := strconv.ParseUint(h, 10, 64)
		if err != nil {
			return 0, false
		}
		// Anything beyond a year is as good as forever; clamp before it
		// overflows a Duration.
		const year = 365 * 24 * 60 * 60
		return time.Duration(min(secs, year)) * time.Second, true
	}
	t, err := http.ParseTime(h)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}
