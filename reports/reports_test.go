package reports_test

import (
	"context"
	"errors"
	"flag"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/internal/golden"
	"github.com/verso-api/verso/reports"
	"github.com/verso-api/verso/reports/reportstest"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/versions"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var ctx = context.Background()

// timeline has one change of each sort a report tells apart:
//
//	2024-04-01  async_capture     (behavior: affects_you "unknown")
//	2024-03-01  customer_search   (endpoint_added: not breaking)
//	2024-02-01  charge_status     (enum on charge.status, breaking)
//	2024-01-01  customer_balance  (rename, responses and POST bodies)
//	            customer_cards    (endpoint_moved)
//	2023-01-01  base
func timeline(t testing.TB) *gates.Timeline {
	t.Helper()
	v := versions.MustParse
	tl, err := gates.NewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: v("2024-04-01"), Changes: []gates.Change{{ID: "async_capture", Description: "Captures complete asynchronously.",
			Resources: []string{"charge"}, Ops: []gates.Op{gates.Behavior()}}}},
		{ID: v("2024-03-01"), Changes: []gates.Change{{ID: "customer_search", Description: "Customers can be searched.",
			Ops: []gates.Op{gates.EndpointAdded("GET /v1/customers/search")}}}},
		{ID: v("2024-02-01"), Changes: []gates.Change{{ID: "charge_status", Description: "A paid charge's status is `succeeded`.",
			Resources: []string{"charge"}, Ops: []gates.Op{gates.Enum("status", map[string]string{"succeeded": "paid"})}}}},
		{ID: v("2024-01-01"), Changes: []gates.Change{
			{ID: "customer_balance", Description: "`account_balance` is `balance`.", Resources: []string{"customer"},
				Endpoints: []gates.Endpoint{{Method: "POST", Path: "/v1/customers"}},
				Ops:       []gates.Op{gates.Rename("balance", "account_balance")}},
			{ID: "customer_cards", Description: "Cards are sources.",
				Ops: []gates.Op{gates.EndpointMoved("GET /v1/customers/:id/sources", "GET /v1/customers/:id/cards")}},
		}},
		{ID: v("2023-01-01")},
	}}, nil)
	require.NoError(t, err)
	return tl
}

var (
	v2023 = versions.MustParse("2023-01-01")
	v2024 = versions.MustParse("2024-04-01")
)

// exchange returns an Exchange with the changes named fired in its parts,
// each op of theirs on its first resource in a response, with no resource
// in a request.
func exchange(tl *gates.Timeline, account string, v versions.Version, method, path, pattern string, route, request, response []string) *server.Exchange {
	x := &server.Exchange{Account: account, Version: v, Source: server.SourcePin, Method: method, Path: path, Pattern: pattern, Status: 200}
	for _, id := range route {
		x.Route.Add(tl.ChangeIndex(id))
	}
	for _, id := range request {
		addOps(tl, &x.Request, &x.RequestFields, id, false)
	}
	for _, id := range response {
		addOps(tl, &x.Response, &x.ResponseFields, id, true)
	}
	return x
}

// addOps adds change id to fired, and the slots of its ops to fields.
func addOps(tl *gates.Timeline, fired, fields *gates.Fired, id string, resource bool) {
	ci := tl.ChangeIndex(id)
	c := tl.ChangeAt(ci)
	fired.Add(ci)
	for oi := range c.Ops {
		r := ""
		if resource && len(c.Resources) > 0 {
			r = c.Resources[0]
		}
		if s := tl.FieldSlotIndex(ci, oi, r); s >= 0 {
			fields.Add(s)
		}
	}
}

// deliver records a delivery shaped by the changes ids.
func deliver(tl *gates.Timeline, r *reports.Recorder, account, eventType string, ids ...string) {
	f, fields := fired(tl, ids...)
	r.RecordDelivery(account, eventType, f, fields)
}

// fired returns the changes ids, and the slots of their ops on their
// first resource.
func fired(tl *gates.Timeline, ids ...string) (*gates.Fired, *gates.Fired) {
	var f, fields gates.Fired
	for _, id := range ids {
		addOps(tl, &f, &fields, id, true)
	}
	return &f, &fields
}

