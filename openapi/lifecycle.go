package openapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/versions"
)

// methods are the operations of an OpenAPI path item.
var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// applyLifecycle applies the endpoint, status and header ops of the
// versions newer than to, and to's deprecation.
func (d *doc) applyLifecycle(tl *gates.Timeline, to versions.Version, info *object) {
	paths := d.root.child("paths")
	if paths == nil && hasEndpointRemoved(tl) {
		paths = newObject()
		d.root.set("paths", paths)
	}
	if paths != nil {
		d.addRemoved(tl, to, paths)
		d.addMoved(tl, to, paths)
		for _, p := range append([]string(nil), paths.keys...) {
			item := paths.child(p)
			if item == nil {
				continue
			}
			for _, m := range methods {
				op := item.child(m)
				if op == nil {
					continue
				}
				r := tl.Route(to, strings.ToUpper(m), p)
				if r.Absent {
					item.del(m)
					continue
				}
				if r.AdjustsResponse() {
					adjustResponses(op, &r)
				}
			}
			if !hasOperation(item) {
				paths.del(p)
			}
		}
	}
	lc := tl.Lifecycle(to)
	if !lc.IsDeprecated() {
		return
	}
	info.set("x-deprecated", lc.Deprecated.Format(time.DateOnly))
	if !lc.Sunset.IsZero() {
		info.set("x-sunset", lc.Sunset.Format(time.DateOnly))
	}
	info.set("x-successor", lc.Successor.String())
	// The version is deprecated, not its operations: marking each one
	// deprecated would tell a diff tool that removing them later is
	// expected, hiding a breaking endpoint change. The lifecycle goes in
	// info (and the description) and in the Deprecation and Sunset
	// response headers.
	note := "This version is deprecated since " + lc.Deprecated.Format(time.DateOnly)
	if !lc.Sunset.IsZero() {
		note += "; its sunset is " + lc.Sunset.Format(time.DateOnly)
	}
	note += ". Move to " + lc.Successor.String() + "."
	if d := info.str("description"); d != "" {
		note += "\n\n" + d
	}
	info.set("description", note)
}

// addMoved lists each endpoint that moved after to at its old place too,
// a copy of the operation at its new place.
func (d *doc) addMoved(tl *gates.Timeline, to versions.Version, paths *object) {
	for _, v := range tl.Between(to, tl.Newest()) {
		for _, c := range v.Changes {
			for _, op := range c.Ops {
				if op.Kind != gates.KindEndpointMoved {
					continue
				}
				old := template(op.WasEndpoint.Path)
				r := tl.Route(to, op.WasEndpoint.Method, old)
				if !r.Moved {
					continue
				}
				item := d.pathItem(paths, r.Path)
				src := item.child(strings.ToLower(r.Method))
				if src == nil {
					d.version = v.ID
					d.disagreeAt(op.Pos, c.ID, "endpoint "+op.WasEndpoint.String(),
						"%s: cannot be documented at %s: the document has no %s %s to copy it from", op.Kind, to, r.Method, template(r.Path))
					continue
				}
				dst := paths.child(old)
				if dst == nil {
					dst = newObject()
					if params := item.get("parameters"); params != nil {
						dst.set("parameters", deepCopy(params))
					}
					paths.set(old, dst)
				}
				cp := deepCopy(src).(*object)
				if id := cp.str("operationId"); id != "" {
					cp.set("operationId", id+"_"+strings.ToLower(op.WasEndpoint.Method)+"_"+c.ID)
				}
				dst.set(strings.ToLower(op.WasEndpoint.Method), cp)
			}
		}
	}
}

// hasEndpointRemoved reports whether the timeline removes an endpoint.
func hasEndpointRemoved(tl *gates.Timeline) bool {
	for _, v := range tl.List() {
		for _, c := range v.Changes {
			for _, op := range c.Ops {
				if op.Kind == gates.KindEndpointRemoved {
					return true
				}
			}
		}
	}
	return false
}

