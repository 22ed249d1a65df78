// Package reporthttp answers an account's upgrade report over HTTP: GET
// /v1/account/api_version/upgrade_report?to=V beside the pin endpoints of
// package pinhttp, as JSON for programs and as an HTML page for people.
//
//	h, err := reporthttp.Config{
//		Reporter: reporter, // reports.NewReporter(timeline, store, nil)
//		Pins:     pinStore,
//		Account:  func(r *http.Request) (string, error) { return accountFrom(r.Context()), nil },
//	}.Handler()
//	mux.Handle("GET /v1/account/api_version/upgrade_report", h)
//
// The report runs from the account's pin (the default version when it has
// none) to the version the to parameter names, the newest stable version
// when it names none. format=html, or an Accept header asking for
// text/html before JSON, answers the page.
package reporthttp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/reports"
	"github.com/verso-api/verso/versions"
)

// DefaultPath is where the handler answers unless Config.Path says
// otherwise.
const DefaultPath = "/v1/account/api_version/upgrade_report"

// PinReader is what the handler asks of a pin store: an account's pin, or
// an error wrapping pins.ErrNotPinned. Every pins.Store is one.
type PinReader interface {
	Get(ctx context.Context, account string) (pins.Pin, error)
}

// Config defines the config of the report endpoint.
type Config struct {
	// Reporter makes the reports. Required.
	Reporter *reports.Reporter

	// Account returns the account of the request, from its
	// authentication; an empty account is answered with 401. An error is
	// written by ErrorHandler as it is. Required.
	Account func(*http.Request) (string, error)

	// Pins gives each account's version: the report runs from its pin.
	// Optional. Default value nil: every account is at DefaultVersion.
	Pins PinReader

	// DefaultVersion is the version of an account with no pin (the
	// versioning middleware's server.Config.DefaultVersion).
	// Optional. Default value the newest stable version.
	DefaultVersion versions.Version

	// Path is where the handler answers.
	// Optional. Default value DefaultPath.
	Path string

	// ChangelogURL is where the changelog lives: the HTML page links each
	// change to its entry.
	// Optional. Default value "": no links.
	ChangelogURL string

	// ErrorHandler writes errors (*apierror.Error values) in the API's
	// shape.
	// Optional. Default value apierror.Write.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// Logger gets store failures, which the client sees as a 503 with
	// Retry-After (ErrStore).
	// Optional. Default value slog.Default().
	Logger *slog.Logger
}

// Errors of the endpoint, besides apierror's 404 and 405; each answer is
// derived from one of them, for errors.Is.
var (
	// ErrNoAccount: the request has no account (401).
	ErrNoAccount = apierror.New(http.StatusUnauthorized, apierror.TypeInvalidRequest, "authentication_required",
		"An upgrade report belongs to an account: authenticate the request.")
	// ErrParam: a parameter is unknown or invalid (400); its code and
	// param say which.
	ErrParam = apierror.New(http.StatusBadRequest, apierror.TypeInvalidRequest, "parameter_invalid", "Invalid parameter.")
	// ErrStore: a store failed (503 with Retry-After).
	ErrStore = apierror.ErrUnavailable.With("The upgrade report could not be made; retry the request.")
)

// Handler validates config, fills in defaults and returns the handler.
// Requests to other paths get 404, methods other than GET and HEAD 405.
func (config Config) Handler() (http.Handler, error) {
	switch {
	case config.Reporter == nil:
		return nil, errors.New("reporthttp: config has no Reporter")
	case config.Account == nil:
		return nil, errors.New("reporthttp: config has no Account")
	}
	vt := config.Reporter.Timeline().Versions()
	if config.DefaultVersion.IsZero() {
		config.DefaultVersion = vt.NewestStable()
	} else if !vt.Contains(config.DefaultVersion) {
		return nil, fmt.Errorf("reporthttp: DefaultVersion %s is not a version of the timeline", config.DefaultVersion)
	}
	if config.Path == "" {
		config.Path = DefaultPath
	}
	if !strings.HasPrefix(config.Path, "/") {
		return nil, fmt.Errorf("reporthttp: path %q must start with /", config.Path)
	}
	if config.ErrorHandler == nil {
		config.ErrorHandler = apierror.Write
	}
	if config.Logger == nil {
		config.Logger = slog.Default()
	}
	return &handler{config: config, vt: vt}, nil
}

