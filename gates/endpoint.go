package gates

import (
	"fmt"
	"net/http"
	"strings"
)

// Endpoint is a method and a path template, such as
// "POST /v1/customers/:id" or "GET /v1/users/{id}". A segment written
// ":name" or "{name}" matches any one non-empty path segment; every other
// segment matches itself. The method "*" matches any method.
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
	if err := checkTemplate(path); err != nil {
		return Endpoint{}, fmt.Errorf("endpoint %q: %w", s, err)
	}
	return Endpoint{Method: method, Path: path}, nil
}

// checkTemplate refuses path templates whose parameters are malformed:
// "{id" or "x{id}", an empty name, or a space or '?' anywhere.
func checkTemplate(path string) error {
	if strings.ContainsAny(path, " ?#") {
		return fmt.Errorf("path template %q has a space, '?' or '#'", path)
	}
	for _, seg := range strings.Split(path[1:], "/") {
		switch {
		case strings.HasPrefix(seg, ":"):
			if len(seg) == 1 {
				return fmt.Errorf("parameter ':' has no name")
			}
		case strings.ContainsAny(seg, "{}"):
			if len(seg) < 3 || seg[0] != '{' || seg[len(seg)-1] != '}' || strings.ContainsAny(seg[1:len(seg)-1], "{}") {
				return fmt.Errorf("segment %q: write a parameter as {name} or :name, alone in its segment", seg)
			}
		}
	}
	return nil
}

func (e Endpoint) String() string { return e.Method + " " + e.Path }

// IsParam reports whether seg, one segment of a path template, is a
// parameter: ":id" or "{id}".
func IsParam(seg string) bool {
	return len(seg) > 1 && seg[0] == ':' || len(seg) > 2 && seg[0] == '{' && seg[len(seg)-1] == '}'
}

// paramName returns the name of a parameter segment: "id" for ":id" and
// "{id}".
func paramName(seg string) string {
	if seg[0] == ':' {
		return seg[1:]
	}
	return seg[1 : len(seg)-1]
}

// Match reports whether a request's method and path match the endpoint.
// It does not allocate.
func (e Endpoint) Match(method, path string) bool {
	if e.Method != "*" && e.Method != method {
		return false
	}
	return MatchPath(e.Path, path)
}

// MatchPath reports whether the path template pat ("/v1/users/{id}")
// matches the request path. It does not allocate.
func MatchPath(pat, path string) bool {
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
		if IsParam(ps) {
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

// PathParams returns the values of the parameter segments of path, which
// must match the endpoint, by name (without ':' or braces).
func (e Endpoint) PathParams(path string) map[string]string {
	ps := strings.Split(strings.Trim(e.Path, "/"), "/")
	ss := strings.Split(strings.Trim(path, "/"), "/")
	if len(ps) != len(ss) {
		return nil
	}
	var m map[string]string
	for i, p := range ps {
		if IsParam(p) {
			if m == nil {
				m = map[string]string{}
			}
			m[paramName(p)] = ss[i]
		}
	}
	return m
}
