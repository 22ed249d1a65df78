package server

import (
	"net/http"

	"github.com/verso-api/verso/apierror"
)

// The error codes of the middleware's own errors.
const (
	CodeVersionInvalid = "api_version_invalid"
	CodeVersionSunset  = "api_version_sunset"
	CodeBodyInvalid    = "body_invalid"
	// CodeParameterInvalid and CodeParameterInvalidInteger: a request
	// value is not of the type the client's version declared for it.
	CodeParameterInvalid        = "parameter_invalid"
	CodeParameterInvalidInteger = "parameter_invalid_integer"
	// CodeParametersExclusive: a request sent one field under both its
	// old and its new name.
	CodeParametersExclusive = "parameters_exclusive"
)

// The errors the versioning middleware answers with. Each is an
// *apierror.Error; what the middleware writes is derived from one of them
// (its message says more: the supported versions, the parameter) with the
// cause wrapped, so that errors.Is(err, server.ErrInvalidVersion) and
// errors.Is(err, versions.ErrUnknownVersion) both hold. They are written
// in the API's error shape at the newest version and walked back to the
// client's, like a handler's errors.
var (
	// ErrInvalidVersion: the version header names a malformed or
	// unsupported version, or the account is pinned to a version no
	// longer served (400). The message lists the supported versions.
	ErrInvalidVersion = apierror.New(http.StatusBadRequest, apierror.TypeInvalidRequest, CodeVersionInvalid,
		"Invalid API version.")
	// ErrInvalidBody: a request body or query string is not valid JSON
	// or form, is nested too deeply, or holds a value that cannot be
	// converted to the newest schema (400).
	ErrInvalidBody = apierror.New(http.StatusBadRequest, apierror.TypeInvalidRequest, CodeBodyInvalid,
		"Invalid request body.")
	// ErrInvalidParam: a request value (body, form or query string) is not
	// of the type the client's version declared for it, such as "seven"
	// or 7.5 where that version had an integer (400). Its Param names it;
	// its code is parameter_invalid_integer for an integer, else
	// parameter_invalid. The handler never sees the request.
	ErrInvalidParam = apierror.New(http.StatusBadRequest, apierror.TypeInvalidRequest, CodeParameterInvalid,
		"Invalid parameter.")
	// ErrParamConflict: a request sent one field under both its old and
	// its new name (400, parameters_exclusive); the message names both,
	// Param the old one. The handler never sees the request.
	ErrParamConflict = apierror.New(http.StatusBadRequest, apierror.TypeInvalidRequest, CodeParametersExclusive,
		"A field was sent under both its old and its new name.")
	// ErrBodyTooLarge: a request body is over Config.MaxBodyBytes (413).
	// It is apierror.ErrBodyTooLarge.
	ErrBodyTooLarge = apierror.ErrBodyTooLarge
	// ErrRender: a response could not be rendered in the client's version
	// (500). The cause is logged; the client sees a generic message.
	ErrRender = apierror.ErrInternal.With("The response could not be rendered in your API version. Please report it.")
	// ErrNoRoute: the endpoint does not exist at the version served (it
	// was added later, or removed or moved before): 404
	// resource_missing, as the router answers a URL it does not know. It
	// is derived from apierror.ErrNotFound.
	ErrNoRoute = apierror.ErrNotFound.With("Unrecognized request URL at this API version.")
	// ErrVersionSunset: the version is past its sunset date and the
	// timeline's after_sunset policy refuses it (410). The message names
	// the version to move to.
	ErrVersionSunset = apierror.New(http.StatusGone, apierror.TypeInvalidRequest, CodeVersionSunset,
		"API version retired.")
	// ErrPinStore: the pin store failed (503 with Retry-After): retrying
	// later helps. It is derived from apierror.ErrUnavailable; the cause
	// is logged.
	ErrPinStore = apierror.ErrUnavailable.With("The API version of your account could not be read. Please retry the request.")
	// ErrInternal: a failure of the server (500). It is
	// apierror.ErrInternal.
	ErrInternal = apierror.ErrInternal
)
