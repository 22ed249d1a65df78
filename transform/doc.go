// Package transform walks JSON bodies between the versions of a timeline:
// responses back from the newest version to a client's, requests forward
// from a client's version to the newest.
//
// An Engine compiles plans once and caches them. Plan(from, to) holds the
// operations of the changes between two versions that are scoped by
// resource, per object type: objects are found at any depth by their type
// field ("object" unless the timeline's type_field or Options.TypeField
// name another). ResponsePlan(from, to, method, path) adds the operations
// of the changes scoped by endpoint, applied to the response's top-level
// object or to each of a list's items, and is nil when nothing applies, so
// that a server can stream such a response untouched. A plan's ForStatus
// gives the plan for a response's status: error bodies (non-2xx) are
// walked with the changes to resource "error".
//
//	p, err := engine.ResponsePlan(engine.Timeline().Newest(), clientVersion, r.Method, r.URL.Path)
//	if p = p.ForStatus(status); p != nil {
//		body, err = p.AppendApply(buf[:0], body)
//	}
//
// Upgrade and UpgradeForm walk a request body (or a query string) forward
// through the changes whose endpoints match its method and path; the plan
// is cached per version and set of matching endpoint templates, and finding
// it does not allocate. A value whose type is not the one the client's
// version declared is refused with a *ParamError naming the parameter.
//
// The Fired forms (Plan.AppendApplyFired, Engine.RenderFired,
// Engine.UpgradeFired, Engine.UpgradeFormFired) also report which changes
// altered something in the body, as a gates.Fired set of change indexes;
// gates.Timeline.RouteFired does the same for endpoint, status and header
// ops. Reporting allocates nothing, and the plain forms pay nothing for it.
//
//	var fired gates.Fired
//	out, err := p.AppendApplyFired(buf[:0], body, &fired)
//	ids := fired.IDs(engine.Timeline()) // ["customer_balance", ...]
//
// One pass over a body finds what to change; each object is rewritten on
// its own bytes and spliced back, so the cost is linear in the body's size,
// key order and the bytes no operation touches are kept, and numbers are
// converted by their exact digits. Plans and the Engine are safe for
// concurrent use.
package transform
