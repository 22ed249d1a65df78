package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// The error types of ErrorDetail.Type, as Stripe names them.
const (
	TypeInvalidRequest = "invalid_request_error"
	TypeAPI            = "api_error"
	TypeIdempotency    = "idempotency_error"
)

// The error codes the versioning middleware and ErrorHandler use.
const (
	CodeVersionInvalid = "api_version_invalid"
	CodeBodyInvalid    = "body_invalid"
	// CodeParameterInvalid and CodeParameterInvalidInteger: a request
	// value is not of the type the client's version declared for it.
	CodeParameterInvalid        = "parameter_invalid"
	CodeParameterInvalidInteger = "parameter_invalid_integer"
	CodeBodyTooLarge            = "request_body_too_large"
	CodeResourceMissing         = "resource_missing"
	CodeMethodNotAllowed        = "method_not_allowed"
	CodeRateLimit               = "rate_limit"
	CodeAuthentication          = "authentication_required"
	CodeAPIError                = "api_error"
	CodeVersionSunset           = "api_version_sunset"
)

// ErrorBody is the JSON body of every error, in Stripe's shape:
//
//	{"error":{"type":"invalid_request_error","code":"api_version_invalid","message":"..."}}
//
// An *echo.HTTPError whose Message is an ErrorBody is written as it is by
// ErrorHandler.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the "error" object of an ErrorBody.
type ErrorDetail struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// Param names the request parameter the error is about, when there is one.
	Param string `json:"param,omitempty"`
}

// The errors the versioning middleware returns. Each is an *echo.HTTPError
// whose Message is an ErrorBody. What the middleware returns is a copy
// whose message says more (the supported versions, the offending offset)
// and whose Internal wraps both the var and the cause, so that
// errors.Is(err, server.ErrInvalidVersion) and
// errors.Is(err, versions.ErrUnknownVersion) both hold.
var (
	// ErrInvalidVersion: the version header names a malformed or
	// unsupported version (400). The message lists the supported versions.
	ErrInvalidVersion = NewError(http.StatusBadRequest, TypeInvalidRequest, CodeVersionInvalid, "invalid API version")
	// ErrInvalidBody: a request body is not valid JSON or form, or holds a
	// value that cannot be converted to the newest schema (400).
	ErrInvalidBody = NewError(http.StatusBadRequest, TypeInvalidRequest, CodeBodyInvalid, "invalid request body")
	// ErrInvalidParam: a request value (body, form or query string) is not
	// of the type the client's version declared for it, such as "seven"
	// or 7.5 where that version had an integer (400). The body's param
	// names it; the code is parameter_invalid_integer for an integer,
	// else parameter_invalid. The handler never sees the request.
	ErrInvalidParam = NewError(http.StatusBadRequest, TypeInvalidRequest, CodeParameterInvalid, "invalid parameter")
	// ErrBodyTooLarge: a request body is over VersioningConfig.MaxBodyBytes (413).
	ErrBodyTooLarge = NewError(http.StatusRequestEntityTooLarge, TypeInvalidRequest, CodeBodyTooLarge, "request body too large")
	// ErrRender: a response could not be rendered in the client's version
	// (500). The cause is logged; the client sees a generic message.
	ErrRender = NewError(http.StatusInternalServerError, TypeAPI, CodeAPIError, "the response could not be rendered in your API version")
	// ErrNoRoute: the endpoint does not exist at the version served (it
	// was added later, or removed or moved before): 404, as the router
	// answers a URL it does not know.
	ErrNoRoute = NewError(http.StatusNotFound, TypeInvalidRequest, CodeResourceMissing, "unrecognized request URL")
	// ErrVersionSunset: the version is past its sunset date and the
	// timeline's after_sunset policy refuses it (410). The message names
	// the version to move to.
	ErrVersionSunset = NewError(http.StatusGone, TypeInvalidRequest, CodeVersionSunset, "API version retired")
	// ErrInternal: a failure of the server, such as its pin store (500).
	ErrInternal = NewError(http.StatusInternalServerError, TypeAPI, CodeAPIError, "an internal error occurred; please retry the request")
)

