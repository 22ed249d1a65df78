package echoversioning_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/server/echoversioning"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

type usageLog struct {
	mu   sync.Mutex
	seen []string
}

func (u *usageLog) Count(v versions.Version, account string) {
	u.mu.Lock()
	u.seen = append(u.seen, v.String()+" "+account)
	u.mu.Unlock()
}

// TestUsageAndFirstPin checks that the echo form counts usage and pins an
// account once a request of its succeeded, as the core does: a handler's
// 401 makes no pin and is counted without the account.
func TestUsageAndFirstPin(t *testing.T) {
	tl := gates.MustNewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: versions.MustParse("2019-10-17"), Changes: []gates.Change{{ID: "customer_balance", Description: "`account_balance` is `balance`.",
			Resources: []string{"customer"}, Ops: []gates.Op{gates.Rename("balance", "account_balance")}}}},
		{ID: versions.MustParse("2015-02-18")},
	}}, nil)
	store, usage := pins.NewMemoryStore(nil), &usageLog{}
	for _, def := range []string{"2015-02-18", "2019-10-17"} {
		mw, err := echoversioning.New(server.Config{
			Engine: transform.New(tl, nil), Pins: store, Usage: usage, DefaultVersion: versions.MustParse(def),
			Account: func(r *http.Request) (string, error) { return r.Header.Get("X-Account"), nil },
		})
		require.NoError(t, err)
		e := echo.New()
		e.HTTPErrorHandler = echoversioning.ErrorHandler
		e.Use(mw)
		e.GET("/v1/customers/:id", func(c echo.Context) error {
			if c.Request().Header.Get("X-Refuse") != "" {
				return echo.NewHTTPError(http.StatusUnauthorized, "Invalid API key.")
			}
			return c.JSON(200, map[string]any{"object": "customer", "id": "cus_1", "balance": 5})
		})
		account := "acct_" + def
		for _, refuse := range []bool{true, false} {
			req := httptest.NewRequest("GET", "/v1/customers/cus_1", nil)
			req.Header.Set("X-Account", account)
			if refuse {
				req.Header.Set("X-Refuse", "1")
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			assert.Equal(t, def, rec.Header().Get("Stripe-Version"))
			_, err := store.Get(t.Context(), account)
			if refuse {
				assert.Equal(t, 401, rec.Code)
				assert.ErrorIs(t, err, pins.ErrNotPinned, "no pin for refused credentials")
			} else {
				assert.Equal(t, 200, rec.Code)
				assert.NoError(t, err, "pinned after a success")
			}
		}
	}
	assert.Equal(t, []string{"2015-02-18 ", "2015-02-18 acct_2015-02-18", "2019-10-17 ", "2019-10-17 acct_2019-10-17"}, usage.seen)
}
