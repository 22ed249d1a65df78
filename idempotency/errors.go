package idempotency

import (
	"fmt"
	"net/http"
	"time"

	"github.com/verso-api/verso/apierror"
)

// The error codes of the middleware's errors.
const (
	CodeKeyInUse   = "idempotency_key_in_use"
	CodeKeyReused  = "idempotency_key_reused"
	CodeInvalidKey = "idempotency_key_invalid"
)

// The errors the middleware answers with, through Config.ErrorHandler
// (apierror.Write by default, in the API's error shape). Each answer is
// derived from one of them, so errors.Is(err, ErrKeyReused) tells what
// happened whatever the message.
var (
	// ErrKeyInUse: another request holding the key is still running (409,
	// Retry-After: 1). Retrying later gets its saved response.
	ErrKeyInUse = apierror.New(http.StatusConflict, apierror.TypeIdempotency, CodeKeyInUse,
		"There is currently another in-progress request using this idempotency key. Retry the request later.").
		WithRetryAfter(time.Second)
	// ErrKeyReused: the key was first used with another request (400,
	// idempotency_error). Retrying cannot help: use a new key.
	ErrKeyReused = apierror.New(http.StatusBadRequest, apierror.TypeIdempotency, CodeKeyReused,
		"Keys for idempotent requests can only be used with the same request.")
	// ErrInvalidKey: the key header is empty, too long, not UTF-8 or sent
	// twice (400).
	ErrInvalidKey = apierror.New(http.StatusBadRequest, apierror.TypeInvalidRequest, CodeInvalidKey,
		"The idempotency key is invalid.")
	// ErrBodyTooLarge: the body is over Config.MaxBodyBytes (413); it is
	// apierror.ErrBodyTooLarge too.
	ErrBodyTooLarge = apierror.ErrBodyTooLarge.With("The request body is too large.")
	// ErrUnreadableBody: the request body could not be read (400). It is
	// apierror.ErrBodyUnreadable; a body slower than the server's read
	// timeout is apierror.ErrTimeout (408) instead.
	ErrUnreadableBody = apierror.ErrBodyUnreadable
	// ErrStore: the Store failed to claim the key (503 with Retry-After);
	// it is apierror.ErrUnavailable too. The cause is the store's error.
	ErrStore = apierror.ErrUnavailable.With("The idempotency key could not be checked; retry the request.")
	// ErrUnreadable: the response saved for the key could not be read,
	// such as a sealed body under another key (500).
	ErrUnreadable = apierror.ErrInternal.With("The saved response of this idempotency key could not be read.")
)

func errReused(header, key string, first, this Fingerprint) error {
	var what string
	switch {
	case first.Method != this.Method:
		what = fmt.Sprintf("was first used with method %s; this request uses %s", first.Method, this.Method)
	case first.Path != this.Path:
		what = fmt.Sprintf("was first used for %s %s; this request is for %s %s",
			first.Method, apierror.Bound(first.Path), this.Method, apierror.Bound(this.Path))
	default:
		what = fmt.Sprintf("was first used with different parameters for %s %s", first.Method, apierror.Bound(first.Path))
	}
	return ErrKeyReused.With(fmt.Sprintf(
		"Keys for idempotent requests can only be used with the same request: %s %q %s. Use a new key for a different request.",
		header, apierror.Bound(key), what))
}
