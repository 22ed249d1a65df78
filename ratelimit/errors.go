package ratelimit

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
)

// ErrRateLimited is the Internal error of the 429 the middleware returns,
// so errors.Is(err, ErrRateLimited) tells a refused request.
var ErrRateLimited = errors.New("ratelimit: too many requests")

// ErrStore is the Internal error of the 500 returned when the Store fails;
// the store's error is wrapped in it.
var ErrStore = errors.New("ratelimit: store failed")

// ErrorBody is the JSON body of the middleware's errors, in Stripe's shape:
//
//	{"error":{"type":"rate_limit_error","code":"rate_limit","message":"..."}}
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the "error" object of an ErrorBody.
type ErrorDetail struct {
	Type    string `json:"type"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
}

// DefaultMessage is the message of a 429 when Config.Message is empty.
const DefaultMessage = "Too many requests hit the API too quickly. Retry after the number of seconds in the Retry-After header, with exponential backoff."

// The body of the 500 for a failed store; boxed once.
var storeErrorBody any = ErrorBody{Error: ErrorDetail{Type: "api_error", Message: "The rate limiter is unavailable."}}

func storeError(err error) *echo.HTTPError {
	return &echo.HTTPError{Code: http.StatusInternalServerError, Message: storeErrorBody,
		Internal: errors.Join(ErrStore, err)}
}
