// Package reports tells each account what an upgrade would change for
// it, measured on its own traffic: which of the changes between its
// version and a target altered something it sent, received or was sent
// by webhook, where, and what to do about each.
//
// # How it works
//
// The engine reports which changes fired in a walk: a gates.Fired set of
// change indexes, and, when the set tracks fields (Fired.TrackFields),
// the field slots (gates.Timeline.FieldSlotAt: one per body op and
// resource) of the ops that changed a byte. The versioning middleware
// (package server, and so the echo form and verso proxy) fills one pooled
// server.Exchange per request it samples: the route (endpoint, status and
// header ops), the request walked forward, the response walked back. At
// the newest version nothing can fire; only requests that name it in
// their header (a client trying it) are recorded there. Without
// server.Config.Fired, nothing is recorded and the walks report nothing.
//
// A Recorder (server.Config.Fired) keeps, in memory, one entry per
// account, version served and endpoint template: a request costs one map
// lookup and a counter per change that fired. Webhook deliveries come in
// through RecordDelivery (from a webhooks.Renderer, on a delivery's first
// attempt: webhooks.FirstAttempt). Flush, every minute
// from Run, turns the entries into a Batch and adds it to a Store in one
// transaction; Run prunes the store every hour.
//
// A Store keeps, per account, change and day: the requests and responses
// the change altered and the deliveries it shaped, the endpoint
// templates, field paths and event types where it did (at most
// Options.MaxNames each, the rest counted as others), and when it fired
// first and last; and, per account, version and day, the requests served
// and how many named the version in their header. Names and counts only:
// never a value, a body, a raw path or an identifier. Evidence covers the
// days of Options.Window (30 days by default); Prune deletes older days.
// Three stores pass one suite (package reportstest):
//
//   - NewMemoryStore(opts): in memory;
//   - NewSQLStore(ctx, db, opts): in a *storage.DB, SQLite or PostgreSQL,
//     tables verso_report_changes, verso_report_names,
//     verso_report_traffic and verso_report_endpoints.
//
// A Reporter makes the report: every change between the account's
// version and the target, oldest first, breaking or not, affects_you
// true when it fired on the account's traffic in the window, false when
// it did not, "unknown" for a behaviour change (no body shows it), the
// evidence, the requests already sent at the target to the endpoints
// where it fired (a client trying the target before moving its pin), and
// the upgrade guide's "What to do" (package changelog). Package reporthttp
// answers it at GET /v1/account/api_version/upgrade_report?to=V, as JSON
// or as an HTML page.
//
//	db, _ := storage.Open(ctx, "verso.db")
//	store, _ := reports.NewSQLStore(ctx, db, nil)
//	recorder, _ := reports.NewRecorder(timeline, store, nil)
//	go recorder.Run(ctx, time.Minute, nil)
//	mw, _ := server.Config{Engine: engine, Account: account, Pins: pinStore, Fired: recorder}.ToMiddleware()
//	reporter, _ := reports.NewReporter(timeline, store, nil)
//	report, _ := reporthttp.Config{Reporter: reporter, Account: account, Pins: pinStore}.Handler()
//	mux.Handle("GET /v1/account/api_version/upgrade_report", report)
//
// Endpoints are the router's pattern when it names one (http.ServeMux's
// Request.Pattern, echo's route path), else the timeline's endpoint the
// request matches, else Template's: the path with every segment that looks
// like an identifier replaced by ":id".
package reports
