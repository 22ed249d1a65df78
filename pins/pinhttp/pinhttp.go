package pinhttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// DefaultPath is where the handler answers unless Config.Path says
// otherwise.
const DefaultPath = "/v1/account/api_version"

// maxBodyBytes bounds the body of an upgrade: it holds one short parameter.
const maxBodyBytes = 64 << 10

// Config defines the config of the pin endpoints.
type Config struct {
	// Store keeps the pins. Required.
	Store pins.Store

	// Versions is the timeline of the API: the versions an account may
	// upgrade to, and the supported versions the pin lists. Required.
	Versions *versions.Timeline

	// Account returns the account of the request, from its authentication;
	// an empty account is answered with 401. An error is written by
	// ErrorHandler as it is. Required.
	Account func(*http.Request) (string, error)

	// Path is the path of the pin; the rollback is at Path + "/rollback".
	// Optional. Default value DefaultPath.
	Path string

	// RollbackWindow is the store's rollback window, shown as the pin's
	// rollback_until. Optional. Default value pins.DefaultRollbackWindow.
	RollbackWindow time.Duration

	// ErrorHandler writes errors (*apierror.Error values) in the API's
	// shape.
	// Optional. Default value apierror.Write: the shape of the request's
	// context.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// Logger gets store failures, which the client sees as a 503 with
	// Retry-After (ErrStore).
	// Optional. Default value slog.Default().
	Logger *slog.Logger
}

// Handler validates config, fills in defaults and returns the handler of
// the pin endpoints. Requests to other paths get 404, other methods 405.
func (config Config) Handler() (http.Handler, error) {
	switch {
	case config.Store == nil:
		return nil, errors.New("pinhttp: config has no Store")
	case config.Versions == nil:
		return nil, errors.New("pinhttp: config has no Versions")
	case config.Account == nil:
		return nil, errors.New("pinhttp: config has no Account")
	}
	if config.Path == "" {
		config.Path = DefaultPath
	}
	if !strings.HasPrefix(config.Path, "/") || strings.HasSuffix(config.Path, "/") {
		return nil, fmt.Errorf("pinhttp: path %q must start with / and not end with one", config.Path)
	}
	if config.RollbackWindow == 0 {
		config.RollbackWindow = pins.DefaultRollbackWindow
	}
	if config.ErrorHandler == nil {
		config.ErrorHandler = apierror.Write
	}
	if config.Logger == nil {
		config.Logger = slog.Default()
	}
	h := &handler{config: config}
	for _, v := range config.Versions.List() {
		h.supported = append(h.supported, v.String())
	}
	return h, nil
}

type handler struct {
	config    Config
	supported []string
}

// The pin of an account, as the endpoints show it.
type pinJSON struct {
	Object    string       `json:"object"`
	Version   string       `json:"version"`
	Previous  *string      `json:"previous_version"`
	PinnedAt  int64        `json:"pinned_at"`
	MovedAt   *int64       `json:"moved_at"`
	Rollback  *int64       `json:"rollback_until"`
	Supported []string     `json:"supported_versions"`
	History   []changeJSON `json:"history"`
}

type changeJSON struct {
	Kind string  `json:"kind"`
	From *string `json:"from"`
	To   string  `json:"to"`
	At   int64   `json:"at"`
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var op func(http.ResponseWriter, *http.Request, string) error
	allow := http.MethodPost
	switch r.URL.Path {
	case h.config.Path:
		allow = "GET, HEAD, POST"
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			op = h.show
		case http.MethodPost:
			op = h.upgrade
		}
	case h.config.Path + "/rollback":
		if r.Method == http.MethodPost {
			op = h.rollback
		}
	default:
		h.config.ErrorHandler(w, r, apierror.ErrNotFound.With(
			fmt.Sprintf("Unrecognized request URL (%s: %s).", apierror.Bound(r.Method), apierror.Bound(r.URL.Path))))
		return
	}
	if op == nil {
		w.Header().Set("Allow", allow)
		h.config.ErrorHandler(w, r, apierror.ErrMethodNotAllowed.With(
			fmt.Sprintf("Method %s is not allowed on %s.", apierror.Bound(r.Method), apierror.Bound(r.URL.Path))))
		return
	}
	account, err := h.config.Account(r)
	if err != nil {
		h.config.ErrorHandler(w, r, err)
		return
	}
	if account == "" {
		h.config.ErrorHandler(w, r, ErrNoAccount)
		return
	}
	if err := op(w, r, account); err != nil {
		h.fail(w, r, err)
	}
}

