package readme_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/reports"
	"github.com/verso-api/verso/reports/reporthttp"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/server/echoversioning"
	"github.com/verso-api/verso/server/servertest"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// Each function below holds one of README.md's Go samples verbatim, with
// what the sample leaves to the reader as its arguments, so that the
// compiler checks them; TestSamples checks README.md holds nothing else.
// They are compiled, not run (they serve, or need a database).
var _ = []any{netHTTPSample, echoSample, servertestSample, resolverSample, firedSample, reportsSample}

var update = flag.Bool("update", false, "unused: servertestSample's flag")

func netHTTPSample(tl *gates.Timeline, addr string, getCustomer http.HandlerFunc, accountFrom func(context.Context) string, auth func(http.Handler) http.Handler) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/customers/{id}", getCustomer) // knows only the newest schema
	versioning := server.MiddlewareWithConfig(server.Config{
		Engine:  transform.New(tl, nil),
		Account: func(r *http.Request) (string, error) { return accountFrom(r.Context()), nil },
		Pins:    pins.NewMemoryStore(nil), // or pins.NewSQLStore(ctx, db, nil) on SQLite or PostgreSQL
	})
	http.ListenAndServe(addr, auth(versioning(mux))) // authentication outside, so pins see the account
}

func echoSample(tl *gates.Timeline, getCustomer echo.HandlerFunc, accountFrom func(context.Context) string, auth echo.MiddlewareFunc) {
	e := echo.New()
	e.HTTPErrorHandler = echoversioning.ErrorHandler // errors in the API's shape
	e.Use(auth)                                      // puts the account in the request's context
	versioning, err := echoversioning.New(server.Config{
		Engine:  transform.New(tl, nil),
		Account: func(r *http.Request) (string, error) { return accountFrom(r.Context()), nil },
		Pins:    pins.NewMemoryStore(nil),
	})
	if err != nil {
		log.Fatal(err) // a bad config fails at startup, not at the first request
	}
	e.Use(versioning)
	e.GET("/v1/customers/:id", getCustomer) // echoversioning.VersionOf(c) is the version served
}

func servertestSample(t *testing.T, handler http.Handler, timeline *gates.Timeline) {
	servertest.EveryVersion(t, handler, timeline, "get_user", func() *http.Request {
		return httptest.NewRequest("GET", "/v1/users/u_1", nil)
	}, &servertest.Options{Update: *update})
}

func resolverSample(db *storage.DB, refundLists func(context.Context, *storage.DB, []gates.Ref) ([]json.RawMessage, error)) (*gates.Timeline, error) {
	reg := gates.NewRegistry()
	reg.RegisterResolver("charge_refunds", func(ctx context.Context, refs []gates.Ref) ([]json.RawMessage, error) {
		// One query for the whole response: WHERE charge_id = ANY($1), the ids from refs.
		// Return one value per ref, in the newest schema; nil puts the default back.
		return refundLists(ctx, db, refs)
	})
	tl, err := gates.LoadFile("timeline.yaml", &gates.Options{Funcs: reg})
	return tl, err
}

func firedSample(tl *gates.Timeline, plan *transform.Plan, buf, body []byte, v versions.Version, r *http.Request) (gates.RouteDecision, []byte, error) {
	var fired gates.Fired
	out, err := plan.AppendApplyFired(buf[:0], body, &fired) // or RenderFired, UpgradeFired, UpgradeFormFired
	d := tl.RouteFired(v, r.Method, r.URL.Path, &fired)      // endpoint, status and header ops
	fmt.Println(fired.IDs(tl))                               // [customer_balance customer_sources]
	return d, out, err
}

func reportsSample(ctx context.Context, db *storage.DB, timeline *gates.Timeline, engine *transform.Engine,
	account func(*http.Request) (string, error), pinStore pins.Store, mux *http.ServeMux, api http.Handler) {
	store, _ := reports.NewSQLStore(ctx, db, nil)
	recorder, _ := reports.NewRecorder(timeline, store, nil)
	go recorder.Run(ctx, time.Minute, nil)
	versioning, _ := server.Config{Engine: engine, Account: account, Pins: pinStore, Fired: recorder}.ToMiddleware()
	reporter, _ := reports.NewReporter(timeline, store, nil)
	report, _ := reporthttp.Config{Reporter: reporter, Account: account, Pins: pinStore}.Handler()
	mux.Handle("GET /v1/account/api_version/upgrade_report", report)
	mux.Handle("/v1/", versioning(api))
}
