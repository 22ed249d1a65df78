package idempotency

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
)

// The errors the middleware answers with. Each reaches echo as an
// *echo.HTTPError whose Message is an ErrorBody and whose Internal is one of
// these, so errors.Is(err, ErrKeyReused) works on what the middleware returns.
var (
	ErrKeyInUse     = errors.New("idempotency: key in use by a request still running")
	ErrKeyReused    = errors.New("idempotency: key reused with a different request")
	ErrInvalidKey   = errors.New("idempotency: invalid key")
	ErrBodyTooLarge = errors.New("idempotency: request body too large")
)

// The error codes of ErrorDetail.Code.
const (
	CodeKeyInUse   = "idempotency_key_in_use"
	CodeKeyReused  = "idempotency_key_reused"
	CodeInvalidKey = "idempotency_key_invalid"
	CodeTooLarge   = "request_body_too_large"
)

// ErrorBody is the JSON body of the middleware's errors, in Stripe's shape:
//
//	{"error":{"type":"idempotency_error","code":"idempotency_key_in_use","message":"..."}}
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the "error" object of an ErrorBody.
type ErrorDetail struct {
	// Type is "idempotency_error" for a key in use (409) or reused with
	// another request (400), and "invalid_request_error" for a bad key or
	// body.
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func httpError(status int, typ, code string, internal error, format string, args ...any) *echo.HTTPError {
	return &echo.HTTPError{
		Code:     status,
		Message:  ErrorBody{Error: ErrorDetail{Type: typ, Code: code, Message: fmt.Sprintf(format, args...)}},
		Internal: internal,
	}
}

func errInvalidKey(format string, args ...any) *echo.HTTPError {
	return httpError(http.StatusBadRequest, "invalid_request_error", CodeInvalidKey, ErrInvalidKey, format, args...)
}

func errInUse(header, key string) *echo.HTTPError {
	return httpError(http.StatusConflict, "idempotency_error", CodeKeyInUse, ErrKeyInUse,
		"There is currently another in-progress request using this %s (%q). Retry the request later.", header, key)
}

func errReused(header, key string, first, this Fingerprint) *echo.HTTPError {
	var what string
	switch {
	case first.Method != this.Method:
		what = fmt.Sprintf("was first used with method %s; this request uses %s", first.Method, this.Method)
	case first.Path != this.Path:
		what = fmt.Sprintf("was first used for %s %s; this request is for %s %s", first.Method, first.Path, this.Method, this.Path)
	default:
		what = fmt.Sprintf("was first used with different parameters for %s %s", first.Method, first.Path)
	}
	return httpError(http.StatusBadRequest, "idempotency_error", CodeKeyReused, ErrKeyReused,
		"Keys for idempotent requests can only be used with the same request: %s %q %s. Use a new key for a different request.",
		header, key, what)
}
