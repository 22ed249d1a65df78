package apierror

import (
	"errors"
	"net/http"
)

// ErrBodyUnreadable is a request body that could not be read to its end:
// the client went away, or sent fewer bytes than it announced or a broken
// chunked encoding (400). It is the client's fault, not a 5xx.
var ErrBodyUnreadable = New(http.StatusBadRequest, TypeInvalidRequest, "request_body_unreadable",
	"The request body could not be read: it ended before its length, or its encoding is broken.")

// FromBodyRead returns the error to answer for err, an error reading a
// request body: err itself when it is or wraps an *Error (as From does),
// 413 (ErrBodyTooLarge) for an *http.MaxBytesError, 408 (ErrTimeout) for
// a client slower than the server's read timeout (any error with a
// Timeout method reporting true, such as os.ErrDeadlineExceeded), and 400
// (ErrBodyUnreadable) for anything else. None of them is a 5xx: a body
// that does not arrive is the client's doing. It returns nil for a nil
// err.
//
//	body, err := io.ReadAll(r.Body)
//	if err != nil {
//		apierror.Write(w, r, apierror.FromBodyRead(err))
//		return
//	}
func FromBodyRead(err error) *Error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*Error](err); ok {
		return From(err)
	}
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return From(err)
	}
	if te, ok := errors.AsType[timeouter](err); ok && te.Timeout() {
		return ErrTimeout.Wrap(err)
	}
	return ErrBodyUnreadable.Wrap(err)
}

// timeouter is an error that can say it is a timeout, as net.Error and
// os.ErrDeadlineExceeded's errors do.
type timeouter interface {
	error
	Timeout() bool
}
