package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// upgrade walks a request sent at version v forward to the newest schema:
// its query string, and its body when it is JSON or a form. The endpoint
// patterns of the timeline's changes are matched against the request's
// method and URL path, for the query string as for the body. Path
// parameters are not walked: they carry identifiers, which versions do not
// rename; a route that changed is a new route.
//
// req is the middleware's own shallow copy of the client's request: its
// URL is copied before the query string is changed.
func (m *Versioning) upgrade(req *http.Request, v versions.Version, x *Exchange) error {
	var fired *gates.Fired
	if x != nil {
		fired = &x.Request
	}
	if q := req.URL.RawQuery; q != "" {
		nq, err := m.walkForm(q, v, req.Method, req.URL.Path, fired)
		if err != nil {
			return invalidBody("query string", err, v)
		}
		if nq != q {
			u := *req.URL
			u.RawQuery = nq
			req.URL = &u
			req.Form = nil
		}
	}
	if req.Body == nil || req.Body == http.NoBody || req.ContentLength == 0 {
		return nil
	}
	ct := req.Header.Get("Content-Type")
	asJSON, asForm := isJSON(ct), isForm(ct)
	if !asJSON && !asForm {
		return nil
	}
	body, err := readBody(req.Body, m.config.MaxBodyBytes)
	if err != nil {
		return err
	}
	if len(body) == 0 { // a body of unknown length that was empty
		req.Body, req.ContentLength = http.NoBody, 0
		return nil
	}
	var out []byte
	if asJSON {
		out, err = m.walkJSON(body, v, req.Method, req.URL.Path, fired)
	} else {
		var s string
		s, err = m.walkForm(string(body), v, req.Method, req.URL.Path, fired)
		out = []byte(s)
	}
	if err != nil {
		return invalidBody("body", err, v)
	}
	req.Body = io.NopCloser(bytes.NewReader(out))
	req.ContentLength = int64(len(out))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(out)), nil }
	if req.Header.Get("Content-Length") != "" {
		req.Header.Set("Content-Length", strconv.Itoa(len(out)))
	}
	req.Form, req.PostForm = nil, nil
	return nil
}

func (m *Versioning) walkJSON(body []byte, v versions.Version, method, path string, fired *gates.Fired) ([]byte, error) {
	var start time.Time
	if m.config.Metrics != nil {
		start = time.Now()
	}
	out, err := m.config.Engine.UpgradeFired(body, v, method, path, fired)
	if m.config.Metrics != nil {
		m.config.Metrics.Walk(DirectionRequest, len(body), time.Since(start), err)
	}
	return out, err
}

func (m *Versioning) walkForm(form string, v versions.Version, method, path string, fired *gates.Fired) (string, error) {
	var start time.Time
	if m.config.Metrics != nil {
		start = time.Now()
	}
	out, err := m.config.Engine.UpgradeFormFired(form, v, method, path, fired)
	if m.config.Metrics != nil {
		m.config.Metrics.Walk(DirectionRequest, len(form), time.Since(start), err)
	}
	return out, err
}

// readBody reads a request body of at most max bytes. An error reading
// it is the client's (apierror.FromBodyRead): 408 for a body slower than
// the server's read timeout, 413 over a limit, else 400.
func readBody(r io.Reader, max int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, apierror.FromBodyRead(err)
	}
	if int64(len(body)) > max {
		return nil, tooLarge(max)
	}
	return body, nil
}

func tooLarge(max int64) error {
	return ErrBodyTooLarge.With(fmt.Sprintf("The request body is larger than %d bytes.", max))
}

// invalidBody is the 400 for a request part that could not be walked
// forward from version v: ErrInvalidParam naming the parameter for a
// value of the wrong type, ErrParamConflict for a field sent under both
// its old and its new name, else ErrInvalidBody. What it repeats of the
// request is bounded (apierror.Bound).
func invalidBody(part string, err error, v versions.Version) error {
	if perr, ok := errors.AsType[*transform.ParamError](err); ok {
		code := CodeParameterInvalid
		if perr.Want == gates.Integer {
			code = CodeParameterInvalidInteger
		}
		return ErrInvalidParam.Wrap(err).WithCode(code).WithParam(apierror.Bound(perr.Param)).With(fmt.Sprintf(
			"Invalid value for %s in the request %s: API version %s takes %s there, not %s.",
			apierror.Bound(perr.Param), part, v, perr.Want.Noun(), apierror.Bound(perr.Got)))
	}
	if cerr, ok := errors.AsType[*transform.ConflictError](err); ok {
		return ErrParamConflict.Wrap(err).WithParam(apierror.Bound(cerr.Old)).With(fmt.Sprintf(
			"The request %s has both %s and %s, the old and the new name of one field: send only %s at API version %s.",
			part, apierror.Bound(cerr.Old), apierror.Bound(cerr.New), apierror.Bound(cerr.Old), v))
	}
	switch {
	case errors.Is(err, transform.ErrTooDeep):
		return ErrInvalidBody.Wrap(err).With(fmt.Sprintf("The request %s is nested too deeply.", part))
	case errors.Is(err, transform.ErrSyntax):
		return ErrInvalidBody.Wrap(err).With(fmt.Sprintf("Invalid JSON in the request %s: %s.", part, apierror.Bound(err.Error())))
	case errors.Is(err, transform.ErrForm):
		return ErrInvalidBody.Wrap(err).With(fmt.Sprintf("Invalid form-encoded request %s: %s.", part, apierror.Bound(err.Error())))
	}
	if terr, ok := errors.AsType[*transform.Error](err); ok {
		return ErrInvalidBody.Wrap(err).With(fmt.Sprintf("Invalid value in the request %s: %s: %s.", part, apierror.Bound(terr.Field), apierror.Bound(terr.Msg)))
	}
	return ErrInvalidBody.Wrap(err).With(fmt.Sprintf("The request %s could not be read: %s.", part, apierror.Bound(err.Error())))
}