func TestRecorder(t *testing.T) {
	tl := timeline(t)
	clock := reportstest.NewClock(reportstest.Start)
	store := reports.NewMemoryStore(&reports.Options{Now: clock.Now})
	r, err := reports.NewRecorder(tl, store, &reports.RecorderOptions{Now: clock.Now})
	require.NoError(t, err)

	r.Record(exchange(tl, "acct_1", v2023, "POST", "/v1/customers", "POST /v1/customers", nil, []string{"customer_balance"}, []string{"customer_balance"}))
	clock.Advance(time.Second)
	r.Record(exchange(tl, "acct_1", v2023, "GET", "/v1/customers/cus_NffrFeUfNV2Hib", "", nil, nil, []string{"customer_balance"}))
	r.Record(exchange(tl, "acct_1", v2023, "GET", "/v1/customers/cus_NffrFeUfNV2Hib/cards", "", []string{"customer_cards"}, nil, nil))
	r.Record(exchange(tl, "acct_1", v2023, "GET", "/v1/charges/ch_3MmlLrLkdIwHu7ix0snN0B15", "GET /v1/charges/{id}", nil, nil, nil))
	header := exchange(tl, "acct_1", v2024, "GET", "/v1/customers/cus_1", "/v1/customers/:id", nil, nil, nil)
	header.Source = server.SourceHeader
	r.Record(header)
	r.Record(exchange(tl, "", v2023, "GET", "/v1/customers/cus_1", "", nil, nil, []string{"customer_balance"})) // no account: nothing
	deliver(tl, r, "acct_1", "charge.succeeded", "charge_status")
	deliver(tl, r, "acct_1", "charge.succeeded", "charge_status")
	deliver(tl, r, "acct_1", "customer.updated")

	e, err := store.Evidence(ctx, "acct_1")
	require.NoError(t, err)
	require.Empty(t, e.Changes, "nothing reaches the store before a flush")
	require.NoError(t, r.Flush(ctx))
	e, err = store.Evidence(ctx, "acct_1")
	require.NoError(t, err)

	bal := e.Changes["customer_balance"]
	require.NotNil(t, bal)
	require.Equal(t, int64(1), bal.Requests)
	require.Equal(t, int64(2), bal.Responses)
	require.Equal(t, []reports.Name{{Name: "GET /v1/customers/:id", Count: 1}, {Name: "POST /v1/customers", Count: 1}}, bal.Endpoints,
		"the timeline's template for a raw path, never the id; the router's pattern when it names one")
	require.Equal(t, []reports.Name{{Name: "customer.balance", Count: 2}, {Name: "balance", Count: 1}}, bal.Fields)
	require.True(t, bal.FirstSeen.Equal(reportstest.Start))
	require.True(t, bal.LastSeen.Equal(reportstest.Start.Add(time.Second)))

	cards := e.Changes["customer_cards"]
	require.NotNil(t, cards)
	require.Equal(t, int64(1), cards.Requests, "an endpoint op alters the request's route")
	require.Zero(t, cards.Responses)
	require.Equal(t, []reports.Name{{Name: "GET /v1/customers/:id/cards", Count: 1}}, cards.Endpoints)

	st := e.Changes["charge_status"]
	require.NotNil(t, st)
	require.Equal(t, int64(2), st.Deliveries)
	require.Equal(t, []reports.Name{{Name: "charge.succeeded", Count: 2}}, st.EventTypes)
	require.Equal(t, []reports.Name{{Name: "charge.status", Count: 2}}, st.Fields)
	require.Len(t, e.Changes, 3, "a delivery no change shaped is no evidence")

	require.Len(t, e.Traffic, 2)
	require.Equal(t, v2024, e.Traffic[0].Version)
	require.Equal(t, int64(1), e.Traffic[0].Header, "a request naming its version is told apart")
	require.Equal(t, []reports.Name{{Name: "GET /v1/customers/:id", Count: 1}}, e.Traffic[0].Endpoints)
	require.Equal(t, int64(4), e.Traffic[1].Requests)
	require.Zero(t, e.Traffic[1].Header)
	for _, n := range e.Traffic[1].Endpoints {
		require.NotContains(t, n.Name, "cus_")
		require.NotContains(t, n.Name, "ch_")
	}
	require.NoError(t, r.Flush(ctx), "an empty flush")
}

// failing is a Store whose Add fails while fail is set.
type failing struct {
	reports.Store
	mu   sync.Mutex
	fail bool
}

func (f *failing) Add(ctx context.Context, b *reports.Batch) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return errors.New("database down")
	}
	return f.Store.Add(ctx, b)
}

