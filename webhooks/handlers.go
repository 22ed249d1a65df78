package webhooks

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/versions"
)

// HandlersConfig configures the webhook endpoint API.
type HandlersConfig struct {
	// Store keeps the endpoints. Required.
	Store *SQLStore
	// Account returns the authenticated account of a request, or "" when
	// there is none (the handlers then answer 401). Required.
	Account func(r *http.Request) string
	// Version returns the account's pinned API version: an endpoint created
	// without api_version gets it. Required.
	Version func(r *http.Request) (versions.Version, error)
	// Prefix is the path the API's routes start with.
	// Optional. Default value "/v1".
	Prefix string
	// Timeline, when set, refuses an api_version it does not support.
	// Optional. Default value nil: any well-formed version is accepted.
	Timeline *versions.Timeline
	// NearestVersion, with Timeline, also accepts a well-formed
	// api_version that Timeline does not list but that has a nearest older
	// version (versions.Timeline.ResolveNearest), as a server that serves
	// unlisted dates does. The endpoint keeps the version it asked for: the
	// Renderer renders its events at the nearest version and the worker
	// sets their api_version to the asked one. Optional. Default value
	// false.
	NearestVersion bool
	// EventTypes, when set, lists the event types enabled_events may name
	// (besides "*"). Optional. Default value nil: any well-formed type.
	EventTypes []string
	// Worker, when set, enables test sends:
	// POST /webhook_endpoints/{id}/test. Optional.
	Worker *Worker
	// SampleEvent returns a sample event of a type, in the newest schema,
	// for test sends that name a type rather than an event. Optional.
	SampleEvent func(r *http.Request, typ string) ([]byte, error)
	// ErrorHandler writes the API's errors (*apierror.Error values).
	// Optional. Default value apierror.Write: the API's error shape, from
	// the request's context.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Logger logs store failures, which the client sees as a 503.
	// Optional. Default value slog.Default().
	Logger *slog.Logger
}

// Handlers serves the webhook endpoint API, an http.Handler:
//
//	POST   /v1/webhook_endpoints                      create (the secret is in this response only)
//	GET    /v1/webhook_endpoints                      list: limit, starting_after
//	GET    /v1/webhook_endpoints/{id}                 retrieve
//	POST   /v1/webhook_endpoints/{id}                 update: url, enabled_events, api_version,
//	                                                  description, disabled (true or false)
//	DELETE /v1/webhook_endpoints/{id}                 delete
//	POST   /v1/webhook_endpoints/{id}/roll_secret     new secret (in this response only); the old
//	                                                  one keeps signing for expires_in seconds
//	                                                  (default 86400, at most 604800; 0 retires it)
//	GET    /v1/webhook_endpoints/{id}/deliveries      list deliveries: status, limit, starting_after
//	POST   /v1/webhook_deliveries/{id}/retry          retry now: a pending delivery at once, a
//	                                                  failed or delivered one again (also /resend)
//	POST   /v1/webhook_endpoints/{id}/test            test send (with HandlersConfig.Worker):
//	                                                  event=evt_… or type=…, api_version
//
// Mount it on those paths (Patterns lists them), normally behind
// authentication and the versioning middleware:
//
//	for _, p := range h.Patterns() {
//		mux.Handle(p, h)
//	}
//
// Parameters come from a JSON object or a form in Stripe's bracket syntax
// (parsed by transform.FormToJSON). Errors are *apierror.Error values
// written by HandlersConfig.ErrorHandler; a store that fails is 503 with
// Retry-After (ErrStore).
type Handlers struct {
	cfg    HandlersConfig
	types  map[string]bool
	routes []route
}

// route is one operation of the API: a method and a path whose "{id}"
// segment matches any non-empty segment.
type route struct {
	method string
	path   []string // segments after the prefix
	op     func(h *Handlers, w http.ResponseWriter, r *http.Request, account, id string) error
}

