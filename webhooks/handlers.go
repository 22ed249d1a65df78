package webhooks

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/verso-api/verso/versions"
)

// HandlersConfig configures the webhook endpoint API.
type HandlersConfig struct {
	// Store keeps the endpoints. Required.
	Store *Store
	// Account returns the authenticated account of a request, or "" when
	// there is none (the handlers then answer 401). Required.
	Account func(c echo.Context) string
	// Version returns the account's pinned API version: an endpoint created
	// without api_version gets it. Required.
	Version func(c echo.Context) (versions.Version, error)
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
	// POST /webhook_endpoints/:id/test. Optional.
	Worker *Worker
	// SampleEvent returns a sample event of a type, in the newest schema,
	// for test sends that name a type rather than an event. Optional.
	SampleEvent func(c echo.Context, typ string) ([]byte, error)
	// Logger logs internal errors. Optional. Default value slog.Default().
	Logger *slog.Logger
}

// Handlers serves the webhook endpoint API; see Routes.
type Handlers struct {
	cfg   HandlersConfig
	types map[string]bool
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
	return h, nil
}

// Routes registers the webhook endpoint API on g, which is normally the
// "/v1" group behind authentication and versioning:
//
//	POST   /webhook_endpoints                      create (the secret is in this response only)
//	GET    /webhook_endpoints                      list: limit, starting_after
//	GET    /webhook_endpoints/:id                  retrieve
//	POST   /webhook_endpoints/:id                  update: url, enabled_events, api_version,
//	                                               description, disabled (true or false)
//	DELETE /webhook_endpoints/:id                  delete
//	POST   /webhook_endpoints/:id/roll_secret      new secret (in this response only); the old
//	                                               one keeps signing for expires_in seconds
//	                                               (default 86400, at most 604800; 0 retires it)
//	GET    /webhook_endpoints/:id/deliveries       list deliveries: state, limit, starting_after
//	POST   /webhook_deliveries/:id/retry           retry now: a pending delivery at once, a
//	                                               failed or delivered one again (also /resend)
//	POST   /webhook_endpoints/:id/test             test send (with HandlersConfig.Worker):
//	                                               event=evt_… or type=…, api_version
func Routes(g *echo.Group, h *Handlers) {
	g.POST("/webhook_endpoints", h.Create)
	g.GET("/webhook_endpoints", h.List)
	g.GET("/webhook_endpoints/:id", h.Retrieve)
	g.POST("/webhook_endpoints/:id", h.Update)
	g.DELETE("/webhook_endpoints/:id", h.Delete)
	g.POST("/webhook_endpoints/:id/roll_secret", h.RollSecret)
	g.GET("/webhook_endpoints/:id/deliveries", h.ListDeliveries)
	g.POST("/webhook_deliveries/:id/retry", h.Resend)
	g.POST("/webhook_deliveries/:id/resend", h.Resend)
	if h.cfg.Worker != nil {
		g.POST("/webhook_endpoints/:id/test", h.Test)
	}
}

// apiError is an error in Stripe's shape.
type apiError struct {
	status  int
	Type    string `json:"type"`
	Code    string `json:"code,omitempty"`
	Param   string `json:"param,omitempty"`
	Message string `json:"message"`
}

func (h *Handlers) fail(c echo.Context, e apiError) error {
	if e.Type == "" {
		e.Type = "invalid_request_error"
	}
	return c.JSON(e.status, map[string]apiError{"error": e})
}

// badRequest is a 400 parameter_invalid naming param (or, when param is
// "", invalid_request).
func badRequest(param, format string, args ...any) apiError {
	code := "parameter_invalid"
	if param == "" {
		code = "invalid_request"
	}
	return apiError{status: http.StatusBadRequest, Code: code, Param: param, Message: fmt.Sprintf(format, args...)}
}

