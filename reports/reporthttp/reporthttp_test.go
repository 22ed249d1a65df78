package reporthttp_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/reports"
	"github.com/verso-api/verso/reports/reporthttp"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/storage/storagetest"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

type accountKey struct{}

// auth maps "Authorization: Bearer key_<account>" to the account.
func auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer key_"); ok && a != "" {
			r = r.WithContext(context.WithValue(r.Context(), accountKey{}, a))
		}
		next.ServeHTTP(w, r)
	})
}

func account(r *http.Request) (string, error) {
	a, _ := r.Context().Value(accountKey{}).(string)
	return a, nil
}

const (
	customer = `{"id":"cus_NffrFeUfNV2Hib","object":"customer","balance":0,"default_source":"card_1","email":"ana@example.com"}`
	charge   = `{"id":"ch_3MmlLrLkdIwHu7ix0snN0B15","object":"charge","amount":"1000","status":"succeeded","disputed":false,"source":{"id":"card_1","object":"card"}}`
)

// api is an API of customers and charges in the newest schema of
// testdata/stripe.yaml, behind the versioning middleware recording the
// changes that fire, with the report endpoint beside it.
type api struct {
	url      string
	recorder *reports.Recorder
	pins     pins.Store
}

func newAPI(t *testing.T, b storagetest.Backend) *api {
	t.Helper()
	ctx := context.Background()
	db, _ := b.Open(t)
	tl, err := gates.LoadFile("../../testdata/stripe.yaml", nil)
	require.NoError(t, err)
	engine := transform.New(tl, nil)
	pinStore, err := pins.NewSQLStore(ctx, db, nil)
	require.NoError(t, err)
	evidence, err := reports.NewSQLStore(ctx, db, nil)
	require.NoError(t, err)
	recorder, err := reports.NewRecorder(tl, evidence, nil)
	require.NoError(t, err)
	reporter, err := reports.NewReporter(tl, evidence, &reports.ReporterOptions{Engine: engine})
	require.NoError(t, err)
	old := versions.MustParse("2014-12-22")

	mux := http.NewServeMux()
	answer := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, body)
		}
	}
	mux.HandleFunc("POST /v1/customers", answer(customer))
	mux.HandleFunc("GET /v1/customers/{id}", answer(customer))
	mux.HandleFunc("POST /v1/charges", answer(charge))
	mux.HandleFunc("GET /v1/charges/{id}", answer(charge))
	versioned, err := server.Config{Engine: engine, Account: account, Pins: pinStore, DefaultVersion: old, Fired: recorder}.ToMiddleware()
	require.NoError(t, err)
	report, err := reporthttp.Config{Reporter: reporter, Account: account, Pins: pinStore, DefaultVersion: old, ChangelogURL: "/changelog"}.Handler()
	require.NoError(t, err)
	root := http.NewServeMux()
	root.Handle(reporthttp.DefaultPath, report)
	root.Handle("/", versioned(mux))
	srv := httptest.NewServer(auth(root))
	t.Cleanup(srv.Close)
	return &api{url: srv.URL, recorder: recorder, pins: pinStore}
}

