package server_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// firedEngine returns an engine over a timeline with one change of each
// kind the middleware reports:
//
//	2024-04-01  created_status   (status 201 <- 200 on POST /v1/customers)
//	2024-03-01  customer_search  (endpoint_added GET /v1/customers/search)
//	2024-02-01  sources_moved    (endpoint_moved GET /v1/customers/:id/sources <- .../cards)
//	2024-01-01  customer_balance (rename balance <- account_balance, responses and POST bodies)
//	2023-01-01  base
func firedEngine(t testing.TB) *transform.Engine {
	t.Helper()
	v := versions.MustParse
	tl, err := gates.NewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: v("2024-04-01"), Changes: []gates.Change{{ID: "created_status", Description: "Creating answers 201.",
			Endpoints: []gates.Endpoint{{Method: "POST", Path: "/v1/customers"}},
			Ops:       []gates.Op{gates.Status(201, 200)}}}},
		{ID: v("2024-03-01"), Changes: []gates.Change{{ID: "customer_search", Description: "Search.",
			Ops: []gates.Op{gates.EndpointAdded("GET /v1/customers/search")}}}},
		{ID: v("2024-02-01"), Changes: []gates.Change{{ID: "sources_moved", Description: "Cards are sources.",
			Ops: []gates.Op{gates.EndpointMoved("GET /v1/customers/:id/sources", "GET /v1/customers/:id/cards")}}}},
		{ID: v("2024-01-01"), Changes: []gates.Change{{ID: "customer_balance", Description: "Renamed.",
			Resources: []string{"customer"},
			Endpoints: []gates.Endpoint{{Method: "POST", Path: "/v1/customers"}},
			Ops:       []gates.Op{gates.Rename("balance", "account_balance")}}}},
		{ID: v("2023-01-01")},
	}}, nil)
	require.NoError(t, err)
	return transform.New(tl, nil)
}

// exchanges is a server.FiredRecorder keeping a copy of what it gets.
type exchanges struct {
	mu     sync.Mutex
	sample bool
	got    []got
}

type got struct {
	account, version, source, method, path, pattern string
	status                                          int
	route, request, response                        []string
	requestFields, responseFields                   []string
}

func (e *exchanges) Sample() bool { return e.sample }

func (e *exchanges) Record(x *server.Exchange) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, got{x.Account, x.Version.String(), x.Source.String(), x.Method, x.Path, x.Pattern, x.Status,
		ids(&x.Route), ids(&x.Request), ids(&x.Response), slots(&x.RequestFields), slots(&x.ResponseFields)})
}

var firedTL *gates.Timeline

func ids(f *gates.Fired) []string {
	out := []string{}
	for i := range f.All() {
		out = append(out, firedTL.ChangeAt(i).ID)
	}
	return out
}

func slots(f *gates.Fired) []string {
	out := []string{}
	for i := range f.All() {
		s, _ := firedTL.FieldSlotAt(i)
		out = append(out, s.Name())
	}
	return out
}

func (e *exchanges) take() []got {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.got
	e.got = nil
	return out
}