// storeError maps a Store error to a response.
func (h *Handlers) storeError(c echo.Context, err error) error {
	msg := err.Error()
	for _, p := range []string{"webhooks: invalid: ", "webhooks: not found: ", "webhooks: "} {
		if strings.HasPrefix(msg, p) {
			msg = msg[len(p):]
			break
		}
	}
	var ae *addressError
	switch {
	case errors.As(err, &ae):
		return h.fail(c, badRequest("url", "%s", strings.TrimPrefix(ae.msg, "url: ")))
	case errors.Is(err, ErrNotFound):
		return h.fail(c, apiError{status: http.StatusNotFound, Code: "resource_missing", Param: "id", Message: msg})
	case errors.Is(err, ErrInvalidCursor):
		return h.fail(c, badRequest("starting_after", "%s", msg))
	case errors.Is(err, ErrInvalid):
		return h.fail(c, badRequest("", "%s", msg))
	}
	h.cfg.Logger.Error("webhooks: api", "path", c.Path(), "err", err)
	return h.fail(c, apiError{status: http.StatusInternalServerError, Type: "api_error", Message: "an internal error occurred; try again later"})
}

func (h *Handlers) account(c echo.Context) (string, error) {
	a := h.cfg.Account(c)
	if a == "" {
		return "", h.fail(c, apiError{status: http.StatusUnauthorized, Type: "authentication_error", Code: "api_key_invalid", Message: "no valid API key provided"})
	}
	return a, nil
}

// params holds a request's parameters from a JSON or form body.
type params struct {
	values map[string]string
	lists  map[string][]string
}

const maxBody = 1 << 20

// readParams reads a JSON object or an application/x-www-form-urlencoded
// body. Form lists are written name[]=a&name[]=b, name[0]=a&name[1]=b or
// name=a&name=b.
func readParams(c echo.Context) (params, *apiError) {
	p := params{values: map[string]string{}, lists: map[string][]string{}}
	r := c.Request()
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		e := badRequest("", "cannot read the request body")
		return p, &e
	}
	if len(body) > maxBody {
		e := apiError{status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: "request body is larger than 1 MiB"}
		return p, &e
	}
	switch {
	case len(strings.TrimSpace(string(body))) == 0:
	case ct == "application/json" || strings.HasSuffix(ct, "+json"):
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			e := badRequest("", "invalid JSON body: %v", err)
			return p, &e
		}
		for k, raw := range m {
			var s string
			var list []string
			switch {
			case string(raw) == "null":
			case json.Unmarshal(raw, &s) == nil:
				p.values[k] = s
			case json.Unmarshal(raw, &list) == nil:
				p.lists[k] = list
			default:
				e := badRequest(k, "%s must be a string or an array of strings", k)
				return p, &e
			}
		}
	default:
		form, err := url.ParseQuery(string(body))
		if err != nil {
			e := badRequest("", "invalid form body: %v", err)
			return p, &e
		}
		type item struct {
			idx int
			v   string
		}
		indexed := map[string][]item{}
		for k, vs := range form {
			name, rest, isList := strings.Cut(k, "[")
			switch {
			case !isList:
				if len(vs) > 1 {
					p.lists[name] = append(p.lists[name], vs...)
				}
				p.values[name] = vs[len(vs)-1]
			case rest == "]":
				p.lists[name] = append(p.lists[name], vs...)
			default:
				n, err := strconv.Atoi(strings.TrimSuffix(rest, "]"))
				if err != nil || !strings.HasSuffix(rest, "]") || n < 0 {
					e := badRequest(k, "unknown parameter %q", k)
					return p, &e
				}
				for _, v := range vs {
					indexed[name] = append(indexed[name], item{n, v})
				}
			}
		}
		for name, items := range indexed {
			sort.SliceStable(items, func(i, j int) bool { return items[i].idx < items[j].idx })
			for _, it := range items {
				p.lists[name] = append(p.lists[name], it.v)
			}
		}
	}
	return p, nil
}

