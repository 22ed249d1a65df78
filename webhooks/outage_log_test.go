package webhooks

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/internal/logtest"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/versions"
)

// TestWorkerLogsOutageOnce takes the deliveries table away under a running
// worker, so that every poll's claim fails, and checks the worker logs one
// error when claims start failing and one warning, with the count of
// failed claims, when they succeed again, not a line per poll; then the
// same for a second outage.
func TestWorkerLogsOutageOnce(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		db := open(t)
		s := newStore(t, db, nil)
		logger, logs := logtest.New()
		var ticks atomic.Int64 // the worker reads the clock at least once per poll
		cfg := fastConfig(s)
		cfg.Logger = logger
		cfg.Clock = func() time.Time { ticks.Add(1); return time.Now() }
		rc := newReceiver(t, nil)
		_, err := s.CreateEndpoint(ctx, EndpointParams{Account: "acct_o", URL: rc.URL, EnabledEvents: []string{"*"}, APIVersion: vNew})
		require.NoError(t, err)
		w := mustWorker(t, cfg)
		start(t, w)

		for outage := 1; outage <= 2; outage++ {
			away(t, db, true)
			before := ticks.Load()
			eventually(t, "polls while the table is away", func() bool { return ticks.Load() > before+60 })
			away(t, db, false)
			ev := customerEvent("acct_o", "customer.created", outage)
			ev.ID = NewEventID()
			require.NoError(t, s.RecordEvent(ctx, nil, ev))
			w.Notify()
			eventually(t, "the event delivered after the outage", func() bool { return len(rc.requests()) == outage })
			eventually(t, "the recovery logged", func() bool { return len(logs.Records("webhooks: claim deliveries")) == 2*outage })

			got := logs.Records("webhooks: claim deliveries")[2*(outage-1):]
			require.Equal(t, slog.LevelError, got[0].Level, got[0].Message)
			require.Contains(t, got[0].Message, "failing")
			require.Equal(t, slog.LevelWarn, got[1].Level, got[1].Message)
			require.Contains(t, got[1].Message, "recovered")
			var failed int64
			got[1].Attrs(func(a slog.Attr) bool {
				if a.Key == "failed_claims" {
					failed = a.Value.Int64()
				}
				return true
			})
			require.GreaterOrEqual(t, failed, int64(10), "a dozen polls or more failed during the outage")
		}
		time.Sleep(20 * time.Millisecond) // a few more polls, all succeeding
		require.Len(t, logs.Records("webhooks: claim deliveries"), 4, "nothing more is logged while claims succeed")
	})
}

// away renames the deliveries table away (on) or back (off).
func away(t *testing.T, db *storage.DB, on bool) {
	from, to := "webhook_deliveries", "webhook_deliveries_away"
	if !on {
		from, to = to, from
	}
	_, err := db.Exec(context.Background(), `ALTER TABLE `+from+` RENAME TO `+to)
	require.NoError(t, err)
}

// TestHandlersLogOutageAsWarning takes the endpoints table away and checks
// the endpoint API answers 503 with Retry-After and logs it at level warn:
// an outage answers every request so, and must not flood the log with
// errors.
func TestHandlersLogOutageAsWarning(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		db := open(t)
		logger, logs := logtest.New()
		h, err := NewHandlers(HandlersConfig{
			Store:        newStore(t, db, nil),
			Account:      func(*http.Request) string { return "acct_o" },
			Version:      func(*http.Request) (versions.Version, error) { return vMid, nil },
			ErrorHandler: apierror.NewWriter(logger),
			Logger:       logger,
		})
		require.NoError(t, err)
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		_, err = db.Exec(context.Background(), `ALTER TABLE webhook_endpoints RENAME TO webhook_endpoints_away`)
		require.NoError(t, err)
		for range 3 {
			res, err := http.Get(srv.URL + "/v1/webhook_endpoints")
			require.NoError(t, err)
			res.Body.Close()
			require.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
			require.NotEmpty(t, res.Header.Get("Retry-After"))
		}
		require.NotEmpty(t, logs.Records(""))
		for _, r := range logs.Records("") {
			require.Equal(t, slog.LevelWarn, r.Level, r.Message)
		}
	})
}