// NewError returns an *echo.HTTPError with status and a Stripe-shaped
// body. Handlers may return it; ErrorHandler writes it.
//
//	return server.NewError(404, server.TypeInvalidRequest, "resource_missing", "No such customer: 'cus_123'")
func NewError(status int, typ, code, message string) *echo.HTTPError {
	return &echo.HTTPError{Code: status, Message: ErrorBody{Error: ErrorDetail{Type: typ, Code: code, Message: message}}}
}

// withMessage returns a copy of base with the message replaced and
// Internal wrapping base and cause.
func withMessage(base *echo.HTTPError, cause error, message string) *echo.HTTPError {
	b := base.Message.(ErrorBody)
	b.Error.Message = message
	internal := error(errWrap{base})
	if cause != nil {
		internal = fmt.Errorf("%w: %w", errWrap{base}, cause)
	}
	return &echo.HTTPError{Code: base.Code, Message: b, Internal: internal}
}

// withParam is withMessage for an error about one request parameter: the
// body's code and param are set too.
func withParam(base *echo.HTTPError, cause error, code, param, message string) *echo.HTTPError {
	he := withMessage(base, cause, message)
	b := he.Message.(ErrorBody)
	b.Error.Code, b.Error.Param = code, param
	he.Message = b
	return he
}

// errWrap lets an *echo.HTTPError var sit in an error chain and be found by
// errors.Is without making it the Internal *echo.HTTPError that echo's
// default error handler would unwrap into.
type errWrap struct{ he *echo.HTTPError }

func (e errWrap) Error() string {
	if b, ok := e.he.Message.(ErrorBody); ok {
		return b.Error.Message
	}
	return fmt.Sprint(e.he.Message)
}

func (e errWrap) Is(target error) bool { return target == e.he }

// Error writes a Stripe-shaped error body with status. HEAD requests get
// the status alone.
//
//	return server.Error(c, http.StatusNotFound, server.TypeInvalidRequest, "resource_missing", "No such customer: 'cus_123'")
func Error(c echo.Context, status int, typ, code, message string) error {
	return writeError(c, status, ErrorBody{Error: ErrorDetail{Type: typ, Code: code, Message: message}})
}

func writeError(c echo.Context, status int, body any) error {
	if c.Request().Method == http.MethodHead {
		return c.NoContent(status)
	}
	return c.JSON(status, body)
}

// ErrorHandler is an echo.HTTPErrorHandler that answers every error with a
// Stripe-shaped body: the middleware's errors, handlers' errors, and echo's
// own 404, 405 and 413. It logs 5xx errors with slog.Default. Set it with
//
//	e.HTTPErrorHandler = server.ErrorHandler
//
// Like echo's default handler it does nothing once the response is
// committed, so middleware may call c.Error and still return the error.
func ErrorHandler(err error, c echo.Context) { defaultErrorHandler(err, c) }

var defaultErrorHandler = NewErrorHandler(nil)

// NewErrorHandler is ErrorHandler logging 5xx errors to logger (nil means
// slog.Default()).
func NewErrorHandler(logger *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		status, body := ErrorResponse(err, c.Request())
		if status >= 500 {
			l := logger
			if l == nil {
				l = slog.Default()
			}
			l.ErrorContext(c.Request().Context(), "request failed",
				"method", c.Request().Method, "path", c.Request().URL.Path, "status", status, "error", err)
		}
		var werr error
		if raw, ok := body.(json.RawMessage); ok {
			werr = writeRaw(c, status, raw)
		} else {
			werr = writeError(c, status, body)
		}
		if werr != nil && logger != nil {
			logger.WarnContext(c.Request().Context(), "writing error response", "error", werr)
		}
	}
}

// WriteError writes err on w in the API's error shape, as ErrorHandler
// does for echo: the middleware's errors and any *echo.HTTPError (NewError)
// with their status and body, any other error as a 500 that does not
// reveal it. HEAD requests get the status alone. It is the net/http
// middleware's default Config.ErrorHandler, and handlers may use it too.
//
//	server.WriteError(w, r, server.NewError(404, server.TypeInvalidRequest, "resource_missing", "No such user: 'u_9'"))
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := ErrorResponse(err, r)
	if status >= 500 {
		slog.Default().ErrorContext(r.Context(), "request failed",
			"method", r.Method, "path", r.URL.Path, "status", status, "error", err)
	}
	var raw []byte
	if rm, ok := body.(json.RawMessage); ok {
		raw = rm
	} else {
		raw = mustJSON(body)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(raw)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(raw)
	}
}

