package proxy_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/proxy"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/versions"
)

// testExistingClients puts the proxy in front of an API that already has
// clients: they keep the version they integrated against (DefaultVersion,
// pins set by an operator from their credentials), pins are made only for
// credentials the upstream accepts, and every request is counted per
// version and account.
func testExistingClients(t *testing.T, up *url.URL, dbURL string) {
	ctx := context.Background()
	db, err := storage.Open(ctx, dbURL)
	require.NoError(t, err)
	defer db.Close()
	// A database of its own tables' rows: count them before and after.
	store, salt := sqlPins(t, dbURL)
	counter := pins.NewCounter(store)
	_, base := startProxy(t, proxy.Config{
		Config:    server.Config{Pins: store, DefaultVersion: versions.MustParse(v2023), Usage: counter},
		Upstream:  up,
		Salt:      salt,
		AuthCheck: authCheck,
	})
	rows := func() int {
		var n int
		require.NoError(t, db.QueryRow(ctx, `SELECT COUNT(*) FROM verso_pins`).Scan(&n))
		return n
	}
	before := rows()

	// Credentials the upstream refuses make no pin, however many.
	for i := range 50 {
		r := do(t, base, request{method: "GET", path: "/v1/tasks", header: map[string]string{"Authorization": fmt.Sprintf("Bearer random_%d_%d", i, time.Now().UnixNano())}})
		require.Equal(t, 401, r.status, r.body)
		assert.Equal(t, v2023, r.header.Get("Acme-Version"), "answered in the default version")
	}
	forbidden := map[string]string{"Authorization": "Bearer sk_test_forbidden_" + dbURL[:4]}
	r := do(t, base, request{method: "POST", path: "/v1/tasks", header: forbidden, ctype: jsonType, body: `{"title":"x"}`})
	require.Equal(t, 403, r.status, r.body)
	assert.Equal(t, before, rows(), "no pin row for refused credentials")

	// An existing client with no pin gets the default version, and is
	// pinned to it once the upstream accepted its credentials.
	oldKey := "Bearer sk_test_existing_" + fmt.Sprint(time.Now().UnixNano())
	r = do(t, base, request{method: "POST", path: "/v1/tasks", header: map[string]string{"Authorization": oldKey}, ctype: formType, body: "title=Existing&priority=2&status=open"})
	require.Equal(t, 200, r.status, r.body)
	assert.Equal(t, v2023, r.header.Get("Acme-Version"))
	assert.Equal(t, "Existing", r.get("title").String())
	assert.Equal(t, "Number", r.get("priority").Type.String(), "the client speaks 2023-03-01: an integer priority")
	p, err := store.Get(ctx, proxy.AccountOf(salt, oldKey))
	require.NoError(t, err)
	assert.Equal(t, v2023, p.Version.String())
	assert.Equal(t, before+1, rows())

	// An operator pins another existing client to the base version from
	// its key (verso pins import --authorization does this).
	olderKey := "Bearer sk_test_older_" + fmt.Sprint(time.Now().UnixNano())
	n, err := store.SetMany(ctx, []pins.Assignment{{Account: proxy.AccountOf(salt, olderKey), Version: versions.MustParse(v2022)}})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	r = do(t, base, request{method: "POST", path: "/v1/tasks", header: map[string]string{"Authorization": olderKey}, ctype: formType, body: "name=Older&priority=3&status=todo"})
	require.Equal(t, 200, r.status, r.body)
	assert.Equal(t, v2022, r.header.Get("Acme-Version"))
	assert.Equal(t, "Older", r.get("name").String())
	assert.Equal(t, "todo", r.get("status").String())
	pin := do(t, base, request{method: "GET", path: "/v1/account/api_version", header: map[string]string{"Authorization": olderKey}})
	require.Equal(t, 200, pin.status, pin.body)
	assert.Equal(t, v2022, pin.get("version").String())
	assert.Equal(t, "set", pin.get("history.0.kind").String(), pin.body)

	// Usage: per version and account; refused credentials without theirs.
	require.NoError(t, counter.Flush(ctx))
	users, err := store.Users(ctx, versions.MustParse(v2023), time.Now().Add(-time.Hour), 0)
	require.NoError(t, err)
	assert.Equal(t, []pins.Served{{Version: versions.MustParse(v2023), Account: proxy.AccountOf(salt, oldKey), Requests: 1}}, users,
		"the 51 refused requests count for the version, not for an account")
	census, err := store.Census(ctx, time.Now().Add(-time.Hour))
	require.NoError(t, err)
	var c2023 pins.Count
	for _, c := range census {
		if c.Version.String() == v2023 {
			c2023 = c
		}
	}
	assert.GreaterOrEqual(t, c2023.Requests, int64(52))
}
