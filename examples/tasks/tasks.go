// Package tasks is the example Tasks API: the whole platform around verso
// on net/http. Handlers are written once, for the newest version of
// timeline.yaml; verso serves every older one. Around them:
//
//   - versioning (server.Config), with pins per account, errors in the
//     timeline's shape (RFC 9457 problem details, application/problem+json);
//   - rate limits per account (ratelimit), tighter on POST /v1/tasks;
//   - idempotency keys (idempotency), the saved response committed in the
//     handler's own transaction;
//   - webhooks (webhooks): each change records an event in the same
//     transaction (an outbox), and a worker delivers it to every endpoint
//     of the account in the endpoint's own version, signed; the endpoint
//     API (POST /v1/webhook_endpoints, ...) is mounted beside the tasks.
//
// The newest schema (2025-06-01):
//
//	POST /v1/tasks       title=...                 {"id":"task_1","object":"task","title":"...","status":"open","created":1700000000}
//	POST /v1/tasks/{id}  title=..., status=open|completed
//	GET  /v1/tasks/{id}
//	GET  /v1/tasks       {"object":"list","data":[...],"has_more":false}
//
// Requests are authenticated by "Authorization: Bearer acct_...": any
// account name is accepted (a real API checks a key).
package tasks

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/idempotency"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/ratelimit"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
	"github.com/verso-api/verso/webhooks"
)

//go:embed timeline.yaml
var timelineYAML []byte

// Engine returns the verso engine over the example's timeline.
func Engine() (*transform.Engine, error) {
	tl, err := gates.Load("timeline.yaml", timelineYAML, nil)
	if err != nil {
		return nil, err
	}
	return transform.New(tl, nil), nil
}

// Config configures the API.
type Config struct {
	// DB holds tasks, pins, idempotency keys and webhooks. Required.
	DB *storage.DB
	// Limit is each account's rate limit.
	// Optional. Default value 100 requests per second.
	Limit ratelimit.Limit
	// CreateLimit is each account's rate limit on POST /v1/tasks.
	// Optional. Default value 10 per second.
	CreateLimit ratelimit.Limit
	// AllowPrivateWebhooks lets webhook endpoints be on loopback and
	// private addresses: for local development and tests.
	AllowPrivateWebhooks bool
	// Backoff is the webhook retry schedule.
	// Optional. Default value webhooks.DefaultBackoff().
	Backoff webhooks.Backoff
	// Clock stamps tasks and events.
	// Optional. Default value time.Now.
	Clock func() time.Time
	// Logger gets what the client does not see. Optional.
	Logger *slog.Logger
}

// API is the Tasks API: Handler serves it; Run delivers its webhooks.
type API struct {
	Handler http.Handler
	Engine  *transform.Engine
	Worker  *webhooks.Worker

	db    *storage.DB
	hooks *webhooks.SQLStore
	now   func() time.Time
	shape apierror.Shape
}

// New builds the API on cfg.DB, creating its tables when missing.
func New(ctx context.Context, cfg Config) (*API, error) {
	if cfg.DB == nil {
		return nil, errors.New("tasks: Config.DB is required")
	}
	if cfg.Limit == (ratelimit.Limit{}) {
		cfg.Limit = ratelimit.Per(100, time.Second)
	}
	if cfg.CreateLimit == (ratelimit.Limit{}) {
		cfg.CreateLimit = ratelimit.Per(10, time.Second)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	engine, err := Engine()
	if err != nil {
		return nil, err
	}
	a := &API{Engine: engine, db: cfg.DB, now: cfg.Clock, shape: engine.Timeline().ErrorShape()}
	if err := cfg.DB.Migrate(ctx, `CREATE TABLE IF NOT EXISTS tasks (
		account TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL,
		PRIMARY KEY (account, id))`); err != nil {
		return nil, err
	}
	// Every store is made the same way: NewSQLStore(ctx, db, *Options).
	pinStore, err := pins.NewSQLStore(ctx, cfg.DB, nil)
	if err != nil {
		return nil, err
	}
	idemStore, err := idempotency.NewSQLStore(ctx, cfg.DB, nil)
	if err != nil {
		return nil, err
	}
	limits, err := ratelimit.NewSQLStore(ctx, cfg.DB, nil)
	if err != nil {
		return nil, err
	}
	if a.hooks, err = webhooks.NewSQLStore(ctx, cfg.DB, &webhooks.Options{AllowPrivate: cfg.AllowPrivateWebhooks, Clock: cfg.Clock}); err != nil {
		return nil, err
	}
	if a.Worker, err = webhooks.NewWorker(webhooks.Config{Store: a.hooks, Renderer: render(engine), Backoff: cfg.Backoff, Logger: cfg.Logger}); err != nil {
		return nil, err
	}
	endpoints, err := webhooks.NewHandlers(webhooks.HandlersConfig{
		Store:      a.hooks,
		Account:    func(r *http.Request) string { return accountOf(r) },
		Version:    func(r *http.Request) (versions.Version, error) { return server.VersionOf(r), nil },
		Timeline:   engine.Timeline().Versions(),
		EventTypes: []string{"task.created", "task.updated"},
		Worker:     a.Worker,
		Logger:     cfg.Logger,
	})
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/tasks", a.create)
	mux.HandleFunc("POST /v1/tasks/{id}", a.update)
	mux.HandleFunc("GET /v1/tasks/{id}", a.get)
	mux.HandleFunc("GET /v1/tasks", a.list)
	for _, p := range endpoints.Patterns() {
		mux.Handle(p, endpoints)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		apierror.Write(w, r, apierror.ErrNotFound.With(fmt.Sprintf("Unrecognized request URL (%s: %s).", r.Method, apierror.Bound(r.URL.Path))))
	})

	idem, err := idempotency.Config{Store: idemStore, Account: func(r *http.Request) (string, error) { return accountOf(r), nil },
		Logger: cfg.Logger}.ToMiddleware()
	if err != nil {
		return nil, err
	}
	limit, err := ratelimit.Config{
		Identifier: func(r *http.Request) (string, error) { return accountOf(r), nil },
		Default:    cfg.Limit,
		Routes:     map[string]ratelimit.Limit{"POST /v1/tasks": cfg.CreateLimit},
		Store:      limits,
	}.ToMiddleware()
	if err != nil {
		return nil, err
	}
	versioning, err := server.Config{
		Engine:  engine,
		Account: func(r *http.Request) (string, error) { return accountOf(r), nil },
		Pins:    pinStore,
		Logger:  cfg.Logger,
	}.ToMiddleware()
	if err != nil {
		return nil, err
	}
	// Authentication, then versioning (which puts the error shape and the
	// version in the context), then limits and keys inside it, so that
	// their errors are in the API's shape and walked back too.
	a.Handler = a.authenticate(versioning(limit(idem(mux))))
	return a, nil
}

// render renders a stored event in an endpoint's version. The example's
// timeline names no resolvers, so the delivery's context and account do
// not matter.
func render(engine *transform.Engine) webhooks.Renderer {
	return func(_ context.Context, _ string, event []byte, to versions.Version) ([]byte, error) {
		return engine.Back(event, to)
	}
}

// Run delivers webhooks until ctx is done.
func (a *API) Run(ctx context.Context) error { return a.Worker.Run(ctx) }
