package openapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/versions"
)

// versionPattern is the grammar of a version, as a schema pattern.
const versionPattern = `^[0-9]{4}-[0-9]{2}-[0-9]{2}(\.[a-z][a-z0-9_]{0,31})?$`

// declareHeaders declares what the versioning middleware reads and writes
// on every operation: the version header as a parameter of each one (a
// components.parameters entry they all refer to, unless the document
// declares the header itself) and as a header of each response; and, when
// to is deprecated, the Deprecation, Sunset and Link headers of its
// responses. Response headers are components.headers entries the
// responses refer to; none is required, since a request refused before
// the middleware (a missing API key, say) gets none.
func (d *doc) declareHeaders(tl *gates.Timeline, to versions.Version) {
	paths := d.root.child("paths")
	if paths == nil {
		return
	}
	name := tl.Header()
	if name == "" {
		name = gates.DefaultHeader
	}
	components := d.root.child("components")
	if components == nil {
		components = newObject()
		d.root.set("components", components)
	}
	ref := d.versionParameter(components, name)
	headers := components.child("headers")
	if headers == nil {
		headers = newObject()
		components.set("headers", headers)
	}
	declare := func(name string, h *object) string {
		for _, k := range headers.keys {
			if strings.EqualFold(k, name) {
				return "#/components/headers/" + k // the document's own
			}
		}
		k := componentKey(headers, name)
		headers.set(k, h)
		return "#/components/headers/" + k
	}
	type header struct{ name, ref string }
	list := []header{{name: name, ref: declare(name, obj("description", "The version of the API the response is in.",
		"schema", obj("type", "string", "pattern", versionPattern)))}}
	if lc := tl.Lifecycle(to); lc.IsDeprecated() {
		dep := obj("description", "This version is deprecated: @ and the Unix time it was deprecated at (RFC 9745).",
			"schema", obj("type", "string", "pattern", "^@[0-9]+$"), "example", "@"+strconv.FormatInt(lc.Deprecated.Unix(), 10))
		list = append(list, header{name: "Deprecation", ref: declare("Deprecation", dep)})
		if !lc.Sunset.IsZero() {
			sun := obj("description", "This version's sunset, after which it may no longer be served: an HTTP date (RFC 8594).",
				"schema", obj("type", "string"), "example", lc.Sunset.UTC().Format(http.TimeFormat))
			list = append(list, header{name: "Sunset", ref: declare("Sunset", sun)})
		}
		list = append(list, header{name: "Link", ref: declare("Link", obj("description",
			"Where the deprecation is explained, when the server says: <URL>; rel=\"deprecation\" (RFC 9745).",
			"schema", obj("type", "string")))})
	}
	seen := map[*object]bool{}
	for _, p := range paths.keys {
		item := paths.child(p)
		if item == nil {
			continue
		}
		for _, m := range methods {
			op := item.child(m)
			if op == nil {
				continue
			}
			if !d.hasHeaderParam(item, op, name) {
				op.set("parameters", append(op.list("parameters"), obj("$ref", ref)))
			}
			rs := op.child("responses")
			if rs == nil {
				continue
			}
			for _, code := range rs.keys {
				resp := d.resolve(rs.get(code))
				if resp == nil || seen[resp] {
					continue
				}
				seen[resp] = true
				hs := resp.child("headers")
				if hs == nil {
					hs = newObject()
					resp.set("headers", hs)
				}
				for _, h := range list {
					if !hasKeyFold(hs, h.name) {
						hs.set(h.name, obj("$ref", h.ref))
					}
				}
			}
		}
	}
}

// versionParameter returns the reference to the version header's
// parameter in components.parameters, declaring it unless the document
// does.
func (d *doc) versionParameter(components *object, name string) string {
	params := components.child("parameters")
	if params == nil {
		params = newObject()
		components.set("parameters", params)
	}
	for _, k := range params.keys {
		if p := d.resolve(params.get(k)); p != nil && p.str("in") == "header" && strings.EqualFold(p.str("name"), name) {
			return "#/components/parameters/" + k
		}
	}
	k := componentKey(params, name)
	params.set(k, obj("name", name, "in", "header", "required", false,
		"description", "The version of the API to answer in: a date (YYYY-MM-DD), and for some a release name after a dot (2024-09-30.acacia). Without it, the version the account is pinned to. Each version has its own document: this one describes info.version.",
		"schema", obj("type", "string", "pattern", versionPattern)))
	return "#/components/parameters/" + k
}

// componentKey returns a free key for a component named name in m: the
// name with the characters component keys do not allow replaced, and a
// number after it when another component has that key.
func componentKey(m *object, name string) string {
	base := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, name)
	k := base
	for i := 2; m.has(k); i++ {
		k = base + "_" + strconv.Itoa(i)
	}
	return k
}

// hasHeaderParam reports whether an operation (or its path item) declares
// the header name as a parameter.
func (d *doc) hasHeaderParam(item, op *object, name string) bool {
	for _, list := range [][]any{item.list("parameters"), op.list("parameters")} {
		for _, x := range list {
			if p := d.resolve(x); p != nil && p.str("in") == "header" && strings.EqualFold(p.str("name"), name) {
				return true
			}
		}
	}
	return false
}

// hasKeyFold reports whether m has key, whatever its case.
func hasKeyFold(m *object, key string) bool {
	for _, k := range m.keys {
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}
