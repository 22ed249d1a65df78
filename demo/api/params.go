package api

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/transform"
)

// maxParamBytes bounds a request body the handlers read.
const maxParamBytes = 1 << 20

// params are a request's parameters, from a JSON or form body (already in
// the newest schema: the versioning middleware walked them forward) and
// the query string.
type params struct {
	body  gjson.Result
	query gjson.Result
}

// The error codes of parameter errors, in Stripe's vocabulary.
const (
	codeParamInvalid        = "parameter_invalid"
	codeParamInvalidInteger = "parameter_invalid_integer"
	codeParamUnknown        = "parameter_unknown"
	codeParamMissing        = "parameter_missing"
)

// paramError is a 400 naming the parameter at fault.
type paramError struct {
	code, param, msg string
}

func (e *paramError) Error() string { return e.msg }

func invalid(param, format string, args ...any) *paramError {
	return &paramError{code: codeParamInvalid, param: param, msg: sprintf(format, args...)}
}

// missing is the error for a required parameter the request lacks.
func missing(param string) *paramError {
	return &paramError{code: codeParamMissing, param: param, msg: "Missing required param: " + param + "."}
}

// invalidInteger is the error for a parameter that is not an integer.
func invalidInteger(param, got string) *paramError {
	return &paramError{code: codeParamInvalidInteger, param: param, msg: fmt.Sprintf("Invalid integer: %s", apierror.Bound(got))}
}

// unknown is the error for a parameter the endpoint does not take.
func unknown(param string) *paramError {
	param = apierror.Bound(param)
	return &paramError{code: codeParamUnknown, param: param,
		msg: fmt.Sprintf("Received unknown parameter: %s", param)}
}

func readParams(c echo.Context) (*params, error) {
	req := c.Request()
	p := &params{}
	if q := req.URL.RawQuery; q != "" {
		js, err := transform.FormToJSON(q)
		if err != nil {
			return nil, invalid("", "invalid query string: %s", apierror.Bound(err.Error()))
		}
		p.query = gjson.ParseBytes(js)
	}
	if req.Body == nil || req.Method == http.MethodGet || req.Method == http.MethodDelete {
		return p, nil
	}
	// The versioning middleware bounds JSON and form bodies; a body of any
	// other type reaches the handler unread, so bound it here too.
	raw, err := io.ReadAll(io.LimitReader(req.Body, maxParamBytes+1))
	if err != nil {
		return nil, apierror.FromBodyRead(err)
	}
	if len(raw) > maxParamBytes {
		return nil, apierror.ErrBodyTooLarge.With(fmt.Sprintf("The request body is larger than %d bytes.", maxParamBytes))
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		return p, nil
	}
	ct, _, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	switch {
	case ct == echo.MIMEApplicationJSON || strings.HasSuffix(ct, "+json"):
		if !gjson.ValidBytes(raw) {
			return nil, invalid("", "invalid JSON body")
		}
		p.body = gjson.ParseBytes(raw)
		if !p.body.IsObject() {
			return nil, invalid("", "the JSON body must be an object")
		}
	default:
		js, err := transform.FormToJSON(string(raw))
		if err != nil {
			return nil, invalid("", "invalid form body: %s", apierror.Bound(err.Error()))
		}
		p.body = gjson.ParseBytes(js)
	}
	return p, nil
}

// readDeclared reads the request's parameters and refuses any the
// endpoint does not declare in endpointParams.
func readDeclared(c echo.Context) (*params, error) {
	p, err := readParams(c)
	if err != nil {
		return nil, err
	}
	if err := p.only(endpointParams[c.Request().Method+" "+c.Path()]); err != nil {
		return nil, err
	}
	return p, nil
}

// only refuses a top-level parameter, in the body or the query string,
// that is not expand nor in allowed.
func (p *params) only(allowed []string) error {
	var err error
	check := func(k, _ gjson.Result) bool {
		name := k.String()
		if name == "expand" || slices.Contains(allowed, name) {
			return true
		}
		err = unknown(name)
		return false
	}
	if p.query.IsObject() {
		p.query.ForEach(check)
	}
	if err == nil && p.body.IsObject() {
		p.body.ForEach(check)
	}
	return err
}

// get returns a body parameter, or a query parameter when the body has none.
func (p *params) get(path string) gjson.Result {
	if r := p.body.Get(path); r.Exists() {
		return r
	}
	return p.query.Get(path)
}

func (p *params) has(name string) bool { return p.get(name).Exists() }

func (p *params) str(name string, max int) (string, error) {
	r := p.get(name)
	switch {
	case !r.Exists() || r.Type == gjson.Null:
		return "", nil
	case r.Type != gjson.String && r.Type != gjson.Number:
		return "", invalid(name, "%s must be a string", name)
	}
	s := r.String()
	if len(s) > max {
		return "", invalid(name, "%s is longer than %d characters", name, max)
	}
	return s, nil
}

