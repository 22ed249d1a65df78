package webhooks

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/verso-api/verso/versions"
)

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

// create handles POST /webhook_endpoints.
func (h *Handlers) create(w http.ResponseWriter, r *http.Request, account, _ string) error {
	p, err := readParams(r)
	if err != nil {
		return err
	}
	if err := p.only([]string{"url", "api_version", "description", "signature_scheme", "enabled_events"}, "enabled_events"); err != nil {
		return err
	}
	ep := EndpointParams{
		Account:       account,
		URL:           p.values["url"],
		EnabledEvents: p.list("enabled_events"),
		Description:   p.values["description"],
		Scheme:        Scheme(p.values["signature_scheme"]),
	}
	if ep.URL == "" {
		return missingParam("url")
	}
	if err := ValidateURL(ep.URL); err != nil {
		return badParam("url", "invalid url %q: it must be an absolute http or https URL", clip(ep.URL))
	}
	if len(ep.EnabledEvents) == 0 {
		return missingParam("enabled_events")
	}
	if err := h.checkTypes(ep.EnabledEvents); err != nil {
		return err
	}
	if s := p.values["api_version"]; s != "" {
		if ep.APIVersion, err = h.version(s); err != nil {
			return err
		}
	} else {
		v, err := h.cfg.Version(r)
		if err == nil && v.IsZero() {
			err = errors.New("the account has no pinned version")
		}
		if err != nil {
			return err // a 503 unless an API error
		}
		ep.APIVersion = v
	}
	e, err := h.cfg.Store.CreateEndpoint(r.Context(), ep)
	if err != nil {
		return err
	}
	return write(w, r, toJSON(e))
}

// checkTypes checks the event types of enabled_events.
func (h *Handlers) checkTypes(types []string) error {
	for _, t := range types {
		if t != "*" && (!ValidEventType(t) || (h.types != nil && !h.types[t])) {
			return badParam("enabled_events", "invalid event type %q in enabled_events", clip(t))
		}
	}
	return nil
}

// list handles GET /webhook_endpoints.
func (h *Handlers) list(w http.ResponseWriter, r *http.Request, account, _ string) error {
	lp, err := listParams(r)
	if err != nil {
		return err
	}
	es, more, err := h.cfg.Store.ListEndpoints(r.Context(), account, lp)
	if err != nil {
		return err
	}
	out := listJSON[endpointJSON]{Object: "list", URL: h.cfg.Prefix + "/webhook_endpoints", HasMore: more, Data: []endpointJSON{}}
	for i := range es {
		out.Data = append(out.Data, toJSON(&es[i]))
	}
	return write(w, r, out)
}

// retrieve handles GET /webhook_endpoints/{id}.
func (h *Handlers) retrieve(w http.ResponseWriter, r *http.Request, account, id string) error {
	e, err := h.cfg.Store.GetEndpoint(r.Context(), account, id)
	if err != nil {
		return err
	}
	return write(w, r, toJSON(e))
}

// update handles POST /webhook_endpoints/{id}: parameters that are sent
// change, the others stay. A new url passes the same checks as at
// creation, the private-address check included.
func (h *Handlers) update(w http.ResponseWriter, r *http.Request, account, id string) error {
	p, err := readParams(r)
	if err != nil {
		return err
	}
	if err := p.only([]string{"url", "api_version", "description", "enabled_events", "disabled"}, "enabled_events"); err != nil {
		return err
	}
	var u EndpointUpdate
	if v, ok := p.values["url"]; ok {
		if err := ValidateURL(v); err != nil {
			return badParam("url", "invalid url %q: it must be an absolute http or https URL", clip(v))
		}
		u.URL = &v
	}
	if l := p.list("enabled_events"); l != nil {
		if len(l) == 0 || (len(l) == 1 && l[0] == "") {
			return badParam("enabled_events", "enabled_events cannot be empty: list event types or \"*\"")
		}
		if err := h.checkTypes(l); err != nil {
			return err
		}
		u.EnabledEvents = l
	}
	if s, ok := p.values["api_version"]; ok {
		v, err := h.version(s)
		if err != nil {
			return err
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
			return badParam("disabled", "disabled must be true or false, got %q", clip(d))
		}
		u.Status = &st
	}
	e, err := h.cfg.Store.UpdateEndpoint(r.Context(), account, id, u)
	if err != nil {
		return err
	}
	if h.cfg.Worker != nil && u.Status != nil && *u.Status == StatusEnabled {
		h.cfg.Worker.Notify() // its waiting deliveries are due
	}
	return write(w, r, toJSON(e))
}

