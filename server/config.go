package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// Config defines the config of the versioning middleware: one config for
// every form of it, the net/http one (ToMiddleware, a
// func(http.Handler) http.Handler that any Go router takes), the echo one
// (package echoversioning) and the proxy (package proxy). Its functions
// take the *http.Request; echo users reach theirs with c.Request().
type Config struct {
	// Skipper returns true for requests the middleware leaves alone.
	// Optional. Default value nil: no request is skipped.
	Skipper func(*http.Request) bool

	// Engine walks bodies between the versions of its timeline.
	// Required.
	Engine *transform.Engine

	// TypeField is the member that names an object's type in response
	// bodies ({"type":"user"}), by which changes scoped by resource find
	// their objects.
	// Optional. Default value the engine's (the timeline's type_field,
	// "object" unless it names another).
	TypeField string

	// Header is the request header naming the version, and the response
	// header saying the version served.
	// Optional. Default value the timeline's header (gates.DefaultHeader,
	// "Stripe-Version", unless the timeline names another).
	Header string

	// NearestVersion serves a well-formed version that the timeline does
	// not list as the nearest older version it lists, instead of refusing
	// it with 400 (a client that read the date off a changelog). A date
	// older than the base is still refused.
	// Optional. Default value false: unknown versions are refused, as
	// Stripe refuses them.
	NearestVersion bool

	// Account returns the account of the request, from its authentication
	// (a middleware before this one put it in the request's context),
	// never from anything a client may simply claim. An empty account has
	// no pin. An error is answered by ErrorHandler as it is, so an
	// authentication failure (an *apierror.Error with status 401) keeps
	// its status.
	// Optional. Default value nil: no accounts, so no pins; requests are
	// served in the header's version or the newest.
	Account func(*http.Request) (string, error)

	// Pins keeps each account's version. With it, a request with no header
	// is served in its account's pin, and an account without one is served
	// DefaultVersion and pinned to it, atomically, once a request of its
	// has been answered with a success (a status below 400): no pin is
	// made for credentials the handler (or the proxy's upstream) refused.
	// Every pins.Store is a PinStore.
	// Optional. Default value nil: no pins.
	Pins PinStore

	// DefaultVersion is the version served to a request that names none
	// and whose account has no pin, and the version such an account is
	// pinned to. Put an existing API behind verso with the version its
	// clients integrated against here, so that they keep it; new accounts
	// then start at it too (verso pins set moves an account).
	// Optional. Default value the zero Version: the newest stable version
	// (the newest that is not a preview).
	DefaultVersion versions.Version

	// Usage counts the requests the middleware serves, per version and
	// account (*pins.Counter batches them into a pins.Store, for verso
	// pins and verso retire). A request answered 401 or 403 is counted
	// without its account.
	// Optional. Default value nil: nothing is counted.
	Usage Usage

	// MaxBodyBytes is the largest request body accepted: a Content-Length
	// over it, or a body read by the middleware (to walk it forward) over
	// it, gets 413. Wrap bodies of unknown length the middleware does not
	// read in http.MaxBytesReader before it.
	// Optional. Default value DefaultMaxBodyBytes (1 MiB).
	MaxBodyBytes int64

	// MaxResponseBytes is the largest JSON response buffered to be walked
	// back; a larger one is answered with 500 and logged. Responses at the
	// newest version are never buffered.
	// Optional. Default value DefaultMaxResponseBytes (32 MiB).
	MaxResponseBytes int64

	// ErrorShape is how the API writes its errors. The middleware puts it
	// in every request's context (apierror.WithShape), so apierror.Write
	// answers in it everywhere inside, and writes its own errors in it.
	// Optional. Default value the zero Shape: the timeline's (its errors
	// key; Stripe's {"error":{...}} when it has none).
	ErrorShape apierror.Shape

	// ErrorHandler writes the middleware's own errors (an invalid version,
	// a body that cannot be walked forward, an endpoint absent at the
	// version, a failing pin store, an error from Account). It runs with
	// the request's version and shape in the context (VersionOf(r) and
	// gates.Active answer; for an invalid version, the newest version),
	// and what it writes is walked back to the client's version like any
	// other response. The echo form does not use it: it calls echo's
	// HTTPErrorHandler (see echoversioning.ErrorHandler).
	// Optional. Default value apierror.NewWriter(Logger): the error in the
	// API's shape.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// Logger gets the errors the client does not see in full: responses
	// that could not be walked back, pin store failures, 5xx errors.
	// Optional. Default value slog.Default().
	Logger *slog.Logger

	// Metrics counts requests by version served and the cost of walking
	// bodies (prom.NewMetrics for Prometheus).
	// Optional. Default value nil: no metrics.
	Metrics Metrics

	// Shadow, when set, gets a sample of the successful responses that are
	// walked back (a *shadow.Sampler renders them in a candidate version in
	// the background and records what would change for the account if it
	// moved). It never delays or changes the response.
	// Optional. Default value nil: no shadow rendering.
	Shadow Sampler

	// ShadowCandidate picks the version a shadowed response is compared
	// with. Optional. Default value: the newest version.
	ShadowCandidate func(r *http.Request, served versions.Version) versions.Version

	// ChangelogURL is where the changelog lives: responses served in a
	// deprecated version carry Link: <ChangelogURL#vVERSION>;
	// rel="deprecation" (RFC 9745), next to the Deprecation and Sunset
	// headers they always get.
	// Optional. Default value "": no Link header.
	ChangelogURL string

	// Now returns the current time, which decides whether a version is
	// past its sunset date (refused when the timeline's after_sunset is
	// refuse).
	// Optional. Default value time.Now.
	Now func() time.Time

	// Fired records which changes altered each request of an account and
	// its response (*reports.Recorder gathers them into upgrade reports).
	// For a request it samples, the walks report the changes that fired
	// (gates.Fired sets, no allocation) and Fired.Record gets them with
	// the account, the version and the route once the response is
	// written. At the newest version nothing can fire: only requests that
	// named it in the header are recorded there (a client trying it).
	// Optional. Default value nil: nothing is recorded, and the walks
	// report nothing.
	Fired FiredRecorder
}

// PinStore is what the middleware asks of a pin store: an account's pin,
// and pinning an account that has none. Every pins.Store is one; the full
// stores (pins.NewMemoryStore, pins.NewSQLStore) keep their conformance suite.
type PinStore interface {
	// Get returns the account's pin, or an error wrapping
	// versions.ErrNotPinned (pins.ErrNotPinned) when it has none.
	Get(ctx context.Context, account string) (versions.Pin, error)
	// PinIfAbsent pins the account to v unless it has a pin, atomically,
	// and returns the pin it has and whether this call created it.
	PinIfAbsent(ctx context.Context, account string, v versions.Version) (versions.Pin, bool, error)
}

// Usage receives each request the middleware served: the version it was
// served in and its account ("" for none, or for credentials refused with
// 401 or 403). It is called on the request's goroutine once the response
// is written, and must be quick and safe for concurrent use.
// *pins.Counter implements it.
type Usage interface {
	Count(v versions.Version, account string)
}

// Defaults of the middleware's limits.
const (
	// DefaultMaxBodyBytes is the default limit of a request body: 1 MiB.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultMaxResponseBytes is the default limit of a response buffered
	// to be walked back: 32 MiB.
	DefaultMaxResponseBytes = 32 << 20
)
