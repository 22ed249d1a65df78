package api_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/storage/storagetest"
	"github.com/verso-api/verso/versions"
)

// TestCensus counts the requests each version served, over HTTP, and finds
// them in the census with the accounts pinned to each version.
func TestCensus(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		a := start(t, b, api.Config{})
		ctx := context.Background()
		for i := 0; i < 3; i++ {
			r := a.do(t, a.key, "GET", "/v1/customers", "2019-10-17", "")
			require.Equal(t, 200, r.status, r.body)
		}
		r := a.do(t, a.key, "GET", "/v1/customers", "", "")
		require.Equal(t, 200, r.status, r.body)
		a.do(t, "", "GET", "/v1/customers", "2019-10-17", "") // refused before versioning: not counted
		require.NoError(t, a.Counter.Flush(ctx))
		got, err := a.Pins.Census(ctx, time.Now().Add(-time.Hour))
		require.NoError(t, err)
		assert.Equal(t, []pins.Count{
			{Version: versions.MustParse(stable), Accounts: 1, Requests: 1, Active: 1},
			{Version: versions.MustParse("2019-10-17"), Requests: 3, Active: 1},
		}, got, "counted by the versioning middleware, per version and account")
	})
}

// TestDefaultVersion: with Config.DefaultVersion (verso serve
// --default-version), a request naming no version from an account with no
// pin is served that version, and the account pinned to it.
func TestDefaultVersion(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		a := start(t, b, api.Config{DefaultVersion: versions.MustParse("2019-10-17")})
		key := a.newAccount(t)
		acct, err := a.Accounts.Authenticate(context.Background(), key)
		require.NoError(t, err)
		r := a.do(t, key, "POST", "/v1/customers", "", "balance=5")
		require.Equal(t, 200, r.status, r.body)
		assert.Equal(t, "2019-10-17", r.header.Get("Stripe-Version"))
		p, err := a.Pins.Get(context.Background(), acct.ID)
		require.NoError(t, err)
		assert.Equal(t, "2019-10-17", p.Version.String())
	})
}