// integer reads an integer parameter strictly: a JSON integer, or a
// string of decimal digits with an optional sign. "12abc", "1.5" and
// "1e3" are refused with parameter_invalid_integer.
func (p *params) integer(name string) (int64, error) {
	r := p.get(name)
	var s string
	switch r.Type {
	case gjson.Number:
		s = r.Raw
	case gjson.String:
		s = r.Str
	default:
		return 0, invalidInteger(name, r.Raw)
	}
	if !isInteger(s) {
		return 0, invalidInteger(name, s)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, &paramError{code: codeParamInvalidInteger, param: name, msg: fmt.Sprintf("%s is out of range: %s", name, apierror.Bound(s))}
	}
	return n, nil
}

// isInteger reports whether s is an optional sign and decimal digits.
func isInteger(s string) bool {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// amount reads a positive amount of minor units. The newest schema sends
// it as a string of digits; a number is accepted too.
func (p *params) amount(name string, required bool) (int64, bool, error) {
	r := p.get(name)
	if !r.Exists() || r.Type == gjson.Null {
		if required {
			return 0, false, missing(name)
		}
		return 0, false, nil
	}
	n, err := p.integer(name)
	if err != nil {
		return 0, false, err
	}
	if n <= 0 {
		return 0, false, invalid(name, "%s must be a positive integer number of minor units, as a string: got %d", name, n)
	}
	return n, true, nil
}

func (p *params) boolean(name string) (bool, error) {
	r := p.get(name)
	switch {
	case !r.Exists():
		return false, nil
	case r.Type == gjson.True, r.String() == "true":
		return true, nil
	case r.Type == gjson.False, r.String() == "false", r.String() == "":
		return false, nil
	}
	return false, invalid(name, "%s must be true or false", name)
}

func (p *params) limit() (int, error) {
	r := p.get("limit")
	if !r.Exists() {
		return 10, nil
	}
	n, err := p.integer("limit")
	if err != nil {
		return 0, err
	}
	if n < 1 || n > 100 {
		return 0, invalid("limit", "limit must be an integer between 1 and 100")
	}
	return int(n), nil
}

// metadata returns the metadata to merge: values "" delete keys.
func (p *params) metadata() (map[string]string, error) {
	r := p.get("metadata")
	if !r.Exists() || r.Type == gjson.Null || (r.Type == gjson.String && r.Str == "") {
		return nil, nil
	}
	if !r.IsObject() {
		return nil, invalid("metadata", "metadata must be an object of strings")
	}
	m := map[string]string{}
	var err error
	r.ForEach(func(k, v gjson.Result) bool {
		if len(m) >= 50 {
			err = invalid("metadata", "metadata has more than 50 keys")
			return false
		}
		if len(k.String()) > 40 || len(v.String()) > 500 || v.IsObject() || v.IsArray() {
			err = invalid("metadata", "metadata keys are at most 40 characters and values at most 500")
			return false
		}
		m[k.String()] = v.String()
		return true
	})
	return m, err
}

// The bounds of expand[]: Stripe's four levels, and a number of paths
// that keeps one request's reads small.
const (
	maxExpandDepth = 4
	maxExpandPaths = 10
)

// expand lists the expand[] parameter, each path once. More than
// maxExpandPaths paths, a path deeper than maxExpandDepth levels (a list's
// "data." counts as one), or a value that is not a string is a 400 naming
// expand.
func (p *params) expand() ([]string, error) {
	r := p.get("expand")
	if !r.Exists() || r.Type == gjson.Null {
		return nil, nil
	}
	var items []gjson.Result
	switch {
	case r.IsArray():
		items = r.Array()
	case r.IsObject(): // expand[0]=a&expand[1]=b, as a form may send it
		r.ForEach(func(_, v gjson.Result) bool { items = append(items, v); return true })
	default:
		items = []gjson.Result{r}
	}
	var out []string
	for _, it := range items {
		if it.Type != gjson.String {
			return nil, invalid("expand", "expand must be a list of strings")
		}
		path := it.Str
		if path == "" || slices.Contains(out, path) {
			continue
		}
		if len(out) == maxExpandPaths {
			return nil, invalid("expand", "You cannot expand more than %d properties in one request.", maxExpandPaths)
		}
		if strings.Count(path, ".") >= maxExpandDepth || len(path) > 200 {
			return nil, invalid("expand", "You cannot expand more than %d levels of a property (%s).", maxExpandDepth, apierror.Bound(path))
		}
		out = append(out, path)
	}
	return out, nil
}
