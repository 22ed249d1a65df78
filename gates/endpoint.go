package gates

import (
	"fmt"
	"net/http"
	"strings"
)

// Endpoint is a method and a path pattern, such as "POST /v1/customers/:id".
// A segment starting with ':' matches any one non-empty path segment.
type Endpoint struct {
	Method string
	Path   string
}

// ParseEndpoint parses "METHOD /path".
func ParseEndpoint(s string) (Endpoint, error) {
	method, path, ok := strings.Cut(strings.TrimSpace(s), " ")
	path = strings.TrimSpace(path)
	if !ok || method == "" || path == "" {
		return Endpoint{}, fmt.Errorf("endpoint %q: want \"METHOD /path\"", s)
	}
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, "*":
	default:
		return Endpoint{}, fmt.Errorf("endpoint %q: unknown method %q", s, method)
	}
	if !strings.HasPrefix(path, "/") {
		return Endpoint{}, fmt.Errorf("endpoint %q: path must start with '/'", s)
	}
	return Endpoint{Method: method, Path: path}, nil
}

func (e Endpoint) String() string { return e.Method + " " + e.Path }

// Match reports whether a request's method and path match the endpoint. It
// does not allocate.
func (e Endpoint) Match(method, path string) bool {
	if e.Method != "*" && e.Method != method {
		return false
	}
	pat := e.Path
	for {
		if pat == "" || path == "" {
			return pat == path
		}
		if pat[0] != '/' || path[0] != '/' {
			return false
		}
		var ps, s string
		ps, pat = cutSegment(pat[1:])
		s, path = cutSegment(path[1:])
		if strings.HasPrefix(ps, ":") {
			if s == "" {
				return false
			}
		} else if ps != s {
			return false
		}
	}
}

// cutSegment splits p at its first '/': the segment before, and the rest
// from the '/' on. A trailing '/' is no rest, so "/v1/charges/" matches
// "/v1/charges".
func cutSegment(p string) (seg, rest string) {
	if i := strings.IndexByte(p, '/'); i >= 0 {
		if i == len(p)-1 {
			return p[:i], ""
		}
		return p[:i], p[i:]
	}
	return p, ""
}

// PathParams returns the values of the ':name' segments of path, which must
// match the endpoint.
func (e Endpoint) PathParams(path string) map[string]string {
	ps := strings.Split(strings.Trim(e.Path, "/"), "/")
	ss := strings.Split(strings.Trim(path, "/"), "/")
	if len(ps) != len(ss) {
		return nil
	}
	var m map[string]string
	for i, p := range ps {
		if strings.HasPrefix(p, ":") {
			if m == nil {
				m = map[string]string{}
			}
			m[p[1:]] = ss[i]
		}
	}
	return m
}
