package echoversioning

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/verso-api/verso/apierror"
)

// ErrorHandler is an echo.HTTPErrorHandler that answers every error in the
// API's error shape (the one the versioning middleware put in the
// request's context; Stripe's without it): an *apierror.Error as it is,
// echo's own 404, 405 and 413 as apierror.ErrNotFound,
// ErrMethodNotAllowed and ErrBodyTooLarge, any other *echo.HTTPError
// with its status and message, anything else as a 500 that does not
// reveal it. It logs 5xx errors with slog.Default. Set it with
//
//	e.HTTPErrorHandler = echoversioning.ErrorHandler
//
// Like echo's default handler it does nothing once the response is
// committed, so a middleware may call c.Error and still return the error.
func ErrorHandler(err error, c echo.Context) { write(err, c, nil) }

// NewErrorHandler is ErrorHandler logging 5xx errors to logger (nil means
// slog.Default()).
func NewErrorHandler(logger *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) { write(err, c, logger) }
}

func write(err error, c echo.Context, logger *slog.Logger) {
	if c.Response().Committed {
		return
	}
	apierror.NewWriter(logger)(c.Response(), c.Request(), Convert(err, c.Request()))
}

// Convert returns err as an *apierror.Error: itself when it is or wraps
// one, echo's own errors (*echo.HTTPError) by their status and message
// (a 404 is apierror.ErrNotFound, a 405 ErrMethodNotAllowed, a 413
// ErrBodyTooLarge), and apierror.From's answer for anything else.
func Convert(err error, r *http.Request) *apierror.Error {
	var ae *apierror.Error
	if errors.As(err, &ae) {
		return apierror.From(err)
	}
	var he *echo.HTTPError
	if !errors.As(err, &he) {
		return apierror.From(err)
	}
	if inner, ok := he.Internal.(*echo.HTTPError); ok {
		he = inner // as echo's own handler answers
	}
	if he.Code < 400 || he.Code > 599 {
		return apierror.From(err)
	}
	var msg string
	switch m := he.Message.(type) {
	case string:
		msg = m
	case error:
		msg = m.Error()
	case echo.Map:
		msg, _ = m["message"].(string)
	}
	if msg == http.StatusText(he.Code) {
		msg = ""
	}
	var e *apierror.Error
	switch he.Code {
	case http.StatusNotFound:
		e = apierror.ErrNotFound
		if msg == "" {
			msg = fmt.Sprintf("Unrecognized request URL (%s: %s).", apierror.Bound(r.Method), apierror.Bound(r.URL.Path))
		}
	case http.StatusMethodNotAllowed:
		e = apierror.ErrMethodNotAllowed
		if msg == "" {
			msg = fmt.Sprintf("Method %s is not allowed on %s.", apierror.Bound(r.Method), apierror.Bound(r.URL.Path))
		}
	case http.StatusRequestEntityTooLarge:
		e = apierror.ErrBodyTooLarge
	default:
		typ := apierror.TypeInvalidRequest
		switch {
		case he.Code >= 500:
			typ = apierror.TypeAPI
		case he.Code == http.StatusTooManyRequests:
			typ = apierror.TypeRateLimit
		}
		e = apierror.New(he.Code, typ, codeFor(he.Code), http.StatusText(he.Code)+".")
	}
	cause := error(he)
	if he.Internal != nil {
		cause = he.Internal
	}
	e = e.Wrap(cause)
	if msg != "" {
		e = e.With(msg)
	}
	return e
}

// codeFor returns the code of an error of status that has none of its
// own: "authentication_required", "rate_limit", "api_error", else the
// status text in snake case ("conflict", "unprocessable_entity").
func codeFor(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "authentication_required"
	case status == http.StatusTooManyRequests:
		return "rate_limit"
	case status >= 500:
		return "api_error"
	}
	t := http.StatusText(status)
	if t == "" {
		return "invalid_request"
	}
	return strings.ReplaceAll(strings.ToLower(strings.NewReplacer("-", " ", "'", "").Replace(t)), " ", "_")
}