// firedHandler answers the routes of firedEngine in the newest schema.
func firedMux() *http.ServeMux {
	mux := http.NewServeMux()
	customer := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		status := http.StatusOK
		if r.Method == http.MethodPost {
			status = http.StatusCreated
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"id":"cus_1","object":"customer","balance":5}`))
	}
	mux.HandleFunc("POST /v1/customers", customer)
	mux.HandleFunc("GET /v1/customers/{id}", customer)
	mux.HandleFunc("GET /v1/customers/{id}/sources", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"object":"list","data":[]}`))
	})
	mux.HandleFunc("GET /v1/customers/search", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"object":"list","data":[]}`))
	})
	return mux
}

// TestFiredRecorded checks what the middleware reports for each kind of
// change, in both its forms: the changes that fired (and only those), in
// the part of the exchange they altered, with the route's pattern.
func TestFiredRecorded(t *testing.T) {
	engine := firedEngine(t)
	firedTL = engine.Timeline()
	rec := &exchanges{sample: true}
	cfg := server.Config{Engine: engine, Account: authAccount, Fired: rec}

	mw, err := cfg.ToMiddleware()
	require.NoError(t, err)
	httpH := withAccount(mw(firedMux()))

	e := newEcho(t, cfg)
	customer := func(c echo.Context) error {
		status := http.StatusOK
		if c.Request().Method == http.MethodPost {
			status = http.StatusCreated
		}
		return c.JSONBlob(status, []byte(`{"id":"cus_1","object":"customer","balance":5}`))
	}
	list := func(c echo.Context) error { return c.JSONBlob(http.StatusOK, []byte(`{"object":"list","data":[]}`)) }
	e.POST("/v1/customers", customer)
	e.GET("/v1/customers/search", list)
	e.GET("/v1/customers/:id", customer)
	e.GET("/v1/customers/:id/sources", list)
	e.GET("/v1/customers/:id/cards", list) // echo routes before the middleware moves a request

	for _, tc := range []struct {
		name, method, path, body, version, account string
		want                                       *got // nil: not recorded
		httpPattern, echoPattern                   string
	}{
		{name: "rename in a response", method: "GET", path: "/v1/customers/cus_1", version: "2023-01-01", account: "acct_1",
			want:        &got{status: 200, route: []string{}, request: []string{}, response: []string{"customer_balance"}, requestFields: []string{}, responseFields: []string{"customer.balance"}},
			httpPattern: "GET /v1/customers/{id}", echoPattern: "/v1/customers/:id"},
		{name: "rename in a request and its response, status changed", method: "POST", path: "/v1/customers", body: `{"account_balance":5}`, version: "2023-01-01", account: "acct_1",
			want:        &got{status: 200, route: []string{"created_status"}, request: []string{"customer_balance"}, response: []string{"customer_balance"}, requestFields: []string{"balance"}, responseFields: []string{"customer.balance"}},
			httpPattern: "POST /v1/customers", echoPattern: "/v1/customers"},
		{name: "a request the rename does not touch", method: "POST", path: "/v1/customers", body: `{"name":"Ana"}`, version: "2024-03-01", account: "acct_1",
			want:        &got{status: 200, route: []string{"created_status"}, request: []string{}, response: []string{}, requestFields: []string{}, responseFields: []string{}},
			httpPattern: "POST /v1/customers", echoPattern: "/v1/customers"},
		{name: "an endpoint moved", method: "GET", path: "/v1/customers/cus_1/cards", version: "2024-01-01", account: "acct_1",
			want:        &got{status: 200, route: []string{"sources_moved"}, request: []string{}, response: []string{}, requestFields: []string{}, responseFields: []string{}},
			httpPattern: "GET /v1/customers/{id}/sources", echoPattern: "/v1/customers/:id/cards"},
		{name: "an endpoint absent", method: "GET", path: "/v1/customers/search", version: "2024-02-01", account: "acct_1",
			want: &got{status: 404, route: []string{"customer_search"}, request: []string{}, response: []string{}, requestFields: []string{}, responseFields: []string{}}},
		{name: "the newest version named in the header", method: "GET", path: "/v1/customers/cus_1", version: "2024-04-01", account: "acct_1",
			want:        &got{status: 200, route: []string{}, request: []string{}, response: []string{}, requestFields: []string{}, responseFields: []string{}},
			httpPattern: "GET /v1/customers/{id}", echoPattern: "/v1/customers/:id"},
		{name: "no account", method: "GET", path: "/v1/customers/cus_1", version: "2023-01-01"},
		{name: "the newest version by default", method: "GET", path: "/v1/customers/cus_1", account: "acct_1"},
	} {
		for _, form := range []string{"http", "echo"} {
			t.Run(form+"/"+tc.name, func(t *testing.T) {
				req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
				if tc.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				if tc.version != "" {
					req.Header.Set("Stripe-Version", tc.version)
				}
				if tc.account != "" {
					req.Header.Set("Authorization", "Bearer key_"+tc.account)
				}
				w := httptest.NewRecorder()
				if form == "http" {
					httpH.ServeHTTP(w, req)
				} else {
					e.ServeHTTP(w, req)
				}
				gots := rec.take()
				if tc.want == nil {
					require.Empty(t, gots, "nothing recorded")
					return
				}
				require.Len(t, gots, 1, "one exchange recorded; answer %d %s", w.Code, w.Body)
				g := gots[0]
				require.Equal(t, tc.want.status, w.Code, "the client's status")
				want := *tc.want
				want.account, want.version, want.method, want.path = tc.account, tc.version, tc.method, tc.path
				want.source = "header"
				want.pattern = tc.httpPattern
				if form == "echo" {
					want.pattern = tc.echoPattern
				}
				if want.pattern == "" {
					want.pattern = g.pattern // a 404 of the middleware's own: whatever the router says
				}
				require.Equal(t, want, g)
			})
		}
	}

	t.Run("not sampled", func(t *testing.T) {
		rec.sample = false
		defer func() { rec.sample = true }()
		req := httptest.NewRequest("GET", "/v1/customers/cus_1", nil)
		req.Header.Set("Stripe-Version", "2023-01-01")
		req.Header.Set("Authorization", "Bearer key_acct_1")
		w := httptest.NewRecorder()
		httpH.ServeHTTP(w, req)
		require.Contains(t, w.Body.String(), "account_balance")
		require.Empty(t, rec.take())
	})
}

// withAccount is testAuth for net/http.
func withAccount(h http.Handler) http.Handler {
	e := echo.New()
	e.Use(testAuth)
	e.Any("/*", echo.WrapHandler(h))
	return e
}

// TestFiredNothingWhenNobodyAsks checks that without Config.Fired the
// walks report nothing: the same answers, and no recorder to call.
func TestFiredNothingWhenNobodyAsks(t *testing.T) {
	engine := firedEngine(t)
	rec := &exchanges{sample: true}
	for _, fired := range []server.FiredRecorder{nil, rec} {
		mw, err := server.Config{Engine: engine, Account: authAccount, Fired: fired}.ToMiddleware()
		require.NoError(t, err)
		h := withAccount(mw(firedMux()))
		req := httptest.NewRequest("POST", "/v1/customers", strings.NewReader(`{"account_balance":5}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Stripe-Version", "2023-01-01")
		req.Header.Set("Authorization", "Bearer key_acct_1")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		require.Equal(t, 200, w.Code)
		require.JSONEq(t, `{"id":"cus_1","object":"customer","account_balance":5}`, w.Body.String())
	}
	require.Len(t, rec.take(), 1, "only the recorder set was called")
}