func writeRaw(c echo.Context, status int, raw []byte) error {
	if c.Request().Method == http.MethodHead {
		return c.NoContent(status)
	}
	return c.JSONBlob(status, raw)
}

// ErrorResponse returns the status and the JSON body (an ErrorBody, or a
// json.RawMessage already in Stripe's shape) that ErrorHandler writes for
// err on req. Errors that are not *echo.HTTPError are 500s whose message
// does not reveal them.
func ErrorResponse(err error, req *http.Request) (int, any) {
	var he *echo.HTTPError
	if !errors.As(err, &he) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return http.StatusRequestEntityTooLarge, errorBody(http.StatusRequestEntityTooLarge,
				fmt.Sprintf("The request body is larger than %d bytes.", mbe.Limit), req)
		}
		return http.StatusInternalServerError, ErrInternal.Message
	}
	if inner, ok := he.Internal.(*echo.HTTPError); ok {
		he = inner
	}
	status := he.Code
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	switch m := he.Message.(type) {
	case ErrorBody:
		return status, m
	case *ErrorBody:
		if m != nil {
			return status, *m
		}
	case string:
		return status, errorBody(status, m, req)
	case error:
		return status, errorBody(status, m.Error(), req)
	case echo.Map:
		if s, ok := m["message"].(string); ok {
			return status, errorBody(status, s, req)
		}
	case map[string]any:
		if s, ok := m["message"].(string); ok {
			return status, errorBody(status, s, req)
		}
	case nil:
		return status, errorBody(status, http.StatusText(status), req)
	}
	raw, merr := json.Marshal(he.Message)
	if merr != nil {
		return status, errorBody(status, http.StatusText(status), req)
	}
	if isErrorShape(raw) {
		return status, json.RawMessage(raw)
	}
	return status, errorBody(status, string(raw), req)
}

// isErrorShape reports whether raw is a JSON object whose "error" member is
// an object: a body already in Stripe's shape (the idempotency
// middleware's, say).
func isErrorShape(raw []byte) bool {
	var probe struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(raw, &probe) != nil {
		return false
	}
	e := bytes.TrimSpace(probe.Error)
	return len(e) > 0 && e[0] == '{'
}

// errorBody builds the body for a status and a plain message.
func errorBody(status int, message string, req *http.Request) ErrorBody {
	d := ErrorDetail{Type: TypeInvalidRequest, Code: codeFor(status), Message: message}
	if status >= 500 {
		d.Type = TypeAPI
	}
	if status == http.StatusNotFound && message == http.StatusText(http.StatusNotFound) && req != nil {
		d.Message = fmt.Sprintf("Unrecognized request URL (%s: %s).", req.Method, req.URL.Path)
	}
	if status == http.StatusMethodNotAllowed && message == http.StatusText(status) && req != nil {
		d.Message = fmt.Sprintf("Method %s is not allowed on %s.", req.Method, req.URL.Path)
	}
	return ErrorBody{Error: d}
}

// codeFor returns the error code for a status without one of its own.
func codeFor(status int) string {
	switch status {
	case http.StatusNotFound:
		return CodeResourceMissing
	case http.StatusMethodNotAllowed:
		return CodeMethodNotAllowed
	case http.StatusRequestEntityTooLarge:
		return CodeBodyTooLarge
	case http.StatusTooManyRequests:
		return CodeRateLimit
	case http.StatusUnauthorized:
		return CodeAuthentication
	}
	if status >= 500 {
		return CodeAPIError
	}
	t := http.StatusText(status)
	if t == "" {
		return "invalid_request"
	}
	return strings.ReplaceAll(strings.ToLower(strings.NewReplacer("-", " ", "'", "").Replace(t)), " ", "_")
}