// pathItem returns the path item of paths whose template matches path
// ("/v1/x/:id" or "/v1/x/{id}"), whatever its parameters' names.
func (d *doc) pathItem(paths *object, path string) *object {
	if item := paths.child(template(path)); item != nil {
		return item
	}
	for _, p := range paths.keys {
		if pathMatches(path, p) {
			return paths.child(p)
		}
	}
	return nil
}

// addRemoved lists each endpoint removed after to, and served at to, that
// the document no longer has, with the operation its endpoint_removed op
// carries; one that carries none cannot be documented, which is a
// disagreement.
func (d *doc) addRemoved(tl *gates.Timeline, to versions.Version, paths *object) {
	for _, v := range tl.Between(to, tl.Newest()) {
		for _, c := range v.Changes {
			for _, op := range c.Ops {
				if op.Kind != gates.KindEndpointRemoved {
					continue
				}
				method := strings.ToLower(op.Endpoint.Method)
				if tl.Route(to, op.Endpoint.Method, op.Endpoint.Path).Absent || d.pathItem(paths, op.Endpoint.Path).child(method) != nil {
					continue
				}
				if op.Operation == nil {
					d.version = v.ID
					d.disagreeAt(op.Pos, c.ID, "endpoint "+op.Endpoint.String(),
						"endpoint_removed: cannot be documented at %s: the document has no %s and the op carries no operation (give it one: {endpoint: ..., operation: {...}})", to, op.Endpoint)
					continue
				}
				o, err := decodeJSON(op.Operation)
				operation, ok := o.(*object)
				if err != nil || !ok {
					d.warnf(c.ID, "endpoint_removed: operation of %s: not an object", op.Endpoint)
					continue
				}
				item := d.pathItem(paths, op.Endpoint.Path)
				if item == nil {
					item = newObject()
					if params := pathParams(op.Endpoint.Path, operation); len(params) > 0 {
						item.set("parameters", params)
					}
					paths.set(template(op.Endpoint.Path), item)
				}
				item.set(method, operation)
			}
		}
	}
}

// pathParams declares the parameters of a path template that an
// operation does not declare itself, as strings.
func pathParams(path string, operation *object) []any {
	var out []any
	for _, seg := range strings.Split(template(path), "/") {
		name, ok := strings.CutPrefix(seg, "{")
		if !ok {
			continue
		}
		name = strings.TrimSuffix(name, "}")
		declared := false
		for _, x := range operation.list("parameters") {
			if p, ok := x.(*object); ok && p.str("in") == "path" && p.str("name") == name {
				declared = true
			}
		}
		if !declared {
			out = append(out, obj("name", name, "in", "path", "required", true, "schema", obj("type", "string")))
		}
	}
	return out
}

// template turns "/v1/customers/:id" into "/v1/customers/{id}".
func template(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if len(s) > 1 && s[0] == ':' {
			segs[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(segs, "/")
}

func hasOperation(item *object) bool {
	for _, m := range methods {
		if item.has(m) {
			return true
		}
	}
	return false
}

// adjustResponses renames an operation's response codes and headers as
// the route's version had them.
func adjustResponses(op *object, r *gates.RouteDecision) {
	resps := op.child("responses")
	if resps == nil {
		return
	}
	out := newObject()
	for _, k := range resps.keys {
		v := resps.get(k)
		if code, err := strconv.Atoi(k); err == nil {
			k = strconv.Itoa(r.Status(code))
		}
		if resp, ok := v.(*object); ok {
			if hs := resp.child("headers"); hs != nil {
				resp.set("headers", adjustHeaders(hs, r))
			}
		}
		out.set(k, v)
	}
	op.set("responses", out)
}

// adjustHeaders renames and drops response headers, keeping their order.
func adjustHeaders(hs *object, r *gates.RouteDecision) *object {
	out := newObject()
	for _, name := range hs.keys {
		h := http.Header{http.CanonicalHeaderKey(name): {name}}
		r.Header(h)
		for renamed := range h {
			if renamed == http.CanonicalHeaderKey(name) {
				renamed = name // not renamed: keep the document's spelling
			}
			out.set(renamed, hs.get(name))
		}
	}
	return out
}
