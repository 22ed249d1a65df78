package webhooks

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/webhooks/signature"
)

// TestEndpointManagement drives the endpoint API over HTTP on 127.0.0.1:
// update, disable and enable, roll the secret, delete, retry now.
func TestEndpointManagement(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		a := newAPIServer(t, open(t))
		parent := t // the worker, once started, runs for the later subtests too
		ctx := context.Background()
		rc := newReceiver(t, nil)
		status, ep := a.call(t, "POST", "/v1/webhook_endpoints", "acct_m", formCT,
			"url="+rc.URL+"/a&enabled_events[]=customer.created")
		require.Equal(t, 200, status, ep.Raw)
		id := ep.Get("id").String()
		require.Equal(t, "enabled", ep.Get("status").String())

		t.Run("update", func(t *testing.T) {
			tests := []struct {
				name, body string
				status     int
				check      func(t *testing.T, r gjson.Result)
			}{
				{"url", "url=" + rc.URL + "/b", 200, func(t *testing.T, r gjson.Result) {
					require.Equal(t, rc.URL+"/b", r.Get("url").String())
				}},
				{"enabled events", "enabled_events[]=customer.created&enabled_events[]=charge.succeeded", 200, func(t *testing.T, r gjson.Result) {
					require.Equal(t, `["customer.created","charge.succeeded"]`, r.Get("enabled_events").Raw)
				}},
				{"api version", "api_version=" + vOld.String(), 200, func(t *testing.T, r gjson.Result) {
					require.Equal(t, vOld.String(), r.Get("api_version").String())
				}},
				{"description", "description=orders", 200, func(t *testing.T, r gjson.Result) {
					require.Equal(t, "orders", r.Get("description").String())
					require.Equal(t, vOld.String(), r.Get("api_version").String(), "other fields stay")
				}},
				{"bad url", "url=ftp://x", 400, func(t *testing.T, r gjson.Result) {
					require.Equal(t, "url", r.Get("error.param").String())
				}},
				{"unknown event type", "enabled_events[]=nope.nope", 400, nil},
				{"unsupported version", "api_version=2001-01-01", 400, nil},
				{"bad disabled", "disabled=maybe", 400, nil},
				{"unknown parameter", "secret=x", 400, func(t *testing.T, r gjson.Result) {
					require.Equal(t, "secret", r.Get("error.param").String())
				}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					status, r := a.call(t, "POST", "/v1/webhook_endpoints/"+id, "acct_m", formCT, tt.body)
					require.Equal(t, tt.status, status, r.Raw)
					if tt.check != nil {
						tt.check(t, r)
					}
				})
			}
			status, r := a.call(t, "POST", "/v1/webhook_endpoints/"+id, "acct_other", formCT, "description=x")
			require.Equal(t, 404, status, r.Raw)
			e, err := a.store.GetEndpoint(ctx, "acct_m", id)
			require.NoError(t, err)
			require.Equal(t, rc.URL+"/b", e.URL)
			require.Equal(t, vOld, e.APIVersion)
		})

		t.Run("disabled gets nothing until enabled", func(t *testing.T) {
			status, r := a.call(t, "POST", "/v1/webhook_endpoints/"+id, "acct_m", formCT, "disabled=true")
			require.Equal(t, 200, status, r.Raw)
			require.Equal(t, "disabled", r.Get("status").String())
			// A delivery queued before the endpoint was disabled waits.
			_, err := a.store.db.Exec(ctx, `UPDATE webhook_endpoints SET status = 'enabled' WHERE id = ?`, id)
			require.NoError(t, err)
			waiting := customerEvent("acct_m", "customer.created", 1)
			waiting.ID = NewEventID()
			require.NoError(t, a.store.RecordEvent(ctx, nil, waiting))
			_, err = a.store.db.Exec(ctx, `UPDATE webhook_endpoints SET status = 'disabled' WHERE id = ?`, id)
			require.NoError(t, err)
			skipped := customerEvent("acct_m", "customer.created", 2)
			require.NoError(t, a.store.RecordEvent(ctx, nil, skipped))
			ds, _, err := a.store.ListDeliveries(ctx, "acct_m", DeliveryListParams{EndpointID: id})
			require.NoError(t, err)
			require.Len(t, ds, 1, "a disabled endpoint gets no new deliveries")
			jobs, err := claimN(a.store, ctx, time.Now(), time.Now().Add(time.Minute), "probe", 10, 10, nil)
			require.NoError(t, err)
			require.Empty(t, jobs, "a disabled endpoint's delivery is not claimed")

			start(parent, a.worker)
			status, r = a.call(t, "POST", "/v1/webhook_endpoints/"+id, "acct_m", formCT, "disabled=false")
			require.Equal(t, 200, status, r.Raw)
			require.Equal(t, "enabled", r.Get("status").String())
			eventually(t, "the waiting delivery is made once enabled", func() bool { return rc.distinctIDs()[waiting.ID] == 1 })
			for _, got := range rc.requests() {
				require.True(t, strings.HasPrefix(got.header.Get(AttemptHeader), "1"))
			}
		})

		t.Run("roll the secret", func(t *testing.T) {
			old := ep.Get("secret").String()
			status, r := a.call(t, "POST", "/v1/webhook_endpoints/"+id+"/roll_secret", "acct_m", formCT, "expires_in=3600")
			require.Equal(t, 200, status, r.Raw)
			fresh := r.Get("secret").String()
			require.True(t, strings.HasPrefix(fresh, signature.SecretPrefix))
			require.NotEqual(t, old, fresh)
			require.Greater(t, r.Get("previous_secret_expires_at").Int(), time.Now().Unix())
			status, got := a.call(t, "GET", "/v1/webhook_endpoints/"+id, "acct_m", "", "")
			require.Equal(t, 200, status)
			require.False(t, got.Get("secret").Exists(), "the secret is shown once")

			ev := customerEvent("acct_m", "customer.created", 3)
			ev.ID = NewEventID()
			require.NoError(t, a.store.RecordEvent(ctx, nil, ev))
			a.worker.Notify()
			eventually(t, "delivered", func() bool { return rc.distinctIDs()[ev.ID] == 1 })
			req := lastFor(t, rc, ev.ID)
			sig := req.header.Get(signature.Header)
			require.Equal(t, 2, strings.Count(sig, "v1="), "both secrets sign during the overlap: %s", sig)
			require.NoError(t, signature.Verify(req.body, sig, fresh, 0))
			require.NoError(t, signature.Verify(req.body, sig, old, 0), "a receiver still on the old secret verifies")

			for _, bad := range []string{"expires_in=-1", "expires_in=604801", "expires_in=1.5", "other=1"} {
				status, r := a.call(t, "POST", "/v1/webhook_endpoints/"+id+"/roll_secret", "acct_m", formCT, bad)
				require.Equal(t, 400, status, "%s: %s", bad, r.Raw)
			}
			// Rolled with no overlap: only the newest secret signs.
			status, r = a.call(t, "POST", "/v1/webhook_endpoints/"+id+"/roll_secret", "acct_m", formCT, "expires_in=0")
			require.Equal(t, 200, status, r.Raw)
			newest := r.Get("secret").String()
			require.False(t, r.Get("previous_secret_expires_at").Exists())
			ev2 := customerEvent("acct_m", "customer.created", 4)
			ev2.ID = NewEventID()
			require.NoError(t, a.store.RecordEvent(ctx, nil, ev2))
			a.worker.Notify()
			eventually(t, "delivered", func() bool { return rc.distinctIDs()[ev2.ID] == 1 })
			req = lastFor(t, rc, ev2.ID)
			sig = req.header.Get(signature.Header)
			require.Equal(t, 1, strings.Count(sig, "v1="), sig)
			require.NoError(t, signature.Verify(req.body, sig, newest, 0))
			require.ErrorIs(t, signature.Verify(req.body, sig, fresh, 0), signature.ErrMismatch)
		})

		t.Run("retry now", func(t *testing.T) {
			ev := customerEvent("acct_m", "customer.created", 5)
			ev.ID = NewEventID()
			require.NoError(t, a.store.RecordEvent(ctx, nil, ev))
			d := deliveryOf(t, a.store, "acct_m", ev.ID)
			// Waiting an hour for its next attempt, as after a failure.
			_, err := a.store.db.Exec(ctx, `UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ?`, ms(time.Now().Add(time.Hour)), d.ID)
			require.NoError(t, err)
			status, r := a.call(t, "POST", "/v1/webhook_deliveries/"+d.ID+"/retry", "acct_m", "", "")
			require.Equal(t, 200, status, r.Raw)
			eventually(t, "retried now", func() bool { return rc.distinctIDs()[ev.ID] == 1 })
			status, _ = a.call(t, "POST", "/v1/webhook_deliveries/"+d.ID+"/retry", "acct_other", "", "")
			require.Equal(t, 404, status)
		})

		t.Run("delete", func(t *testing.T) {
			status, r := a.call(t, "DELETE", "/v1/webhook_endpoints/"+id, "acct_m", "", "")
			require.Equal(t, 200, status, r.Raw)
			require.True(t, r.Get("deleted").Bool())
			status, _ = a.call(t, "GET", "/v1/webhook_endpoints/"+id, "acct_m", "", "")
			require.Equal(t, 404, status)
			status, _ = a.call(t, "POST", "/v1/webhook_endpoints/"+id, "acct_m", formCT, "description=x")
			require.Equal(t, 404, status)
		})
	})
}