// call sends a request as account and returns the status and body.
func (a *api) call(t *testing.T, account, method, path, form string, header ...string) (int, http.Header, []byte) {
	t.Helper()
	var body io.Reader
	if form != "" {
		body = strings.NewReader(form)
	}
	req, err := http.NewRequest(method, a.url+path, body)
	require.NoError(t, err)
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if account != "" {
		req.Header.Set("Authorization", "Bearer key_"+account)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, res.Header, b
}

type reportJSON struct {
	Object               string `json:"object"`
	Version, To, Summary string
	Breaking             int `json:"breaking"`
	BreakingAffectingYou int `json:"breaking_affecting_you"`
	Traffic              struct {
		AtVersion struct{ Requests int64 } `json:"at_version"`
		AtTarget  struct {
			Requests, Header int64
		} `json:"at_target"`
	}
	Items []struct {
		ID         string
		AffectsYou any   `json:"affects_you"`
		Tried      int64 `json:"tried_at_target"`
		Evidence   *struct {
			Requests, Responses int64
			Endpoints           []struct{ Name string }
			Fields              []struct{ Name string }
		}
		Todo []string `json:"what_to_do"`
	}
}

// TestReportOverHTTP runs a client pinned to 2014-12-22 that creates and
// reads customers and charges, and tries the newest version on one
// request, over real HTTP on SQLite and PostgreSQL, and reads its report.
func TestReportOverHTTP(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			a := newAPI(t, b)
			for _, c := range []struct{ method, path, form string }{
				{"POST", "/v1/customers", "email=ana%40example.com&account_balance=5"},
				{"GET", "/v1/customers/cus_NffrFeUfNV2Hib", ""},
				{"POST", "/v1/charges", "amount=1000&currency=eur&card=tok_visa"},
				{"GET", "/v1/charges/ch_3MmlLrLkdIwHu7ix0snN0B15", ""},
				{"GET", "/v1/charges/ch_3MmlLrLkdIwHu7ix0snN0B15", ""},
			} {
				status, h, body := a.call(t, "acct_1", c.method, c.path, c.form)
				require.Equal(t, 200, status, "%s %s: %s", c.method, c.path, body)
				require.Equal(t, "2014-12-22", h.Get("Stripe-Version"))
			}
			status, _, body := a.call(t, "acct_1", "GET", "/v1/customers/cus_NffrFeUfNV2Hib", "", "Stripe-Version", "2024-09-30.acacia")
			require.Equal(t, 200, status)
			require.Contains(t, string(body), `"balance"`)
			require.NoError(t, a.recorder.Flush(context.Background()))

			status, h, body := a.call(t, "acct_1", "GET", reporthttp.DefaultPath, "")
			require.Equal(t, 200, status, "%s", body)
			require.Equal(t, "application/json", h.Get("Content-Type"))
			require.Equal(t, "private, no-store", h.Get("Cache-Control"))
			var r reportJSON
			require.NoError(t, json.Unmarshal(body, &r))
			require.Equal(t, "upgrade_report", r.Object)
			require.Equal(t, "2014-12-22", r.Version, "the account's pin, made by its first request")
			require.Equal(t, "2024-09-30.acacia", r.To)
			affects := map[string]any{}
			for _, it := range r.Items {
				affects[it.ID] = it.AffectsYou
			}
			require.Equal(t, map[string]any{
				"customer_sources": true, "charge_source": true, "charge_status_succeeded": true, "charge_disputed": true,
				"customer_balance": true, "customer_tax_info_removed": true, "customer_lists_not_expanded": true,
				"charge_refunds_not_expanded": true, "payment_intent_latest_charge": false,
				"payment_intent_automatic_payment_methods": "unknown", "product_marketing_features": false,
				"amount_as_string": true,
			}, affects, "%s", body)
			require.Equal(t, int64(5), r.Traffic.AtVersion.Requests)
			require.Equal(t, int64(1), r.Traffic.AtTarget.Requests, "the request trying the target")
			require.Equal(t, int64(1), r.Traffic.AtTarget.Header)
			for _, it := range r.Items {
				switch it.ID {
				case "customer_balance":
					require.Equal(t, int64(1), it.Evidence.Requests, "the POST sent account_balance")
					require.Equal(t, int64(2), it.Evidence.Responses)
					require.Equal(t, int64(1), it.Tried, "the customer read at the target")
					require.Contains(t, it.Todo, "Read `customer.balance` instead of `customer.account_balance`.")
					var eps []string
					for _, e := range it.Evidence.Endpoints {
						eps = append(eps, e.Name)
					}
					require.ElementsMatch(t, []string{"POST /v1/customers", "GET /v1/customers/:id"}, eps, "routes, never ids")
				case "charge_status_succeeded":
					require.Equal(t, int64(3), it.Evidence.Responses)
					require.Zero(t, it.Tried, "no charge was read at the target")
				case "payment_intent_latest_charge":
					require.Nil(t, it.Evidence)
				case "amount_as_string":
					// The change is on charges, refunds and payment
					// intents: the evidence names what fired.
					var fields []string
					for _, f := range it.Evidence.Fields {
						fields = append(fields, f.Name)
					}
					require.ElementsMatch(t, []string{"charge.amount"}, fields, "the charges read; a form's amount is a string already")
				case "customer_sources":
					var fields []string
					for _, f := range it.Evidence.Fields {
						fields = append(fields, f.Name)
					}
					require.ElementsMatch(t, []string{"customer.default_source", "customer.sources"}, fields,
						"sources is put back (customer_lists_not_expanded) before it is renamed cards")
				}
			}
			require.NotContains(t, string(body), "cus_NffrFeUfNV2Hib", "no identifier is kept")
			require.NotContains(t, string(body), "ana@example.com", "no value is kept")
			require.Contains(t, r.Summary, "breaking changes touch your integration")

			// The page for people.
			status, h, body = a.call(t, "acct_1", "GET", reporthttp.DefaultPath+"?format=html", "")
			require.Equal(t, 200, status)
			require.Equal(t, "text/html; charset=utf-8", h.Get("Content-Type"))
			require.Contains(t, string(body), "<h1>Upgrade report: <code>2014-12-22</code>")
			require.Contains(t, string(body), `href="/changelog#change-customer_balance"`)
			status, h, _ = a.call(t, "acct_1", "GET", reporthttp.DefaultPath, "", "Accept", "text/html,application/xhtml+xml")
			require.Equal(t, 200, status)
			require.Equal(t, "text/html; charset=utf-8", h.Get("Content-Type"), "a browser gets the page")

			// A report to a version between the pin and the newest.
			status, _, body = a.call(t, "acct_1", "GET", reporthttp.DefaultPath+"?to=2016-07-06", "")
			require.Equal(t, 200, status, "%s", body)
			require.NoError(t, json.Unmarshal(body, &r))
			require.Equal(t, "2016-07-06", r.To)
			require.Len(t, r.Items, 3, "charge_source, customer_sources, charge_status_succeeded")
			require.Equal(t, 3, r.BreakingAffectingYou)

			// Another account sees its own traffic only.
			status, _, body = a.call(t, "acct_2", "GET", reporthttp.DefaultPath, "")
			require.Equal(t, 200, status, "%s", body)
			require.NoError(t, json.Unmarshal(body, &r))
			require.Zero(t, r.BreakingAffectingYou)
			require.Contains(t, r.Summary, "No request of your account was recorded")
		})
	}
}