func TestRecorderKeepsWhatFailedToFlush(t *testing.T) {
	tl := timeline(t)
	store := &failing{Store: reports.NewMemoryStore(nil), fail: true}
	r, err := reports.NewRecorder(tl, store, nil)
	require.NoError(t, err)
	x := exchange(tl, "acct_1", v2023, "GET", "/v1/customers/cus_1", "", nil, nil, []string{"customer_balance"})
	r.Record(x)
	deliver(tl, r, "acct_1", "charge.succeeded", "charge_status")
	require.Error(t, r.Flush(ctx))
	r.Record(x)
	store.fail = false
	require.NoError(t, r.Flush(ctx))
	e, err := store.Evidence(ctx, "acct_1")
	require.NoError(t, err)
	require.Equal(t, int64(2), e.Changes["customer_balance"].Responses, "the failed flush's counts are kept")
	require.Equal(t, int64(1), e.Changes["charge_status"].Deliveries)
	require.Equal(t, int64(2), e.Traffic[0].Requests)
}

func TestRecorderBounded(t *testing.T) {
	tl := timeline(t)
	store := reports.NewMemoryStore(nil)
	r, err := reports.NewRecorder(tl, store, &reports.RecorderOptions{MaxPending: 2})
	require.NoError(t, err)
	for _, a := range []string{"acct_1", "acct_2", "acct_3", "acct_4"} {
		r.Record(exchange(tl, a, v2023, "GET", "/v1/customers/cus_1", "", nil, nil, []string{"customer_balance"}))
	}
	r.Record(exchange(tl, "acct_1", v2023, "GET", "/v1/customers/cus_2", "", nil, nil, []string{"customer_balance"}))
	require.Equal(t, int64(2), r.Dropped(), "two accounts past the bound")
	require.NoError(t, r.Flush(ctx))
	e, err := store.Evidence(ctx, "acct_1")
	require.NoError(t, err)
	require.Equal(t, int64(2), e.Changes["customer_balance"].Responses, "a key held keeps counting")
	e, err = store.Evidence(ctx, "acct_4")
	require.NoError(t, err)
	require.Empty(t, e.Changes)
	r.Record(exchange(tl, "acct_4", v2023, "GET", "/v1/customers/cus_1", "", nil, nil, nil))
	require.Equal(t, int64(2), r.Dropped(), "a flush makes room")
}

func TestRecorderSample(t *testing.T) {
	tl := timeline(t)
	for _, bad := range []float64{-0.5, 1.5} {
		_, err := reports.NewRecorder(tl, reports.NewMemoryStore(nil), &reports.RecorderOptions{SampleRate: bad})
		require.Error(t, err)
	}
	_, err := reports.NewRecorder(nil, reports.NewMemoryStore(nil), nil)
	require.Error(t, err)
	_, err = reports.NewRecorder(tl, nil, nil)
	require.Error(t, err)
	all, err := reports.NewRecorder(tl, reports.NewMemoryStore(nil), nil)
	require.NoError(t, err)
	some, err := reports.NewRecorder(tl, reports.NewMemoryStore(nil), &reports.RecorderOptions{SampleRate: 0.25})
	require.NoError(t, err)
	n := 0
	for range 4000 {
		require.True(t, all.Sample())
		if some.Sample() {
			n++
		}
	}
	// 1000 expected; the bounds are 10 standard deviations out.
	require.InDelta(t, 1000, n, 280, "sampled %d of 4000 at 0.25", n)
}

func TestTemplate(t *testing.T) {
	for _, tc := range []struct{ method, path, want string }{
		{"GET", "/v1/customers/cus_NffrFeUfNV2Hib", "GET /v1/customers/:id"},
		{"GET", "/v1/customers/cus_abcdefgh", "GET /v1/customers/:id"},
		{"POST", "/v1/payment_intents/pi_3MtwBwLkdIwHu7ix28a3tqPa/confirm", "POST /v1/payment_intents/:id/confirm"},
		{"GET", "/v1/charges/ch_1/refunds/re_2", "GET /v1/charges/:id/refunds/:id"},
		{"GET", "/v1/customers/42", "GET /v1/customers/:id"},
		{"GET", "/v1/users/ana@example.com", "GET /v1/users/:id"},
		{"GET", "/v1/users/Ana", "GET /v1/users/:id"},
		{"GET", "/v2/webhook_endpoints", "GET /v2/webhook_endpoints"},
		{"GET", "/v1/account/api_version/upgrade_report", "GET /v1/account/api_version/upgrade_report"},
		{"GET", "/v1/tax_ids", "GET /v1/tax_ids"},
		{"GET", "/", "GET /"},
		{"GET", "", "GET /"},
		{"DELETE", "/v1/customers/cus_1/", "DELETE /v1/customers/:id/"},
		{"BREW", "/v1/pots", "OTHER /v1/pots"},
		{"GET", "/v1/" + strings.Repeat("a", 50), "GET /v1/:id"},
	} {
		require.Equal(t, tc.want, reports.Template(tc.method, tc.path), "%s %s", tc.method, tc.path)
	}
}

