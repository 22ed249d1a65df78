package ratelimit

import (
	"fmt"
	"net/http"

	"github.com/verso-api/verso/apierror"
)

// The errors the middleware answers with, through Config.ErrorHandler
// (apierror.Write by default, in the API's error shape). Each answer is
// derived from one of them, so errors.Is(err, ErrRateLimited) tells a
// refused request whatever its message.
var (
	// ErrRateLimited: the bucket is empty (429, with Retry-After: whole
	// seconds until a token is back, at least 1).
	ErrRateLimited = apierror.New(http.StatusTooManyRequests, apierror.TypeRateLimit, "rate_limit",
		"Too many requests hit the API too quickly. Retry after the number of seconds in the Retry-After header, with exponential backoff.")
	// ErrStore: the Store failed (503 with Retry-After); it is
	// apierror.ErrUnavailable too. The cause is the store's error.
	ErrStore = apierror.ErrUnavailable.With("The rate limiter is unavailable; retry the request.")
	// ErrNoAddress: ClientAddr found no client address (400).
	ErrNoAddress = apierror.New(http.StatusBadRequest, apierror.TypeInvalidRequest, "client_address_unknown",
		"The client address could not be determined.")
)

// errorf returns a configuration error.
func errorf(format string, args ...any) error {
	return fmt.Errorf("ratelimit: "+format, args...)
}
