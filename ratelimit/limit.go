package ratelimit

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrInvalidLimit is wrapped by the errors returned for a Limit that cannot
// be enforced.
var ErrInvalidLimit = errors.New("ratelimit: invalid limit")

// Limit is a token bucket: Burst requests at once, refilled at Rate
// requests per second.
type Limit struct {
	// Rate is the sustained number of requests per second; 0.5 is one
	// request every two seconds.
	Rate float64
	// Burst is the bucket's size: the most requests allowed at once.
	// 0 means Rate rounded up (at least 1).
	Burst int
}

// Per returns the Limit of n requests per d, all of which may come at once:
// Per(100, time.Second), Per(1000, time.Hour).
func Per(n int, d time.Duration) Limit {
	if d <= 0 {
		return Limit{Rate: math.Inf(1), Burst: n}
	}
	return Limit{Rate: float64(n) / d.Seconds(), Burst: n}
}

func (l Limit) String() string {
	return fmt.Sprintf("%g/s burst %d", l.Rate, l.Burst)
}

// maxBucketSpan bounds Burst times the refill interval, keeping the
// bucket's arithmetic (int64 nanoseconds) far from overflow.
const maxBucketSpan = 100 * 365 * 24 * time.Hour

// normalize fills in Burst and checks l.
func (l Limit) normalize() (Limit, error) {
	if l.Burst == 0 && l.Rate > 0 && l.Rate <= math.MaxInt32 {
		l.Burst = max(1, int(math.Ceil(l.Rate)))
	}
	if _, err := l.interval(); err != nil {
		return l, err
	}
	return l, nil
}

// Interval returns the time one token takes to come back, or an error
// wrapping ErrInvalidLimit for a limit no store can enforce. Stores kept
// outside this package use it to check a limit as the built-in ones do.
func (l Limit) Interval() (time.Duration, error) {
	iv, err := l.interval()
	return time.Duration(iv), err
}

// interval returns the time one token takes to come back, in nanoseconds.
func (l Limit) interval() (int64, error) {
	if !(l.Rate > 0) || math.IsInf(l.Rate, 0) || l.Rate > 1e9 {
		return 0, fmt.Errorf("%w: rate %g: want more than 0 and at most 1e9 requests per second", ErrInvalidLimit, l.Rate)
	}
	if l.Burst < 1 {
		return 0, fmt.Errorf("%w: burst %d: want at least 1", ErrInvalidLimit, l.Burst)
	}
	iv := int64(float64(time.Second) / l.Rate)
	iv = max(iv, 1)
	if float64(iv)*float64(l.Burst) > float64(maxBucketSpan) {
		return 0, fmt.Errorf("%w: %s: a full bucket would take more than 100 years to refill", ErrInvalidLimit, l)
	}
	return iv, nil
}
