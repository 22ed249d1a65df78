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
	if paths != nil {
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
				item := paths.child(r.Path)
				src := item.child(strings.ToLower(r.Method))
				if src == nil {
					d.warnf(c.ID, "%s: %s %s is not in the document", op.Kind, r.Method, r.Path)
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