// rollSecret handles POST /webhook_endpoints/{id}/roll_secret.
func (h *Handlers) rollSecret(w http.ResponseWriter, r *http.Request, account, id string) error {
	p, err := readParams(r)
	if err != nil {
		return err
	}
	if err := p.only([]string{"expires_in"}); err != nil {
		return err
	}
	overlap := 24 * time.Hour
	if s, ok := p.values["expires_in"]; ok {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || n > int64(MaxSecretOverlap/time.Second) {
			return badParam("expires_in", "expires_in must be a whole number of seconds from 0 to %d, got %q", int64(MaxSecretOverlap/time.Second), clip(s))
		}
		overlap = time.Duration(n) * time.Second
	}
	e, err := h.cfg.Store.RollSecret(r.Context(), account, id, overlap)
	if err != nil {
		return err
	}
	return write(w, r, toJSON(e))
}

// delete handles DELETE /webhook_endpoints/{id}.
func (h *Handlers) delete(w http.ResponseWriter, r *http.Request, account, id string) error {
	if err := h.cfg.Store.DeleteEndpoint(r.Context(), account, id); err != nil {
		return err
	}
	return write(w, r, map[string]any{"id": id, "object": "webhook_endpoint", "deleted": true})
}

// listDeliveries handles GET /webhook_endpoints/{id}/deliveries.
func (h *Handlers) listDeliveries(w http.ResponseWriter, r *http.Request, account, id string) error {
	ctx := r.Context()
	if _, err := h.cfg.Store.GetEndpoint(ctx, account, id); err != nil {
		return err
	}
	lp, err := listParams(r)
	if err != nil {
		return err
	}
	dp := DeliveryListParams{ListParams: lp, EndpointID: id, State: DeliveryState(r.URL.Query().Get("status"))}
	switch dp.State {
	case "", StatePending, StateDelivered, StateFailed:
	default:
		return badParam("status", "status must be pending, delivered or failed")
	}
	ds, more, err := h.cfg.Store.ListDeliveries(ctx, account, dp)
	if err != nil {
		return err
	}
	out := listJSON[deliveryJSON]{Object: "list", URL: h.cfg.Prefix + "/webhook_endpoints/" + id + "/deliveries", HasMore: more, Data: []deliveryJSON{}}
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
	return write(w, r, out)
}

// resend handles POST /webhook_deliveries/{id}/retry (and /resend): retry
// now.
func (h *Handlers) resend(w http.ResponseWriter, r *http.Request, account, id string) error {
	ctx := r.Context()
	var err error
	if h.cfg.Worker != nil {
		err = h.cfg.Worker.Resend(ctx, account, id)
	} else {
		err = h.cfg.Store.Resend(ctx, account, id)
	}
	if err != nil {
		return err
	}
	d, err := h.cfg.Store.GetDelivery(ctx, account, id)
	if err != nil {
		return err
	}
	return write(w, r, map[string]any{"id": d.ID, "object": "webhook_delivery", "status": d.State, "attempts": d.Attempts})
}

// test handles POST /webhook_endpoints/{id}/test: it sends the stored event
// named by event, or a sample of type, rendered in api_version (the
// endpoint's own when absent), and reports the receiver's answer.
func (h *Handlers) test(w http.ResponseWriter, r *http.Request, account, id string) error {
	p, err := readParams(r)
	if err != nil {
		return err
	}
	var v versions.Version
	if s := p.values["api_version"]; s != "" {
		if v, err = h.version(s); err != nil {
			return err
		}
	}
	ctx := r.Context()
	var res TestResult
	switch evID, typ := p.values["event"], p.values["type"]; {
	case evID != "":
		res, err = h.cfg.Worker.SendTestEvent(ctx, account, id, evID, v)
	case typ != "" && h.cfg.SampleEvent != nil:
		if !ValidEventType(typ) {
			return badParam("type", "invalid event type %q", clip(typ))
		}
		var sample []byte
		if sample, err = h.cfg.SampleEvent(r, typ); err != nil {
			return badParam("type", "no sample event of type %q: %v", clip(typ), err)
		}
		res, err = h.cfg.Worker.SendTest(ctx, account, id, sample, v)
	case typ != "":
		return badParam("type", "sample events are not available; pass event=evt_...")
	default:
		return missingParam("event")
	}
	var re *renderError
	if errors.As(err, &re) {
		return badParam("api_version", "%s", re.userMessage())
	}
	if err != nil {
		return err
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
	return write(w, r, out)
}