type handler struct {
	config Config
	vt     *versions.Timeline
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != h.config.Path {
		h.config.ErrorHandler(w, r, apierror.ErrNotFound.With(
			fmt.Sprintf("Unrecognized request URL (%s: %s).", apierror.Bound(r.Method), apierror.Bound(r.URL.Path))))
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
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
	if err := h.serve(w, r, account); err != nil {
		var ae *apierror.Error
		if !errors.As(err, &ae) {
			h.config.Logger.ErrorContext(r.Context(), "reporthttp: report failed", "error", err)
			err = ErrStore.Wrap(err)
		}
		h.config.ErrorHandler(w, r, err)
	}
}

func (h *handler) serve(w http.ResponseWriter, r *http.Request, account string) error {
	to, html, err := h.params(r)
	if err != nil {
		return err
	}
	from := h.config.DefaultVersion
	if h.config.Pins != nil {
		p, err := h.config.Pins.Get(r.Context(), account)
		switch {
		case err == nil:
			from = p.Version
		case !errors.Is(err, pins.ErrNotPinned):
			return err
		}
	}
	if !h.vt.Contains(from) {
		return paramError("parameter_invalid", "to", fmt.Sprintf("Your account is pinned to %s, which this server no longer supports.", from))
	}
	if !to.IsZero() && to.Before(from) {
		return paramError("parameter_invalid", "to", fmt.Sprintf("%s is older than your account's version %s: a report goes to a newer version.", to, from))
	}
	rep, err := h.config.Reporter.Report(r.Context(), account, from, to)
	if err != nil {
		return err
	}
	var body []byte
	ct := "application/json"
	if html {
		var b strings.Builder
		if err := rep.WriteHTML(&b, &reports.HTMLOptions{ChangelogURL: h.config.ChangelogURL}); err != nil {
			return err
		}
		body, ct = []byte(b.String()), "text/html; charset=utf-8"
	} else if body, err = rep.JSON(); err != nil {
		return err
	}
	hd := w.Header()
	hd.Set("Content-Type", ct)
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	hd.Set("Cache-Control", "private, no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	return nil
}

// params reads the query string: to (a version) and format (json or
// html); any other parameter is refused.
func (h *handler) params(r *http.Request) (to versions.Version, html bool, err error) {
	q, perr := url.ParseQuery(r.URL.RawQuery)
	if perr != nil {
		return to, false, paramError("parameter_invalid", "", "Invalid query string.")
	}
	for k, vs := range q {
		switch k {
		case "to", "format":
			if len(vs) > 1 {
				return to, false, paramError("parameter_invalid", k, fmt.Sprintf("%s is given %d times.", k, len(vs)))
			}
		default:
			name := apierror.Bound(k)
			return to, false, paramError("parameter_unknown", name, "Received unknown parameter: "+name)
		}
	}
	if s := q.Get("to"); s != "" {
		if to, err = h.vt.Resolve(s); err != nil {
			return to, false, paramError("parameter_invalid", "to", fmt.Sprintf("Invalid version %q: %s. Supported versions: %s.",
				apierror.Bound(s), problem(err), h.vt.Supported()))
		}
	}
	switch f := q.Get("format"); f {
	case "json":
	case "html":
		html = true
	case "":
		html = prefersHTML(r.Header.Get("Accept"))
	default:
		return to, false, paramError("parameter_invalid", "format", fmt.Sprintf("Invalid format %q: json or html.", apierror.Bound(f)))
	}
	return to, html, nil
}

func problem(err error) string {
	if errors.Is(err, versions.ErrUnknownVersion) {
		return "this version is not supported"
	}
	return "a version is a date, YYYY-MM-DD, with an optional .name"
}

// prefersHTML reports whether an Accept header names text/html before
// any JSON type, as a browser's does.
func prefersHTML(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, _, _ := strings.Cut(part, ";")
		switch mt = strings.ToLower(strings.TrimSpace(mt)); {
		case mt == "text/html":
			return true
		case mt == "application/json", strings.HasSuffix(mt, "+json"):
			return false
		}
	}
	return false
}

func paramError(code, param, message string) error {
	return ErrParam.With(message).WithCode(code).WithParam(param)
}