// show answers the account's pin, pinning it to the newest version first
// if it has none.
func (h *handler) show(w http.ResponseWriter, r *http.Request, account string) error {
	if _, err := readParams(r); err != nil {
		return err
	}
	p, _, err := h.config.Store.PinIfAbsent(r.Context(), account, h.config.Versions.NewestStable())
	if err != nil {
		return err
	}
	return h.write(w, r, p)
}

// upgrade moves the account's pin to a newer version.
func (h *handler) upgrade(w http.ResponseWriter, r *http.Request, account string) error {
	raw, err := readParams(r, "version")
	if err != nil {
		return err
	}
	if raw == "" {
		return paramError(CodeParamMissing, "version", "Missing required param: version.")
	}
	v, err := h.config.Versions.Resolve(raw)
	if err != nil {
		return invalid(err.Error())
	}
	ctx := r.Context()
	if _, _, err := h.config.Store.PinIfAbsent(ctx, account, h.config.Versions.NewestStable()); err != nil {
		return err
	}
	p, err := h.config.Store.Upgrade(ctx, account, v)
	if errors.Is(err, pins.ErrNotNewer) {
		return invalid(fmt.Sprintf("%s is not newer than the account's version %s; use rollback to go back", v, p.Version))
	}
	if err != nil {
		return err
	}
	return h.write(w, r, p)
}

// rollback returns the account to its previous version within the
// rollback window of an upgrade.
func (h *handler) rollback(w http.ResponseWriter, r *http.Request, account string) error {
	if _, err := readParams(r); err != nil {
		return err
	}
	p, err := h.config.Store.Rollback(r.Context(), account)
	switch {
	case errors.Is(err, pins.ErrNoPrevious), errors.Is(err, pins.ErrNotPinned):
		return ErrNoPrevious.Wrap(err)
	case errors.Is(err, pins.ErrRollbackExpired):
		return ErrRollbackExpired.With(fmt.Sprintf("The %s to roll back this upgrade have passed.", window(h.config.RollbackWindow))).Wrap(err)
	case err != nil:
		return err
	}
	return h.write(w, r, p)
}