func TestReportErrors(t *testing.T) {
	a := newAPI(t, storagetest.Backends()[0])
	_, _, err := a.pins.PinIfAbsent(context.Background(), "acct_1", versions.MustParse("2019-10-17"))
	require.NoError(t, err)
	for _, tc := range []struct {
		name, account, method, query string
		status                       int
		param, code                  string
	}{
		{"no account", "", "GET", "", 401, "", "authentication_required"},
		{"a version that is no date", "acct_1", "GET", "?to=soon", 400, "to", "parameter_invalid"},
		{"an unknown version", "acct_1", "GET", "?to=2030-01-01", 400, "to", "parameter_invalid"},
		{"older than the pin", "acct_1", "GET", "?to=2015-02-18", 400, "to", "parameter_invalid"},
		{"twice", "acct_1", "GET", "?to=2020-08-27&to=2022-11-15", 400, "to", "parameter_invalid"},
		{"an unknown parameter", "acct_1", "GET", "?from=2014-12-22", 400, "from", "parameter_unknown"},
		{"an unknown format", "acct_1", "GET", "?format=pdf", 400, "format", "parameter_invalid"},
		{"a long parameter", "acct_1", "GET", "?" + strings.Repeat("x", 300) + "=1", 400, strings.Repeat("x", 100) + "…", "parameter_unknown"},
		{"a bad query", "acct_1", "GET", "?to=%zz", 400, "", "parameter_invalid"},
		{"POST", "acct_1", "POST", "", 405, "", "method_not_allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := a.call(t, tc.account, tc.method, reporthttp.DefaultPath+tc.query, "")
			require.Equal(t, tc.status, status, "%s", body)
			var e struct {
				Error struct{ Type, Code, Param, Message string }
			}
			require.NoError(t, json.Unmarshal(body, &e), "%s", body)
			require.Equal(t, tc.code, e.Error.Code, "%s", body)
			require.Equal(t, tc.param, e.Error.Param)
			require.NotEmpty(t, e.Error.Message)
			require.LessOrEqual(t, len(e.Error.Message), 1200)
			if tc.status == 405 {
				require.Equal(t, "GET, HEAD", h.Get("Allow"))
			}
		})
	}
	status, _, body := a.call(t, "acct_1", "GET", reporthttp.DefaultPath+"?to="+url.QueryEscape("2019-10-17"), "")
	require.Equal(t, 200, status, "a report to the account's own version")
	require.Contains(t, string(body), "already")
	status, _, body = a.call(t, "acct_1", "HEAD", reporthttp.DefaultPath, "")
	require.Equal(t, 200, status)
	require.Empty(t, body)
}

func TestConfig(t *testing.T) {
	tl, err := gates.LoadFile("../../testdata/stripe.yaml", nil)
	require.NoError(t, err)
	rep, err := reports.NewReporter(tl, reports.NewMemoryStore(nil), nil)
	require.NoError(t, err)
	for _, c := range []reporthttp.Config{
		{Account: account},
		{Reporter: rep},
		{Reporter: rep, Account: account, DefaultVersion: versions.MustParse("2030-01-01")},
		{Reporter: rep, Account: account, Path: "report"},
	} {
		_, err := c.Handler()
		require.Error(t, err)
	}
}
