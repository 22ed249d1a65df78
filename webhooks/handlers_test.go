package webhooks

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/versions"
	"github.com/verso-api/verso/webhooks/signature"
)

// apiServer serves the endpoint API on 127.0.0.1; the account comes from the
// X-Account header and every account is pinned to vMid.
type apiServer struct {
	*httptest.Server
	store  *SQLStore
	worker *Worker
}

func newAPIServer(t *testing.T, db *storage.DB) *apiServer {
	s := newStore(t, db, nil)
	tl, err := versions.NewTimeline(vNew, vMid, vOld)
	require.NoError(t, err)
	w := mustWorker(t, fastConfig(s))
	h, err := NewHandlers(HandlersConfig{
		Store:      s,
		Account:    func(r *http.Request) string { return r.Header.Get("X-Account") },
		Version:    func(*http.Request) (versions.Version, error) { return vMid, nil },
		Timeline:   tl,
		EventTypes: []string{"customer.created", "customer.updated", "charge.succeeded"},
		Worker:     w,
		SampleEvent: func(_ *http.Request, typ string) ([]byte, error) {
			if typ != "customer.created" {
				return nil, errors.New("no sample")
			}
			return []byte(`{"object":"event","type":"customer.created","data":{"object":{"object":"customer","balance":5}}}`), nil
		},
	})
	require.NoError(t, err)
	mux := http.NewServeMux()
	for _, p := range h.Patterns() {
		mux.Handle(p, h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &apiServer{Server: srv, store: s, worker: w}
}

// call sends a request and returns the status and the parsed body.
func (a *apiServer) call(t *testing.T, method, path, account, contentType, body string) (int, gjson.Result) {
	t.Helper()
	req, err := http.NewRequest(method, a.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if account != "" {
		req.Header.Set("X-Account", account)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.True(t, gjson.ValidBytes(b), "not JSON: %s", b)
	return resp.StatusCode, gjson.ParseBytes(b)
}

const (
	jsonCT = "application/json"
	formCT = "application/x-www-form-urlencoded"
)

func TestHandlers(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		t.Run("lifecycle", func(t *testing.T) { testHandlerLifecycle(t, newAPIServer(t, open(t))) })
		t.Run("errors", func(t *testing.T) { testHandlerErrors(t, newAPIServer(t, open(t))) })
		t.Run("test send and deliveries", func(t *testing.T) { testHandlerTestSend(t, newAPIServer(t, open(t))) })
	})
}

func testHandlerLifecycle(t *testing.T, a *apiServer) {
	tests := []struct {
		name, contentType, body string
		wantEvents              []string
		wantVersion             versions.Version
		wantScheme              string
	}{
		{"json with a version", jsonCT, `{"url":"https://example.com/a","enabled_events":["customer.created","charge.succeeded"],"api_version":"2019-05-16","description":"crm"}`,
			[]string{"customer.created", "charge.succeeded"}, vOld, "stripe"},
		{"form with [] lists and the pin", formCT, "url=https%3A%2F%2Fexample.com%2Fb&enabled_events[]=customer.created&enabled_events[]=customer.updated",
			[]string{"customer.created", "customer.updated"}, vMid, "stripe"},
		{"form with indexed lists", formCT, "url=https://example.com/c&enabled_events[1]=charge.succeeded&enabled_events[0]=*&signature_scheme=standard",
			[]string{"*", "charge.succeeded"}, vMid, "standard"},
		{"json with one event as a string", jsonCT, `{"url":"http://127.0.0.1:9/d","enabled_events":"*","api_version":"2024-09-30.acacia"}`,
			[]string{"*"}, vNew, "stripe"},
	}
	var ids []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := a.call(t, http.MethodPost, "/v1/webhook_endpoints", "acct_h", tt.contentType, tt.body)
			require.Equal(t, http.StatusOK, status, body.Raw)
			require.Equal(t, "webhook_endpoint", body.Get("object").String())
			require.Regexp(t, `^we_`, body.Get("id").String())
			require.Regexp(t, `^whsec_`, body.Get("secret").String(), "the secret is in the create response")
			require.Equal(t, tt.wantVersion.String(), body.Get("api_version").String())
			require.Equal(t, tt.wantScheme, body.Get("signature_scheme").String())
			require.Equal(t, "enabled", body.Get("status").String())
			var events []string
			for _, e := range body.Get("enabled_events").Array() {
				events = append(events, e.String())
			}
			require.Equal(t, tt.wantEvents, events)
			ids = append(ids, body.Get("id").String())

			status, got := a.call(t, http.MethodGet, "/v1/webhook_endpoints/"+body.Get("id").String(), "acct_h", "", "")
			require.Equal(t, http.StatusOK, status)
			require.False(t, got.Get("secret").Exists(), "never shown again")
			require.Equal(t, body.Get("url").String(), got.Get("url").String())
		})
	}
	status, list := a.call(t, http.MethodGet, "/v1/webhook_endpoints?limit=3", "acct_h", "", "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "list", list.Get("object").String())
	require.True(t, list.Get("has_more").Bool())
	require.Len(t, list.Get("data").Array(), 3)
	require.False(t, list.Get("data.0.secret").Exists())
	last := list.Get("data.2.id").String()
	status, list = a.call(t, http.MethodGet, "/v1/webhook_endpoints?limit=3&starting_after="+last, "acct_h", "", "")
	require.Equal(t, http.StatusOK, status)
	require.False(t, list.Get("has_more").Bool())
	require.Len(t, list.Get("data").Array(), 1)

	status, other := a.call(t, http.MethodGet, "/v1/webhook_endpoints", "acct_other", "", "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "[]", other.Get("data").Raw, "accounts see only their own endpoints")

	status, del := a.call(t, http.MethodDelete, "/v1/webhook_endpoints/"+ids[0], "acct_h", "", "")
	require.Equal(t, http.StatusOK, status)
	require.True(t, del.Get("deleted").Bool())
	require.Equal(t, ids[0], del.Get("id").String())
	status, gone := a.call(t, http.MethodGet, "/v1/webhook_endpoints/"+ids[0], "acct_h", "", "")
	require.Equal(t, http.StatusNotFound, status)
	require.Equal(t, "resource_missing", gone.Get("error.code").String())
	require.Equal(t, "invalid_request_error", gone.Get("error.type").String())
}

func testHandlerErrors(t *testing.T, a *apiServer) {
	tests := []struct {
		name, method, path, account, contentType, body string
		status                                         int
		param, message                                 string
	}{
		{"no account", "GET", "/v1/webhook_endpoints", "", "", "", 401, "", "API key"},
		{"missing url", "POST", "/v1/webhook_endpoints", "a", jsonCT, `{"enabled_events":["*"]}`, 400, "url", "missing required param: url"},
		{"relative url", "POST", "/v1/webhook_endpoints", "a", formCT, "url=/x&enabled_events[]=*", 400, "url", "absolute"},
		{"missing events", "POST", "/v1/webhook_endpoints", "a", formCT, "url=https://e.com/", 400, "enabled_events", "missing required param"},
		{"unknown event type", "POST", "/v1/webhook_endpoints", "a", jsonCT, `{"url":"https://e.com/","enabled_events":["invoice.paid"]}`, 400, "enabled_events", "invoice.paid"},
		{"malformed event type", "POST", "/v1/webhook_endpoints", "a", jsonCT, `{"url":"https://e.com/","enabled_events":["All"]}`, 400, "enabled_events", "All"},
		{"unsupported version", "POST", "/v1/webhook_endpoints", "a", jsonCT, `{"url":"https://e.com/","enabled_events":["*"],"api_version":"2017-01-01"}`, 400, "api_version", "2024-09-30.acacia, 2020-08-27, 2019-05-16"},
		{"malformed version", "POST", "/v1/webhook_endpoints", "a", jsonCT, `{"url":"https://e.com/","enabled_events":["*"],"api_version":"latest"}`, 400, "api_version", "latest"},
		{"bad scheme", "POST", "/v1/webhook_endpoints", "a", jsonCT, `{"url":"https://e.com/","enabled_events":["*"],"signature_scheme":"svix"}`, 400, "", "signature scheme"},
		{"unknown param", "POST", "/v1/webhook_endpoints", "a", formCT, "url=https://e.com/&enabled_events[]=*&colour=red", 400, "colour", "unknown parameter: colour"},
		{"bad JSON", "POST", "/v1/webhook_endpoints", "a", jsonCT, `{"url":`, 400, "", "invalid JSON"},
		{"JSON of the wrong type", "POST", "/v1/webhook_endpoints", "a", jsonCT, `{"url":{}}`, 400, "url", "string"},
		{"a number is its text", "POST", "/v1/webhook_endpoints", "a", jsonCT, `{"url":5,"enabled_events":"*"}`, 400, "url", "absolute"},
		{"bad list index", "POST", "/v1/webhook_endpoints", "a", formCT, "url=https://e.com/&enabled_events[x]=*", 400, "enabled_events", "list of strings"},
		{"a parameter given twice", "POST", "/v1/webhook_endpoints", "a", formCT, "url=https://e.com/&url=https://f.com/", 400, "", "invalid form body"},
		{"bad limit", "GET", "/v1/webhook_endpoints?limit=1000", "a", "", "", 400, "limit", "1 to 100"},
		{"bad cursor", "GET", "/v1/webhook_endpoints?starting_after=we_nope", "a", "", "", 400, "starting_after", "we_nope"},
		{"retrieve missing", "GET", "/v1/webhook_endpoints/we_nope", "a", "", "", 404, "id", "we_nope"},
		{"delete missing", "DELETE", "/v1/webhook_endpoints/we_nope", "a", "", "", 404, "id", "we_nope"},
		{"deliveries of a missing endpoint", "GET", "/v1/webhook_endpoints/we_nope/deliveries", "a", "", "", 404, "id", "we_nope"},
		{"resend missing", "POST", "/v1/webhook_deliveries/whd_nope/resend", "a", "", "", 404, "id", "whd_nope"},
		{"test without event", "POST", "/v1/webhook_endpoints/we_nope/test", "a", jsonCT, `{}`, 400, "event", "missing required param"},
		{"test of a missing endpoint", "POST", "/v1/webhook_endpoints/we_nope/test", "a", jsonCT, `{"type":"customer.created"}`, 404, "id", "we_nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := a.call(t, tt.method, tt.path, tt.account, tt.contentType, tt.body)
			require.Equal(t, tt.status, status, body.Raw)
			require.True(t, body.Get("error.type").Exists(), body.Raw)
			require.Equal(t, tt.param, body.Get("error.param").String())
			require.Contains(t, body.Get("error.message").String(), tt.message)
		})
	}
}

