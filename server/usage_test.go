package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/versions"
)

// usageLog is a server.Usage that keeps what it is told.
type usageLog struct {
	mu   sync.Mutex
	seen []string
}

func (u *usageLog) Count(v versions.Version, account string) {
	u.mu.Lock()
	u.seen = append(u.seen, v.String()+" "+account)
	u.mu.Unlock()
}

func (u *usageLog) take() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	s := u.seen
	u.seen = nil
	return s
}

// sourceLog is a server.Metrics that keeps the source of each request.
type sourceLog struct {
	mu      sync.Mutex
	sources []server.Source
	created int
}

func (m *sourceLog) Request(v versions.Version, source server.Source, status int) {
	m.mu.Lock()
	m.sources = append(m.sources, source)
	m.mu.Unlock()
}
func (m *sourceLog) InvalidVersion() {}
func (m *sourceLog) PinCreated() {
	m.mu.Lock()
	m.created++
	m.mu.Unlock()
}
func (m *sourceLog) Walk(server.Direction, int, time.Duration, error) {}

// TestDefaultVersionAndFirstPin checks Config.DefaultVersion, that an
// account is pinned only once a request of its has been answered with a
// success (never for credentials refused with 401 or 403), and that every
// request is counted by Config.Usage, without its account when it was
// refused 401 or 403; at a version whose answers stream and at one whose
// answers are walked back.
func TestDefaultVersionAndFirstPin(t *testing.T) {
	for _, def := range []string{"2023-01-01", "2024-06-01.preview"} {
		t.Run(def, func(t *testing.T) {
			store := pins.NewMemoryStore(nil)
			usage, metrics := &usageLog{}, &sourceLog{}
			mw, err := server.Config{
				Engine:         previewTimeline(t),
				Pins:           store,
				DefaultVersion: versions.MustParse(def),
				Usage:          usage,
				Metrics:        metrics,
				Account:        func(r *http.Request) (string, error) { return r.Header.Get("X-Account"), nil },
			}.ToMiddleware()
			require.NoError(t, err)
			h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				status, _ := strconv.Atoi(r.Header.Get("X-Status"))
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				_, _ = io.WriteString(w, `{"object":"charge","amount":"100","total":100}`)
			}))
			for _, c := range []struct {
				name, account, header string
				status                int
				served                string
				pinned                bool
				usage                 string
				source                server.Source
			}{
				{"no account", "", "", 200, def, false, def + " ", server.SourceDefault},
				{"credentials refused", "acct_1", "", 401, def, false, def + " ", server.SourceDefault},
				{"forbidden", "acct_1", "", 403, def, false, def + " ", server.SourceDefault},
				{"a failure", "acct_1", "", 500, def, false, def + " acct_1", server.SourceDefault},
				{"not found", "acct_1", "", 404, def, false, def + " acct_1", server.SourceDefault},
				{"a version header", "acct_1", "2024-01-01", 200, "2024-01-01", false, "2024-01-01 acct_1", server.SourceHeader},
				{"the first success", "acct_1", "", 201, def, true, def + " acct_1", server.SourceNewPin},
				{"pinned", "acct_1", "", 200, def, true, def + " acct_1", server.SourcePin},
			} {
				t.Run(c.name, func(t *testing.T) {
					req := httptest.NewRequest("GET", "/v1/charges/ch_1", nil)
					req.Header.Set("X-Status", strconv.Itoa(c.status))
					if c.account != "" {
						req.Header.Set("X-Account", c.account)
					}
					if c.header != "" {
						req.Header.Set("Stripe-Version", c.header)
					}
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					require.Equal(t, c.status, rec.Code, rec.Body.String())
					assert.Equal(t, c.served, rec.Header().Get("Stripe-Version"))
					p, err := store.Get(t.Context(), "acct_1")
					if c.pinned {
						require.NoError(t, err)
						assert.Equal(t, def, p.Version.String())
					} else {
						assert.ErrorIs(t, err, pins.ErrNotPinned)
					}
					assert.Equal(t, []string{c.usage}, usage.take())
					metrics.mu.Lock()
					assert.Equal(t, c.source, metrics.sources[len(metrics.sources)-1])
					metrics.mu.Unlock()
				})
			}
			assert.Equal(t, 1, metrics.created)
			h2, err := store.History(t.Context(), "acct_1")
			require.NoError(t, err)
			assert.Len(t, h2, 1, "one pin")
		})
	}
	_, err := server.Config{Engine: previewTimeline(t), DefaultVersion: versions.MustParse("2022-01-01")}.ToMiddleware()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "DefaultVersion 2022-01-01 is not a version of the timeline")
}