// list returns a list parameter; a single value counts as a list of one.
func (p params) list(name string) []string {
	if l, ok := p.lists[name]; ok {
		return l
	}
	if v, ok := p.values[name]; ok {
		return []string{v}
	}
	return nil
}

// endpointJSON is a webhook_endpoint as the API shows it.
type endpointJSON struct {
	ID            string   `json:"id"`
	Object        string   `json:"object"`
	APIVersion    string   `json:"api_version"`
	Created       int64    `json:"created"`
	Description   *string  `json:"description"`
	EnabledEvents []string `json:"enabled_events"`
	Livemode      bool     `json:"livemode"`
	Secret        string   `json:"secret,omitempty"`
	// SecretRolledUntil is when the secret replaced by the last roll stops
	// signing, while it still does.
	SecretRolledUntil *int64 `json:"previous_secret_expires_at,omitempty"`
	SignatureScheme   Scheme `json:"signature_scheme"`
	Status            string `json:"status"`
	URL               string `json:"url"`
}

func toJSON(e *Endpoint) endpointJSON {
	j := endpointJSON{
		ID: e.ID, Object: "webhook_endpoint", APIVersion: e.APIVersion.String(), Created: e.Created.Unix(),
		EnabledEvents: e.EnabledEvents, Secret: e.Secret, SignatureScheme: e.Scheme, Status: string(e.Status), URL: e.URL,
	}
	if !e.SecretRolledUntil.IsZero() {
		u := e.SecretRolledUntil.Unix()
		j.SecretRolledUntil = &u
	}
	if e.Description != "" {
		d := e.Description
		j.Description = &d
	}
	return j
}

type listJSON[T any] struct {
	Object  string `json:"object"`
	URL     string `json:"url"`
	HasMore bool   `json:"has_more"`
	Data    []T    `json:"data"`
}

func (h *Handlers) version(s string) (versions.Version, *apiError) {
	var (
		v   versions.Version
		err error
	)
	switch {
	case h.cfg.Timeline != nil && h.cfg.NearestVersion:
		if _, err = h.cfg.Timeline.ResolveNearest(s); err == nil {
			v, err = versions.Parse(s) // the version asked for, served as its nearest
		}
	case h.cfg.Timeline != nil:
		v, err = h.cfg.Timeline.Resolve(s)
	default:
		v, err = versions.Parse(s)
	}
	if err != nil {
		e := badRequest("api_version", "invalid api_version %q: %v", clip(s), err)
		return v, &e
	}
	return v, nil
}

// Create handles POST /webhook_endpoints.
func (h *Handlers) Create(c echo.Context) error {
	account, err := h.account(c)
	if account == "" {
		return err
	}
	p, perr := readParams(c)
	if perr != nil {
		return h.fail(c, *perr)
	}
	for k := range p.values {
		switch k {
		case "url", "api_version", "description", "signature_scheme", "enabled_events":
		default:
			return h.fail(c, badRequest(k, "received unknown parameter: %s", k))
		}
	}
	for k := range p.lists {
		if k != "enabled_events" {
			return h.fail(c, badRequest(k, "received unknown parameter: %s", k))
		}
	}
	ep := EndpointParams{
		Account:       account,
		URL:           p.values["url"],
		EnabledEvents: p.list("enabled_events"),
		Description:   p.values["description"],
		Scheme:        Scheme(p.values["signature_scheme"]),
	}
	if ep.URL == "" {
		return h.fail(c, badRequest("url", "missing required param: url"))
	}
	if err := ValidateURL(ep.URL); err != nil {
		return h.fail(c, badRequest("url", "invalid url %q: it must be an absolute http or https URL", clip(ep.URL)))
	}
	if len(ep.EnabledEvents) == 0 {
		return h.fail(c, badRequest("enabled_events", "missing required param: enabled_events"))
	}
	for _, t := range ep.EnabledEvents {
		if t == "*" {
			continue
		}
		if !ValidEventType(t) || (h.types != nil && !h.types[t]) {
			return h.fail(c, badRequest("enabled_events", "invalid event type %q in enabled_events", clip(t)))
		}
	}
	if s := p.values["api_version"]; s != "" {
		v, verr := h.version(s)
		if verr != nil {
			return h.fail(c, *verr)
		}
		ep.APIVersion = v
	} else {
		v, err := h.cfg.Version(c)
		if err != nil || v.IsZero() {
			if err == nil {
				err = errors.New("the account has no pinned version")
			}
			return h.storeError(c, fmt.Errorf("webhooks: account version: %w", err))
		}
		ep.APIVersion = v
	}
	e, err := h.cfg.Store.CreateEndpoint(c.Request().Context(), ep)
	if err != nil {
		return h.storeError(c, err)
	}
	return c.JSON(http.StatusOK, toJSON(e))
}