func TestRecorderPatterns(t *testing.T) {
	tl := timeline(t)
	store := reports.NewMemoryStore(nil)
	r, err := reports.NewRecorder(tl, store, nil)
	require.NoError(t, err)
	for _, tc := range []struct{ method, pattern string }{
		{"GET", "GET /v1/customers/{id}"},
		{"GET", "/v1/customers/{id}"},
		{"GET", "/v1/customers/:id"},
		{"GET", "GET example.com/v1/customers/{id}"},
		{"HEAD", "GET /v1/customers/{id}"},
	} {
		r.Record(exchange(tl, "acct_1", v2023, tc.method, "/v1/customers/cus_1", tc.pattern, nil, nil, []string{"customer_balance"}))
	}
	r.Record(exchange(tl, "acct_1", v2023, "GET", "/files/a/b", "GET /files/{path...}", nil, nil, []string{"customer_balance"}))
	require.NoError(t, r.Flush(ctx))
	e, err := store.Evidence(ctx, "acct_1")
	require.NoError(t, err)
	require.Equal(t, []reports.Name{{Name: "GET /v1/customers/:id", Count: 5}, {Name: "GET /files/:path", Count: 1}},
		e.Changes["customer_balance"].Endpoints)
}

func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"/v1/customers/cus_NffrFeUfNV2Hib", "/", "", "/v1/a%2Fb/é", "//x", "/v1/\x00\xff"} {
		f.Add("GET", s)
	}
	f.Fuzz(func(t *testing.T, method, path string) {
		got := reports.Template(method, path)
		if len(got) > reports.MaxNameBytes {
			t.Fatalf("%d bytes", len(got))
		}
		m, p, ok := strings.Cut(got, " ")
		if !ok || m == "" || !strings.HasPrefix(p, "/") {
			t.Fatalf("not METHOD /path: %q", got)
		}
		for _, seg := range strings.Split(p, "/") {
			for _, c := range seg {
				if seg != ":id" && !(c >= 'a' && c <= 'z' || c == '_' || c == '-' || c >= '0' && c <= '9' && seg[0] == 'v') {
					t.Fatalf("segment %q of %q may hold an identifier", seg, got)
				}
			}
		}
	})
}

