package apierror

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The error types of Error.Type, as Stripe names them.
const (
	TypeInvalidRequest = "invalid_request_error"
	TypeAPI            = "api_error"
	TypeIdempotency    = "idempotency_error"
	TypeRateLimit      = "rate_limit_error"
	TypeAuthentication = "authentication_error"
	TypeCard           = "card_error"
)

// Error is an error answered to an API client: an HTTP status and the
// fields every error shape is written from (see Shape). Err is the cause,
// for errors.Is and errors.As and for logs; a client never sees it.
//
// Values derived from a sentinel with With, WithParam, WithCode or Wrap
// keep the sentinel's identity, so errors.Is(err, server.ErrInvalidVersion)
// holds for every invalid-version error whatever its message.
type Error struct {
	// Status is the HTTP status code, 400 to 599.
	Status int
	// Type is the kind of error (TypeInvalidRequest, TypeAPI, ...).
	Type string
	// Code is a short machine-readable code ("resource_missing").
	Code string
	// Message is for the person reading the response.
	Message string
	// Param names the request parameter the error is about, if any.
	Param string
	// Header holds response headers the error sets, such as Retry-After.
	Header http.Header
	// Err is the cause; never shown to the client.
	Err error

	kind *Error // the error this one was derived from
}

// New returns an Error. Packages declare their sentinels with it:
//
//	var ErrNoSuchUser = apierror.New(404, apierror.TypeInvalidRequest, "resource_missing", "No such user.")
func New(status int, typ, code, message string) *Error {
	return &Error{Status: status, Type: typ, Code: code, Message: message}
}

// Error returns the message, and the cause after a colon when there is one.
func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is e or one of the errors e was derived from:
// a sentinel, or a sentinel derived in turn from another one (such as
// ErrUnavailable, made with WithRetryAfter), so that errors.Is holds for
// every error derived from a package's sentinel variable.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	for k := e; k != nil; k = k.kind {
		if k == t {
			return true
		}
	}
	return false
}

// Kind returns the first error of the chain e was derived from (the one
// made with New), or e itself.
func (e *Error) Kind() *Error {
	k := e
	for k.kind != nil {
		k = k.kind
	}
	return k
}

// clone returns a copy of e derived from e, with its own Header.
func (e *Error) clone() *Error {
	c := *e
	c.kind = e
	if e.Header != nil {
		c.Header = e.Header.Clone()
	}
	return &c
}

// With returns a copy of e with message.
//
// With and Wrap are kept out of line: errors are the rare path, and
// inlined at the dozens of places that derive an error they cost 4 KB of
// an embedder's binary.
//
//go:noinline
func (e *Error) With(message string) *Error {
	c := e.clone()
	c.Message = message
	return c
}

// WithParam returns a copy of e about request parameter param.
func (e *Error) WithParam(param string) *Error {
	c := e.clone()
	c.Param = param
	return c
}

// WithCode returns a copy of e with code.
func (e *Error) WithCode(code string) *Error {
	c := e.clone()
	c.Code = code
	return c
}

// Wrap returns a copy of e whose cause is cause.
//
//go:noinline
func (e *Error) Wrap(cause error) *Error {
	c := e.clone()
	c.Err = cause
	return c
}

// WithHeader returns a copy of e that sets response header key to value.
func (e *Error) WithHeader(key, value string) *Error {
	c := e.clone()
	if c.Header == nil {
		c.Header = http.Header{}
	}
	c.Header.Set(key, value)
	return c
}

// WithRetryAfter returns a copy of e whose response carries Retry-After,
// in whole seconds, at least 1.
func (e *Error) WithRetryAfter(d time.Duration) *Error {
	s := int64((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return e.WithHeader("Retry-After", strconv.FormatInt(s, 10))
}

// Errors of any API, answered by packages that have none more precise.
var (
	// ErrInternal is a failure of the server (500); its message reveals
	// nothing of the cause.
	ErrInternal = New(http.StatusInternalServerError, TypeAPI, "api_error",
		"An internal error occurred. Please retry the request.")
	// ErrUnavailable is a dependency that does not answer, such as a
	// database going away (503 with Retry-After): retrying later helps.
	ErrUnavailable = New(http.StatusServiceUnavailable, TypeAPI, "service_unavailable",
		"The service is temporarily unavailable. Please retry the request.").WithRetryAfter(time.Second)
	// ErrBodyTooLarge is a request body over a limit (413).
	ErrBodyTooLarge = New(http.StatusRequestEntityTooLarge, TypeInvalidRequest, "request_body_too_large",
		"The request body is too large.")
	// ErrTimeout is a client too slow to send its request (408).
	ErrTimeout = New(http.StatusRequestTimeout, TypeInvalidRequest, "request_timeout",
		"The request was not received in time.")
	// ErrNotFound is a URL the API does not know (404).
	ErrNotFound = New(http.StatusNotFound, TypeInvalidRequest, "resource_missing",
		"Unrecognized request URL.")
	// ErrMethodNotAllowed is a method a URL does not take (405).
	ErrMethodNotAllowed = New(http.StatusMethodNotAllowed, TypeInvalidRequest, "method_not_allowed",
		"Method not allowed.")
)

// From returns err as an *Error: itself when it is or wraps one, 413 for
// an *http.MaxBytesError, and ErrInternal wrapping err for anything else,
// so that what a client sees of an unexpected error is a generic 500. It
// returns nil for a nil err.
func From(err error) *Error {
	if err == nil {
		return nil
	}
	if e, ok := errors.AsType[*Error](err); ok {
		if e.Status < 400 || e.Status > 599 {
			c := e.clone()
			c.Status = http.StatusInternalServerError
			return c
		}
		return e
	}
	if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return ErrBodyTooLarge.Wrap(err).With("The request body is larger than " + strconv.FormatInt(mbe.Limit, 10) + " bytes.")
	}
	return ErrInternal.Wrap(err)
}

// MaxEcho is how many characters of a client's own input an error message
// repeats (Bound).
const MaxEcho = 100

// Bound returns s for an error message: at most MaxEcho characters, the
// rest replaced by an ellipsis, and bytes that are not UTF-8 replaced, so
// that a client cannot make an error as large as what it sent.
func Bound(s string) string {
	if len(s) <= MaxEcho && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == MaxEcho {
			b.WriteString("…")
			return b.String()
		}
		b.WriteRune(r) // invalid bytes come as utf8.RuneError
		n++
	}
	return b.String()
}