func listParams(c echo.Context) (ListParams, *apiError) {
	lp := ListParams{StartingAfter: c.QueryParam("starting_after")}
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			e := badRequest("limit", "limit must be an integer from 1 to 100, got %q", clip(s))
			return lp, &e
		}
		lp.Limit = n
	}
	return lp, nil
}

// List handles GET /webhook_endpoints.
func (h *Handlers) List(c echo.Context) error {
	account, err := h.account(c)
	if account == "" {
		return err
	}
	lp, perr := listParams(c)
	if perr != nil {
		return h.fail(c, *perr)
	}
	es, more, err := h.cfg.Store.ListEndpoints(c.Request().Context(), account, lp)
	if err != nil {
		return h.storeError(c, err)
	}
	out := listJSON[endpointJSON]{Object: "list", URL: "/v1/webhook_endpoints", HasMore: more, Data: []endpointJSON{}}
	for i := range es {
		out.Data = append(out.Data, toJSON(&es[i]))
	}
	return c.JSON(http.StatusOK, out)
}

// Retrieve handles GET /webhook_endpoints/:id.
func (h *Handlers) Retrieve(c echo.Context) error {
	account, err := h.account(c)
	if account == "" {
		return err
	}
	e, err := h.cfg.Store.GetEndpoint(c.Request().Context(), account, c.Param("id"))
	if err != nil {
		return h.storeError(c, err)
	}
	return c.JSON(http.StatusOK, toJSON(e))
}

// Update handles POST /webhook_endpoints/:id: parameters that are sent
// change, the others stay. A new url passes the same checks as at
// creation, the private-address check included.
func (h *Handlers) Update(c echo.Context) error {
	account, err := h.account(c)
	if account == "" {
		return err
	}
	p, perr := readParams(c)
	if perr != nil {
		return h.fail(c, *perr)
	}
	for k := range p.values {
		switch k {
		case "url", "api_version", "description", "enabled_events", "disabled":
		default:
			return h.fail(c, badRequest(k, "received unknown parameter: %s", k))
		}
	}
	for k := range p.lists {
		if k != "enabled_events" {
			return h.fail(c, badRequest(k, "received unknown parameter: %s", k))
		}
	}
	var u EndpointUpdate
	if v, ok := p.values["url"]; ok {
		if err := ValidateURL(v); err != nil {
			return h.fail(c, badRequest("url", "invalid url %q: it must be an absolute http or https URL", clip(v)))
		}
		u.URL = &v
	}
	if l := p.list("enabled_events"); l != nil {
		if len(l) == 0 || (len(l) == 1 && l[0] == "") {
			return h.fail(c, badRequest("enabled_events", "enabled_events cannot be empty: list event types or \"*\""))
		}
		for _, t := range l {
			if t != "*" && (!ValidEventType(t) || (h.types != nil && !h.types[t])) {
				return h.fail(c, badRequest("enabled_events", "invalid event type %q in enabled_events", clip(t)))
			}
		}
		u.EnabledEvents = l
	}
	if s, ok := p.values["api_version"]; ok {
		v, verr := h.version(s)
		if verr != nil {
			return h.fail(c, *verr)
		}
		u.APIVersion = &v
	}
	if d, ok := p.values["description"]; ok {
		u.Description = &d
	}
	if d, ok := p.values["disabled"]; ok {
		st := StatusEnabled
		switch d {
		case "true":
			st = StatusDisabled
		case "false":
		default:
			return h.fail(c, badRequest("disabled", "disabled must be true or false, got %q", clip(d)))
		}
		u.Status = &st
	}
	e, err := h.cfg.Store.UpdateEndpoint(c.Request().Context(), account, c.Param("id"), u)
	if err != nil {
		return h.storeError(c, err)
	}
	if h.cfg.Worker != nil && u.Status != nil && *u.Status == StatusEnabled {
		h.cfg.Worker.Notify() // its waiting deliveries are due
	}
	return c.JSON(http.StatusOK, toJSON(e))
}