// window says a rollback window in words: "72 hours".
func window(d time.Duration) string {
	if d > 0 && d%time.Hour == 0 {
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	return d.String()
}

func (h *handler) write(w http.ResponseWriter, r *http.Request, p pins.Pin) error {
	hist, err := h.config.Store.History(r.Context(), p.Account)
	if err != nil {
		return err
	}
	out := pinJSON{Object: "api_version_pin", Version: p.Version.String(), PinnedAt: p.PinnedAt.Unix(),
		Supported: h.supported, History: make([]changeJSON, 0, len(hist))}
	if !p.Previous.IsZero() {
		prev := p.Previous.String()
		out.Previous = &prev
		until := p.MovedAt.Add(h.config.RollbackWindow).Unix()
		out.Rollback = &until
	}
	if !p.MovedAt.IsZero() {
		m := p.MovedAt.Unix()
		out.MovedAt = &m
	}
	for _, ch := range hist {
		e := changeJSON{Kind: string(ch.Kind), To: ch.To.String(), At: ch.At.Unix()}
		if !ch.From.IsZero() {
			f := ch.From.String()
			e.From = &f
		}
		out.History = append(out.History, e)
	}
	body, err := json.Marshal(out)
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

// fail writes err: the handler's own errors as they are, anything else (a
// store failure) as a 503 with Retry-After that does not reveal it,
// logged.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apierror.Error
	if !errors.As(err, &ae) {
		h.config.Logger.ErrorContext(r.Context(), "pinhttp: request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		err = ErrStore.Wrap(err)
	}
	h.config.ErrorHandler(w, r, err)
}

// The errors of the pin endpoints, besides apierror's 404, 405 and 413;
// each answer is derived from one of them, for errors.Is.
var (
	// ErrNoAccount: the request has no account (401).
	ErrNoAccount = apierror.New(http.StatusUnauthorized, apierror.TypeInvalidRequest, "authentication_required",
		"A version pin belongs to an account: authenticate the request.")
	// ErrParam: a parameter is missing, unknown or invalid (400); its code
	// says which.
	ErrParam = apierror.New(http.StatusBadRequest, apierror.TypeInvalidRequest, CodeParamInvalid, "Invalid parameter.")
	// ErrNoPrevious: the pin has no previous version to roll back to (400).
	ErrNoPrevious = apierror.New(http.StatusBadRequest, apierror.TypeInvalidRequest, "rollback_unavailable",
		"There is no previous version to roll back to.")
	// ErrRollbackExpired: the rollback window of the last upgrade has
	// passed (400).
	ErrRollbackExpired = apierror.New(http.StatusBadRequest, apierror.TypeInvalidRequest, "rollback_expired",
		"The time to roll back this upgrade has passed.")
	// ErrStore: the store failed (503 with Retry-After); it is
	// apierror.ErrUnavailable too.
	ErrStore = apierror.ErrUnavailable.With("The version pin could not be read or changed; retry the request.")
)

// The error codes of parameter errors, in Stripe's vocabulary.
const (
	CodeParamInvalid = "parameter_invalid"
	CodeParamMissing = "parameter_missing"
	CodeParamUnknown = "parameter_unknown"
)

// paramError is a 400 about the parameter param ("" for the body as a
// whole).
func paramError(code, param, message string) error {
	return ErrParam.With(message).WithCode(code).WithParam(param)
}

// invalid is a 400 about the version parameter.
func invalid(message string) error { return paramError(CodeParamInvalid, "version", message) }

// readParams reads the parameters of r, from a JSON or form body and the
// query string, in Stripe's bracket syntax. It refuses any parameter but
// expand (which changes nothing here) and those allowed, and returns the
// value of the first allowed one ("" when absent).
func readParams(r *http.Request, allowed ...string) (string, error) {
	var raw []byte
	if r.Body != nil && r.Body != http.NoBody {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
		if err != nil {
			return "", paramError(CodeParamInvalid, "", fmt.Sprintf("could not read the request body: %v", err))
		}
		if len(b) > maxBodyBytes {
			return "", apierror.ErrBodyTooLarge.With(fmt.Sprintf("The request body is larger than %d bytes.", maxBodyBytes))
		}
		raw = b
	}
	var body, query gjson.Result
	if q := r.URL.RawQuery; q != "" {
		js, err := transform.FormToJSON(q)
		if err != nil {
			return "", paramError(CodeParamInvalid, "", fmt.Sprintf("invalid query string: %v", err))
		}
		query = gjson.ParseBytes(js)
	}
	if len(bytes.TrimSpace(raw)) > 0 {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct == "application/json" || strings.HasSuffix(ct, "+json") {
			if !gjson.ValidBytes(raw) {
				return "", paramError(CodeParamInvalid, "", "invalid JSON body")
			}
			body = gjson.ParseBytes(raw)
			if !body.IsObject() {
				return "", paramError(CodeParamInvalid, "", "the JSON body must be an object")
			}
		} else {
			js, err := transform.FormToJSON(string(raw))
			if err != nil {
				return "", paramError(CodeParamInvalid, "", fmt.Sprintf("invalid form body: %v", err))
			}
			body = gjson.ParseBytes(js)
		}
	}
	var err error
	check := func(k, _ gjson.Result) bool {
		name := k.String()
		if name == "expand" || slices.Contains(allowed, name) {
			return true
		}
		if len(name) > 64 {
			name = name[:64]
		}
		err = paramError(CodeParamUnknown, name, "Received unknown parameter: "+name)
		return false
	}
	for _, params := range []gjson.Result{query, body} {
		if err == nil && params.IsObject() {
			params.ForEach(check)
		}
	}
	if err != nil || len(allowed) == 0 {
		return "", err
	}
	v := body.Get(allowed[0])
	if !v.Exists() {
		v = query.Get(allowed[0])
	}
	switch {
	case !v.Exists() || v.Type == gjson.Null:
		return "", nil
	case v.Type != gjson.String:
		return "", paramError(CodeParamInvalid, allowed[0], allowed[0]+" must be a string")
	case len(v.Str) > 64:
		return "", paramError(CodeParamInvalid, allowed[0], allowed[0]+" is longer than 64 characters")
	}
	return v.Str, nil
}