func TestReport(t *testing.T) {
	tl := timeline(t)
	clock := reportstest.NewClock(reportstest.Start)
	store := reports.NewMemoryStore(&reports.Options{Now: clock.Now})
	rec, err := reports.NewRecorder(tl, store, &reports.RecorderOptions{Now: clock.Now})
	require.NoError(t, err)
	rep, err := reports.NewReporter(tl, store, nil)
	require.NoError(t, err)

	for range 3 {
		rec.Record(exchange(tl, "acct_1", v2023, "GET", "/v1/customers/cus_1", "GET /v1/customers/{id}", nil, nil, []string{"customer_balance"}))
	}
	rec.Record(exchange(tl, "acct_1", v2023, "POST", "/v1/customers", "POST /v1/customers", nil, []string{"customer_balance"}, []string{"customer_balance"}))
	rec.Record(exchange(tl, "acct_1", v2023, "GET", "/v1/charges/ch_1", "GET /v1/charges/{id}", nil, nil, nil))
	deliver(tl, rec, "acct_1", "charge.succeeded", "charge_status")
	tried := exchange(tl, "acct_1", v2024, "GET", "/v1/customers/cus_1", "GET /v1/customers/{id}", nil, nil, nil)
	tried.Source = server.SourceHeader
	rec.Record(tried)
	require.NoError(t, rec.Flush(ctx))

	r, err := rep.Report(ctx, "acct_1", v2023, versions.Version{})
	require.NoError(t, err)
	require.Equal(t, v2024, r.To, "the newest stable version by default")
	affects := map[string]reports.Affects{}
	for _, it := range r.Items {
		affects[it.ID] = it.AffectsYou
	}
	require.Equal(t, map[string]reports.Affects{
		"customer_balance": reports.Yes, "customer_cards": reports.No, "charge_status": reports.Yes,
		"customer_search": reports.No, "async_capture": reports.Unknown,
	}, affects)
	require.Equal(t, []string{"customer_balance", "customer_cards", "charge_status", "customer_search", "async_capture"},
		[]string{r.Items[0].ID, r.Items[1].ID, r.Items[2].ID, r.Items[3].ID, r.Items[4].ID}, "oldest first, as declared")
	require.Equal(t, 4, r.Breaking)
	require.Equal(t, 2, r.BreakingAffectingYou)
	require.Equal(t, 1, r.Unknown)
	require.Equal(t, int64(1), r.Items[0].Tried, "one request at the target to an endpoint the rename touches")
	require.Equal(t, []string{"Read `customer.balance` instead of `customer.account_balance`.", "Send `balance` instead of `account_balance`."}, r.Items[0].Todo)
	require.Empty(t, r.Items[3].Todo, "an added endpoint breaks nothing")
	require.Equal(t, "2 of 4 breaking changes touch your integration. 1 behaviour change leaves no trace in traffic: check it. You already sent 1 request at 2024-04-01.", r.Summary)

	js, err := r.JSON()
	require.NoError(t, err)
	golden.Check(t, *update, "reports", "report.json", append(js, '\n'))
	var html strings.Builder
	require.NoError(t, r.WriteHTML(&html, &reports.HTMLOptions{ChangelogURL: "/changelog"}))
	golden.Check(t, *update, "reports", "report.html", []byte(html.String()))

	// Another account's report is its own.
	other, err := rep.Report(ctx, "acct_2", v2023, v2024)
	require.NoError(t, err)
	require.Equal(t, 0, other.AffectingYou)
	require.Contains(t, other.Summary, "No request of your account was recorded in the last 30 days")

	// A report to the account's own version, and errors.
	same, err := rep.Report(ctx, "acct_1", v2024, v2024)
	require.NoError(t, err)
	require.Empty(t, same.Items)
	require.Contains(t, same.Summary, "already")
	_, err = rep.Report(ctx, "acct_1", v2024, v2023)
	require.ErrorIs(t, err, reports.ErrRange)
	_, err = rep.Report(ctx, "acct_1", v2023, versions.MustParse("2030-01-01"))
	require.ErrorIs(t, err, versions.ErrUnknownVersion)
	_, err = rep.Report(ctx, "", v2023, v2024)
	require.ErrorIs(t, err, reports.ErrEmptyAccount)

	// Past the window, the evidence is gone: nothing affects the account.
	clock.Advance(31 * 24 * time.Hour)
	later, err := rep.Report(ctx, "acct_1", v2023, v2024)
	require.NoError(t, err)
	require.Equal(t, 0, later.AffectingYou)
}

func TestAffectsJSON(t *testing.T) {
	for _, a := range []reports.Affects{reports.Yes, reports.No, reports.Unknown} {
		b, err := a.MarshalJSON()
		require.NoError(t, err)
		var back reports.Affects
		require.NoError(t, back.UnmarshalJSON(b))
		require.Equal(t, a, back)
	}
	var a reports.Affects
	require.Error(t, a.UnmarshalJSON([]byte(`"maybe"`)))
}

// TestRecorderRepeats checks the tallies of exchanges on one route that
// fire the same changes, then others, then the same again: each counted
// once, whatever the order.
func TestRecorderRepeats(t *testing.T) {
	tl := timeline(t)
	store := reports.NewMemoryStore(nil)
	r, err := reports.NewRecorder(tl, store, nil)
	require.NoError(t, err)
	get := func(route, request, response []string) {
		r.Record(exchange(tl, "acct_1", v2023, "GET", "/v1/customers/cus_1", "GET /v1/customers/{id}", route, request, response))
	}
	for range 3 {
		get(nil, nil, []string{"customer_balance"})
	}
	get([]string{"customer_cards"}, nil, []string{"customer_balance"})
	get(nil, nil, nil)
	get(nil, nil, nil)
	get(nil, nil, []string{"customer_balance"})
	get(nil, []string{"customer_balance"}, []string{"customer_balance", "charge_status"})
	require.NoError(t, r.Flush(ctx))
	get(nil, nil, []string{"customer_balance"}) // after a flush, a new tally
	require.NoError(t, r.Flush(ctx))
	e, err := store.Evidence(ctx, "acct_1")
	require.NoError(t, err)
	bal := e.Changes["customer_balance"]
	require.Equal(t, int64(1), bal.Requests)
	require.Equal(t, int64(7), bal.Responses)
	require.Equal(t, []reports.Name{{Name: "GET /v1/customers/:id", Count: 7}}, bal.Endpoints)
	require.Equal(t, []reports.Name{{Name: "customer.balance", Count: 7}, {Name: "balance", Count: 1}}, bal.Fields)
	require.Equal(t, int64(1), e.Changes["customer_cards"].Requests)
	require.Equal(t, int64(1), e.Changes["charge_status"].Responses)
	require.Equal(t, int64(9), e.Traffic[0].Requests)
}
