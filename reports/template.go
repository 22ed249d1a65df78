package reports

import (
	"net/http"
	"strings"
)

// Template returns the endpoint template of a request that no router
// named: its method and URL path, each path segment that looks like an
// identifier replaced by ":id", so that no identifier is kept.
//
//	Template("GET", "/v1/customers/cus_NffrFeUfNV2Hib") // "GET /v1/customers/:id"
//
// A segment is kept when it is a plain word: lower-case letters, '_' and
// '-' (and "v1", "v2"... for version prefixes), not longer than 40 bytes,
// and not shaped like a prefixed identifier ("cus_abcdefgh": a short
// prefix, '_', and 8 bytes or more). Any other segment (digits, capitals,
// dots, escapes) is an identifier.
func Template(method, path string) string {
	var b strings.Builder
	b.Grow(len(method) + 1 + len(path))
	b.WriteString(templateMethod(method))
	b.WriteByte(' ')
	if !strings.HasPrefix(path, "/") {
		b.WriteByte('/')
	}
	for i, seg := range strings.Split(path, "/") {
		if i > 0 {
			b.WriteByte('/')
		}
		if identifier(seg) {
			b.WriteString(":id")
		} else {
			b.WriteString(seg)
		}
	}
	return bound(b.String())
}

// templateMethod keeps the methods an API serves and names any other
// "OTHER", so that a client cannot choose what is kept.
func templateMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// identifier reports whether a path segment looks like an identifier.
func identifier(seg string) bool {
	if seg == "" {
		return false
	}
	if len(seg) > 40 {
		return true
	}
	if len(seg) >= 2 && seg[0] == 'v' && allDigits(seg[1:]) {
		return false
	}
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if !(c >= 'a' && c <= 'z' || c == '_' || c == '-') {
			return true
		}
	}
	if i := strings.IndexByte(seg, '_'); i > 0 && i <= 5 && len(seg)-i-1 >= 8 && !strings.Contains(seg[i+1:], "_") {
		return true
	}
	return false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// fromPattern turns a router's pattern into a template: "GET
// /v1/customers/{id}" (http.ServeMux) and "/v1/customers/:id" (echo, with
// method) both give "GET /v1/customers/:id". A pattern with a host keeps
// its path only.
func fromPattern(method, pattern string) string {
	if m, p, ok := strings.Cut(pattern, " "); ok {
		method, pattern = m, strings.TrimSpace(p)
	}
	if i := strings.IndexByte(pattern, '/'); i > 0 {
		pattern = pattern[i:]
	}
	if !strings.Contains(pattern, "{") {
		return bound(templateMethod(method) + " " + pattern)
	}
	segs := strings.Split(pattern, "/")
	for i, s := range segs {
		if len(s) > 2 && s[0] == '{' && s[len(s)-1] == '}' {
			name := strings.TrimSuffix(s[1:len(s)-1], "...")
			if name == "$" {
				segs[i] = ""
				continue
			}
			segs[i] = ":" + name
		}
	}
	return bound(templateMethod(method) + " " + strings.Join(segs, "/"))
}