func testHandlerTestSend(t *testing.T, a *apiServer) {
	ctx := context.Background()
	rc := newReceiver(t, nil)
	status, ep := a.call(t, http.MethodPost, "/v1/webhook_endpoints", "acct_ts", formCT,
		"url="+url.QueryEscape(rc.URL)+"&enabled_events[]=customer.created&api_version=2019-05-16")
	require.Equal(t, http.StatusOK, status, ep.Raw)
	epID, secret := ep.Get("id").String(), ep.Get("secret").String()
	ev := customerEvent("acct_ts", "customer.created", 3)
	ev.ID = NewEventID()
	require.NoError(t, a.store.RecordEvent(ctx, nil, ev))

	status, res := a.call(t, http.MethodPost, "/v1/webhook_endpoints/"+epID+"/test", "acct_ts", formCT, "event="+ev.ID+"&api_version=2024-09-30.acacia")
	require.Equal(t, http.StatusOK, status, res.Raw)
	require.True(t, res.Get("delivered").Bool())
	require.Equal(t, int64(200), res.Get("http_status").Int())
	got := rc.requests()
	require.Len(t, got, 1)
	require.NoError(t, signature.Verify(got[0].body, got[0].header.Get(signature.Header), secret, 0))
	require.Equal(t, vNew.String(), gjson.GetBytes(got[0].body, "api_version").String())
	require.True(t, gjson.GetBytes(got[0].body, "data.object.balance").Exists())

	status, res = a.call(t, http.MethodPost, "/v1/webhook_endpoints/"+epID+"/test", "acct_ts", jsonCT, `{"type":"customer.created"}`)
	require.Equal(t, http.StatusOK, status, res.Raw)
	require.Equal(t, vOld.String(), res.Get("api_version").String(), "the endpoint's version by default")
	require.Equal(t, int64(5), gjson.GetBytes(rc.requests()[1].body, "data.object.account_balance").Int())

	status, res = a.call(t, http.MethodPost, "/v1/webhook_endpoints/"+epID+"/test", "acct_ts", jsonCT, `{"type":"charge.succeeded"}`)
	require.Equal(t, http.StatusBadRequest, status, res.Raw)
	require.Equal(t, "type", res.Get("error.param").String())

	// The pending delivery of the recorded event is listed, then delivered
	// by the worker, then resent.
	status, ds := a.call(t, http.MethodGet, "/v1/webhook_endpoints/"+epID+"/deliveries?status=pending", "acct_ts", "", "")
	require.Equal(t, http.StatusOK, status, ds.Raw)
	require.Len(t, ds.Get("data").Array(), 1)
	dID := ds.Get("data.0.id").String()
	require.Equal(t, ev.ID, ds.Get("data.0.event").String())
	start(t, a.worker)
	eventually(t, "delivered", func() bool {
		d, err := a.store.GetDelivery(ctx, "acct_ts", dID)
		return err == nil && d.State == StateDelivered
	})
	status, ds = a.call(t, http.MethodGet, "/v1/webhook_endpoints/"+epID+"/deliveries?status=delivered", "acct_ts", "", "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, int64(1), ds.Get("data.0.attempts").Int())
	require.Equal(t, int64(200), ds.Get("data.0.last_http_status").Int())
	status, rs := a.call(t, http.MethodPost, "/v1/webhook_deliveries/"+dID+"/resend", "acct_ts", "", "")
	require.Equal(t, http.StatusOK, status, rs.Raw)
	eventually(t, "resent", func() bool {
		d, err := a.store.GetDelivery(ctx, "acct_ts", dID)
		return err == nil && d.Attempts == 2 && d.State == StateDelivered
	})
	status, bad := a.call(t, http.MethodGet, "/v1/webhook_endpoints/"+epID+"/deliveries?status=lost", "acct_ts", "", "")
	require.Equal(t, http.StatusBadRequest, status)
	require.Equal(t, "status", bad.Get("error.param").String())
}

func TestNewHandlersConfig(t *testing.T) {
	s := newStore(t, openDB(t, ":memory:"), nil)
	acct := func(*http.Request) string { return "a" }
	ver := func(*http.Request) (versions.Version, error) { return vNew, nil }
	for _, cfg := range []HandlersConfig{
		{Account: acct, Version: ver},
		{Store: s, Version: ver},
		{Store: s, Account: acct},
		{Store: s, Account: acct, Version: ver, EventTypes: []string{"Bad Type"}},
		{Store: s, Account: acct, Version: ver, Prefix: "v1/"},
	} {
		_, err := NewHandlers(cfg)
		require.ErrorIs(t, err, ErrConfig)
	}
}

func FuzzReadParams(f *testing.F) {
	f.Add(true, `{"url":"https://e.com/","enabled_events":["*"],"api_version":null}`)
	f.Add(false, "url=https%3A%2F%2Fe.com&enabled_events[]=a.b&enabled_events[2]=c.d&enabled_events[0]=*")
	f.Add(false, "a[=1&b]=2&c[-1]=3&%zz")
	f.Add(true, `[1,2]`)
	f.Fuzz(func(t *testing.T, isJSON bool, body string) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", map[bool]string{true: jsonCT, false: formCT}[isJSON])
		p, err := readParams(req)
		if err != nil {
			var e *apierror.Error
			if !errors.As(err, &e) || e.Status < 400 || e.Status > 499 || e.Message == "" {
				t.Fatalf("bad error %#v", err)
			}
			return
		}
		for k := range p.lists {
			if p.list(k) == nil {
				t.Fatalf("list %q lost", k)
			}
		}
		for k, v := range p.values {
			if _, isList := p.lists[k]; !isList && p.list(k)[0] != v {
				t.Fatalf("value %q lost", k)
			}
		}
	})
}