// NewHandlers checks cfg and returns the handlers.
func NewHandlers(cfg HandlersConfig) (*Handlers, error) {
	switch {
	case cfg.Store == nil:
		return nil, fmt.Errorf("%w: HandlersConfig.Store is required", ErrConfig)
	case cfg.Account == nil:
		return nil, fmt.Errorf("%w: HandlersConfig.Account is required", ErrConfig)
	case cfg.Version == nil:
		return nil, fmt.Errorf("%w: HandlersConfig.Version is required", ErrConfig)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "/v1"
	}
	if !strings.HasPrefix(cfg.Prefix, "/") || strings.HasSuffix(cfg.Prefix, "/") {
		return nil, fmt.Errorf("%w: HandlersConfig.Prefix %q must start with / and not end with one", ErrConfig, cfg.Prefix)
	}
	if cfg.ErrorHandler == nil {
		cfg.ErrorHandler = apierror.Write
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &Handlers{cfg: cfg}
	if cfg.EventTypes != nil {
		h.types = map[string]bool{}
		for _, t := range cfg.EventTypes {
			if !ValidEventType(t) {
				return nil, fmt.Errorf("%w: EventTypes: %q is not an event type", ErrConfig, t)
			}
			h.types[t] = true
		}
	}
	add := func(method, path string, op func(*Handlers, http.ResponseWriter, *http.Request, string, string) error) {
		h.routes = append(h.routes, route{method: method, path: strings.Split(path, "/"), op: op})
	}
	add(http.MethodPost, "webhook_endpoints", (*Handlers).create)
	add(http.MethodGet, "webhook_endpoints", (*Handlers).list)
	add(http.MethodGet, "webhook_endpoints/{id}", (*Handlers).retrieve)
	add(http.MethodPost, "webhook_endpoints/{id}", (*Handlers).update)
	add(http.MethodDelete, "webhook_endpoints/{id}", (*Handlers).delete)
	add(http.MethodPost, "webhook_endpoints/{id}/roll_secret", (*Handlers).rollSecret)
	add(http.MethodGet, "webhook_endpoints/{id}/deliveries", (*Handlers).listDeliveries)
	add(http.MethodPost, "webhook_deliveries/{id}/retry", (*Handlers).resend)
	add(http.MethodPost, "webhook_deliveries/{id}/resend", (*Handlers).resend)
	if cfg.Worker != nil {
		add(http.MethodPost, "webhook_endpoints/{id}/test", (*Handlers).test)
	}
	return h, nil
}

// Patterns returns the routes the handlers answer, as http.ServeMux
// patterns with the prefix: "POST /v1/webhook_endpoints/{id}/roll_secret".
func (h *Handlers) Patterns() []string {
	out := make([]string, len(h.routes))
	for i, rt := range h.routes {
		out[i] = rt.method + " " + h.cfg.Prefix + "/" + strings.Join(rt.path, "/")
	}
	return out
}

// ServeHTTP answers the request whose path is one of Patterns; another
// path gets 404, another method 405, in the API's error shape.
func (h *Handlers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, h.cfg.Prefix+"/")
	var segs []string
	if ok {
		segs = strings.Split(rest, "/")
	}
	var (
		found *route
		id    string
		allow []string
	)
	for i := range h.routes {
		rt := &h.routes[i]
		rid, match := rt.match(segs)
		if !match {
			continue
		}
		allow = append(allow, rt.method)
		if rt.method == r.Method && found == nil {
			found, id = rt, rid
		}
	}
	switch {
	case found == nil && len(allow) == 0:
		h.fail(w, r, apierror.ErrNotFound.With(fmt.Sprintf("Unrecognized request URL (%s: %s).", r.Method, apierror.Bound(r.URL.Path))))
		return
	case found == nil:
		w.Header().Set("Allow", strings.Join(allow, ", "))
		h.fail(w, r, apierror.ErrMethodNotAllowed.With(fmt.Sprintf("Method %s is not allowed on %s.", r.Method, apierror.Bound(r.URL.Path))))
		return
	}
	account := h.cfg.Account(r)
	if account == "" {
		h.fail(w, r, ErrNoAccount)
		return
	}
	if err := found.op(h, w, r, account, id); err != nil {
		h.fail(w, r, err)
	}
}

// match reports whether segs is the route's path, and the id it holds.
func (rt *route) match(segs []string) (id string, ok bool) {
	if len(segs) != len(rt.path) {
		return "", false
	}
	for i, p := range rt.path {
		switch {
		case p == "{id}" && segs[i] != "":
			id = segs[i]
		case p != segs[i]:
			return "", false
		}
	}
	return id, true
}

// The errors of the endpoint API besides a store's.
var (
	// ErrNoAccount: the request has no authenticated account (401).
	ErrNoAccount = apierror.New(http.StatusUnauthorized, apierror.TypeAuthentication, "api_key_invalid",
		"no valid API key provided")
	// ErrStore: the store failed (503 with Retry-After); it is
	// apierror.ErrUnavailable too. The cause is the store's error.
	ErrStore = apierror.ErrUnavailable.With("The webhook store is unavailable; retry the request.")
	// ErrParam: a parameter is missing, unknown or invalid (400); its code
	// says which (parameter_missing, parameter_unknown, parameter_invalid,
	// or invalid_request for the body as a whole).
	ErrParam = apierror.New(http.StatusBadRequest, apierror.TypeInvalidRequest, codeParamInvalid, "Invalid parameter.")
)

// The codes of ErrParam.
const (
	codeParamInvalid = "parameter_invalid"
	codeParamMissing = "parameter_missing"
	codeParamUnknown = "parameter_unknown"
)

// badParam is a 400 about param, parameter_invalid, or invalid_request
// about the body as a whole when param is "".
func badParam(param, format string, args ...any) error {
	e := ErrParam.With(fmt.Sprintf(format, args...))
	if param == "" {
		return e.WithCode("invalid_request")
	}
	return e.WithParam(param)
}

func missingParam(param string) error {
	return ErrParam.With("missing required param: " + param).WithParam(param).WithCode(codeParamMissing)
}

func unknownParam(param string) error {
	param = apierror.Bound(param)
	return ErrParam.With("received unknown parameter: " + param).WithParam(param).WithCode(codeParamUnknown)
}

// fail writes err: the API's own errors as they are, a store's as the
// 400 or 404 they mean, anything else as a 503 that does not reveal it.
func (h *Handlers) fail(w http.ResponseWriter, r *http.Request, err error) {
	var (
		ae  *addressError
		ue  *userError
		api *apierror.Error
	)
	switch {
	case errors.As(err, &api):
	case errors.As(err, &ae):
		err = ErrParam.With(ae.msg).WithParam("url").Wrap(err)
	case errors.As(err, &ue) && errors.Is(err, ErrInvalidCursor):
		err = ErrParam.With("starting_after names no object in this list: " + ue.msg).WithParam("starting_after").Wrap(err)
	case errors.As(err, &ue) && errors.Is(err, ErrNotFound):
		err = apierror.ErrNotFound.With(ue.msg).WithParam("id").Wrap(err)
	case errors.As(err, &ue):
		err = ErrParam.With(ue.msg).Wrap(err)
	default:
		h.cfg.Logger.WarnContext(r.Context(), "webhooks: api", "method", r.Method, "path", r.URL.Path, "err", err)
		err = ErrStore.Wrap(err)
	}
	h.cfg.ErrorHandler(w, r, err)
}

// write answers v as JSON with status 200.
func write(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	return nil
}