// TestUpdateChecksAddress checks that a new URL goes through the same
// private-address check as a new endpoint.
func TestUpdateChecksAddress(t *testing.T) {
	db := openDB(t, ":memory:")
	ctx := context.Background()
	loose := newStore(t, db, nil)
	e, err := loose.CreateEndpoint(ctx, EndpointParams{Account: "acct_u", URL: "https://example.com/hook", EnabledEvents: []string{"*"}, APIVersion: vNew})
	require.NoError(t, err)
	strict, err := NewSQLStore(ctx, db, nil)
	require.NoError(t, err)
	for _, u := range []string{"http://127.0.0.1:8080/", "http://10.0.0.1/", "http://localhost/"} {
		_, err = strict.UpdateEndpoint(ctx, "acct_u", e.ID, EndpointUpdate{URL: &u})
		require.ErrorIs(t, err, ErrInvalid, u)
	}
	got, err := strict.GetEndpoint(ctx, "acct_u", e.ID)
	require.NoError(t, err)
	require.Equal(t, "https://example.com/hook", got.URL, "nothing changed")
}

// TestRollSecretStandard checks the overlap in the Standard Webhooks
// scheme: two space-separated v1 entries, each verifying with its secret,
// and only the new one once the overlap has passed.
func TestRollSecretStandard(t *testing.T) {
	ctx := context.Background()
	clock := newManualClock()
	s := newStore(t, openDB(t, ":memory:"), clock.Now)
	e, err := s.CreateEndpoint(ctx, EndpointParams{Account: "acct_s", URL: "https://example.com/", EnabledEvents: []string{"*"}, APIVersion: vNew, Scheme: SchemeStandard})
	require.NoError(t, err)
	rolled, err := s.RollSecret(ctx, "acct_s", e.ID, time.Hour)
	require.NoError(t, err)
	w := mustWorker(t, Config{Store: s, Renderer: fakeRender, Clock: clock.Now})
	ep, err := s.endpointWithSecret(ctx, "acct_s", e.ID)
	require.NoError(t, err)
	body := []byte(`{"id":"evt_1","object":"event"}`)
	req, err := w.request(ctx, ep, body, 1)
	require.NoError(t, err)
	sigs := req.Header.Get(signature.StandardSignature)
	require.Len(t, strings.Fields(sigs), 2, sigs)
	require.NoError(t, signature.VerifyStandardAt(body, req.Header, rolled.Secret, time.Minute, clock.Now()))
	require.NoError(t, signature.VerifyStandardAt(body, req.Header, e.Secret, time.Minute, clock.Now()))

	clock.Add(time.Hour)
	req, err = w.request(ctx, ep, body, 1)
	require.NoError(t, err)
	require.Len(t, strings.Fields(req.Header.Get(signature.StandardSignature)), 1, "the overlap is over")
	require.ErrorIs(t, signature.VerifyStandardAt(body, req.Header, e.Secret, time.Minute, clock.Now()), signature.ErrMismatch)
	_, err = s.RollSecret(ctx, "acct_s", e.ID, MaxSecretOverlap+time.Second)
	require.ErrorIs(t, err, ErrInvalid)
	_, err = s.RollSecret(ctx, "acct_s", "we_nope", 0)
	require.ErrorIs(t, err, ErrNotFound)
}

// lastFor returns the last request rc got for the event id.
func lastFor(t *testing.T, rc *receiver, id string) received {
	t.Helper()
	var out received
	found := false
	for _, r := range rc.requests() {
		if gjson.GetBytes(r.body, "id").String() == id {
			out, found = r, true
		}
	}
	require.True(t, found, "no request for %s", id)
	return out
}
