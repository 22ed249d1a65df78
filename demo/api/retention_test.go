package api_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/storage/storagetest"
)

// testClock is a clock the test moves.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestRetention runs the demo API with a retention of an hour: once the
// clock has moved two hours, the events made before are deleted while it
// serves, and the ones made since are kept.
func TestRetention(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		clock := &testClock{t: time.Now()}
		a := start(t, b, api.Config{Clock: clock.Now, Retention: api.Retention{Events: time.Hour, Interval: 10 * time.Millisecond}})
		for range 3 {
			require.Equal(t, 200, a.do(t, a.key, "POST", "/v1/customers", "", "email=old@example.com").status)
		}
		events := func() int {
			r := a.do(t, a.key, "GET", "/v1/events?limit=100", "", "")
			require.Equal(t, 200, r.status, r.body)
			return int(r.get("data.#").Int())
		}
		require.Equal(t, 3, events())
		clock.Add(2 * time.Hour)
		require.Equal(t, 200, a.do(t, a.key, "POST", "/v1/customers", "", "email=new@example.com").status)
		require.Eventually(t, func() bool { return events() == 1 }, 30*time.Second, 10*time.Millisecond, "the old events are deleted")
		r := a.do(t, a.key, "GET", "/v1/events", "", "")
		assert.Equal(t, "new@example.com", r.get("data.0.data.object.email").String())
	})
}