// RollSecret handles POST /webhook_endpoints/:id/roll_secret.
func (h *Handlers) RollSecret(c echo.Context) error {
	account, err := h.account(c)
	if account == "" {
		return err
	}
	p, perr := readParams(c)
	if perr != nil {
		return h.fail(c, *perr)
	}
	for k := range p.values {
		if k != "expires_in" {
			return h.fail(c, badRequest(k, "received unknown parameter: %s", k))
		}
	}
	for k := range p.lists {
		return h.fail(c, badRequest(k, "received unknown parameter: %s", k))
	}
	overlap := 24 * time.Hour
	if s, ok := p.values["expires_in"]; ok {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || n > int64(MaxSecretOverlap/time.Second) {
			return h.fail(c, badRequest("expires_in", "expires_in must be a whole number of seconds from 0 to %d, got %q", int64(MaxSecretOverlap/time.Second), clip(s)))
		}
		overlap = time.Duration(n) * time.Second
	}
	e, err := h.cfg.Store.RollSecret(c.Request().Context(), account, c.Param("id"), overlap)
	if err != nil {
		return h.storeError(c, err)
	}
	return c.JSON(http.StatusOK, toJSON(e))
}

// Delete handles DELETE /webhook_endpoints/:id.
func (h *Handlers) Delete(c echo.Context) error {
	account, err := h.account(c)
	if account == "" {
		return err
	}
	id := c.Param("id")
	if err := h.cfg.Store.DeleteEndpoint(c.Request().Context(), account, id); err != nil {
		return h.storeError(c, err)
	}
	return c.JSON(http.StatusOK, map[string]any{"id": id, "object": "webhook_endpoint", "deleted": true})
}

// deliveryJSON is a webhook_delivery as the API shows it.
type deliveryJSON struct {
	ID            string        `json:"id"`
	Object        string        `json:"object"`
	Attempts      int           `json:"attempts"`
	Created       int64         `json:"created"`
	Endpoint      string        `json:"webhook_endpoint"`
	Event         string        `json:"event"`
	LastError     *string       `json:"last_error"`
	LastStatus    *int          `json:"last_http_status"`
	NextAttemptAt *int64        `json:"next_attempt_at"`
	Status        DeliveryState `json:"status"`
}

