package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

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
// URL is copied before the query string is changed. It reports whether
// the query string changed.
func (m *core) upgrade(req *http.Request, v versions.Version) (queryChanged bool, err error) {
	if q := req.URL.RawQuery; q != "" {
		nq, err := m.walkForm(q, v, req.Method, req.URL.Path)
		if err != nil {
			return false, invalidBody("query string", err, v)
		}
		if nq != q {
			u := *req.URL
			u.RawQuery = nq
			req.URL = &u
			req.Form = nil
			queryChanged = true
		}
	}
	if req.Body == nil || req.Body == http.NoBody || req.ContentLength == 0 {
		return queryChanged, nil
	}
	ct := req.Header.Get("Content-Type")
	asJSON, asForm := isJSON(ct), isForm(ct)
	if !asJSON && !asForm {
		return queryChanged, nil
	}
	body, err := readBody(req.Body, m.MaxBodyBytes)
	if err != nil {
		return queryChanged, err
	}
	if len(body) == 0 { // a body of unknown length that was empty
		req.Body, req.ContentLength = http.NoBody, 0
		return queryChanged, nil
	}
	var out []byte
	if asJSON {
		out, err = m.walkJSON(body, v, req.Method, req.URL.Path)
	} else {
		var s string
		s, err = m.walkForm(string(body), v, req.Method, req.URL.Path)
		out = []byte(s)
	}
	if err != nil {
		return queryChanged, invalidBody("body", err, v)
	}
	req.Body = io.NopCloser(bytes.NewReader(out))
	req.ContentLength = int64(len(out))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(out)), nil }
	if req.Header.Get("Content-Length") != "" {
		req.Header.Set("Content-Length", strconv.Itoa(len(out)))
	}
	req.Form, req.PostForm = nil, nil
	return queryChanged, nil
}

func (m *core) walkJSON(body []byte, v versions.Version, method, path string) ([]byte, error) {
	var start time.Time
	if m.Metrics != nil {
		start = time.Now()
	}
	out, err := m.Engine.Upgrade(body, v, method, path)
	if m.Metrics != nil {
		m.Metrics.Walk(DirectionRequest, len(body), time.Since(start), err)
	}
	return out, err
}

func (m *core) walkForm(form string, v versions.Version, method, path string) (string, error) {
	var start time.Time
	if m.Metrics != nil {
		start = time.Now()
	}
	out, err := m.Engine.UpgradeForm(form, v, method, path)
	if m.Metrics != nil {
		m.Metrics.Walk(DirectionRequest, len(form), time.Since(start), err)
	}
	return out, err
}

// readBody reads a request body of at most max bytes.
func readBody(r io.Reader, max int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(mbe.Limit)
		}
		return nil, withMessage(ErrInvalidBody, err, "The request body could not be read.")
	}
	if int64(len(body)) > max {
		return nil, tooLarge(max)
	}
	return body, nil
}

func tooLarge(max int64) error {
	return withMessage(ErrBodyTooLarge, nil, fmt.Sprintf("The request body is larger than %d bytes.", max))
}

// invalidBody is the 400 for a request part that could not be walked
// forward from version v: ErrInvalidParam naming the parameter for a
// value of the wrong type, else ErrInvalidBody.
func invalidBody(part string, err error, v versions.Version) error {
	var msg string
	var terr *transform.Error
	var perr *transform.ParamError
	var cerr *transform.ConflictError
	if errors.As(err, &cerr) {
		return withParam(ErrInvalidParam, err, "parameters_exclusive", cerr.Old, fmt.Sprintf(
			"The request %s sends both %s and %s: at API version %s they are the old and the new name of one parameter; send only %s.",
			part, cerr.Old, cerr.New, v, cerr.Old))
	}
	if errors.As(err, &perr) {
		code := CodeParameterInvalid
		if perr.Want == gates.Integer {
			code = CodeParameterInvalidInteger
		}
		return withParam(ErrInvalidParam, err, code, perr.Param, fmt.Sprintf(
			"Invalid value for %s in the request %s: API version %s takes %s there, not %s.",
			perr.Param, part, v, perr.Want.Noun(), perr.Got))
	}
	switch {
	case errors.Is(err, transform.ErrSyntax):
		msg = fmt.Sprintf("Invalid JSON in the request %s: %v.", part, err)
	case errors.Is(err, transform.ErrTooDeep):
		msg = fmt.Sprintf("The request %s is nested too deeply.", part)
	case errors.Is(err, transform.ErrForm):
		msg = fmt.Sprintf("Invalid form-encoded request %s: %v.", part, err)
	case errors.As(err, &terr):
		msg = fmt.Sprintf("Invalid value in the request %s: %s: %s.", part, terr.Field, terr.Msg)
	default:
		msg = fmt.Sprintf("The request %s could not be read: %v.", part, err)
	}
	return withMessage(ErrInvalidBody, err, msg)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