// ListDeliveries handles GET /webhook_endpoints/:id/deliveries.
func (h *Handlers) ListDeliveries(c echo.Context) error {
	account, err := h.account(c)
	if account == "" {
		return err
	}
	ctx := c.Request().Context()
	id := c.Param("id")
	if _, err := h.cfg.Store.GetEndpoint(ctx, account, id); err != nil {
		return h.storeError(c, err)
	}
	lp, perr := listParams(c)
	if perr != nil {
		return h.fail(c, *perr)
	}
	dp := DeliveryListParams{ListParams: lp, EndpointID: id, State: DeliveryState(c.QueryParam("status"))}
	switch dp.State {
	case "", StatePending, StateDelivered, StateFailed:
	default:
		return h.fail(c, badRequest("status", "status must be pending, delivered or failed"))
	}
	ds, more, err := h.cfg.Store.ListDeliveries(ctx, account, dp)
	if err != nil {
		return h.storeError(c, err)
	}
	out := listJSON[deliveryJSON]{Object: "list", URL: "/v1/webhook_endpoints/" + id + "/deliveries", HasMore: more, Data: []deliveryJSON{}}
	for _, d := range ds {
		j := deliveryJSON{ID: d.ID, Object: "webhook_delivery", Attempts: d.Attempts, Created: d.Created.Unix(),
			Endpoint: d.EndpointID, Event: d.EventID, Status: d.State}
		if d.LastError != "" {
			j.LastError = &d.LastError
		}
		if d.LastStatus != 0 {
			j.LastStatus = &d.LastStatus
		}
		if d.State == StatePending {
			n := d.NextAttemptAt.Unix()
			j.NextAttemptAt = &n
		}
		out.Data = append(out.Data, j)
	}
	return c.JSON(http.StatusOK, out)
}

// Resend handles POST /webhook_deliveries/:id/retry (and /resend): retry
// now.
func (h *Handlers) Resend(c echo.Context) error {
	account, err := h.account(c)
	if account == "" {
		return err
	}
	ctx := c.Request().Context()
	id := c.Param("id")
	if h.cfg.Worker != nil {
		err = h.cfg.Worker.Resend(ctx, account, id)
	} else {
		err = h.cfg.Store.Resend(ctx, account, id)
	}
	if err != nil {
		return h.storeError(c, err)
	}
	d, err := h.cfg.Store.GetDelivery(ctx, account, id)
	if err != nil {
		return h.storeError(c, err)
	}
	return c.JSON(http.StatusOK, map[string]any{"id": d.ID, "object": "webhook_delivery", "status": d.State, "attempts": d.Attempts})
}

// Test handles POST /webhook_endpoints/:id/test: it sends the stored event
// named by event, or a sample of type, rendered in api_version (the
// endpoint's own when absent), and reports the receiver's answer.
func (h *Handlers) Test(c echo.Context) error {
	account, err := h.account(c)
	if account == "" {
		return err
	}
	p, perr := readParams(c)
	if perr != nil {
		return h.fail(c, *perr)
	}
	var v versions.Version
	if s := p.values["api_version"]; s != "" {
		var verr *apiError
		if v, verr = h.version(s); verr != nil {
			return h.fail(c, *verr)
		}
	}
	ctx := c.Request().Context()
	id := c.Param("id")
	var res TestResult
	switch evID, typ := p.values["event"], p.values["type"]; {
	case evID != "":
		res, err = h.cfg.Worker.SendTestEvent(ctx, account, id, evID, v)
	case typ != "" && h.cfg.SampleEvent != nil:
		if !ValidEventType(typ) {
			return h.fail(c, badRequest("type", "invalid event type %q", clip(typ)))
		}
		var sample []byte
		if sample, err = h.cfg.SampleEvent(c, typ); err != nil {
			return h.fail(c, badRequest("type", "no sample event of type %q: %v", clip(typ), err))
		}
		res, err = h.cfg.Worker.SendTest(ctx, account, id, sample, v)
	case typ != "":
		return h.fail(c, badRequest("type", "sample events are not available; pass event=evt_..."))
	default:
		return h.fail(c, badRequest("event", "missing required param: event (or type)"))
	}
	if errors.Is(err, ErrRender) {
		return h.fail(c, badRequest("api_version", "%s", strings.TrimPrefix(err.Error(), "webhooks: ")))
	}
	if err != nil {
		return h.storeError(c, err)
	}
	out := map[string]any{
		"object": "webhook_test", "webhook_endpoint": id, "event": res.EventID,
		"api_version": res.APIVersion.String(), "delivered": res.Error == "",
		"http_status": nil, "error": nil,
	}
	if res.Status != 0 {
		out["http_status"] = res.Status
	}
	if res.Error != "" {
		out["error"] = res.Error
	}
	return c.JSON(http.StatusOK, out)
}
