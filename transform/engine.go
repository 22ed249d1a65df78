package transform

import (
	"context"
	"fmt"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/versions"
)

// Apply walks body through the plan and returns the result. Objects are
// found by their type field ("object" unless the timeline or Options name
// another) at any depth; an event's data.previous_attributes is walked
// with the type of its data.object. A plan from ResponsePlan also walks
// the body's own object, or each of its items (see Engine.ResponsePlan).
// Bytes no operation touches are copied as they were, and when nothing
// changes the result is body itself. body is not modified.
func (p *Plan) Apply(body []byte) ([]byte, error) {
	if p.resolving {
		return p.e.resolveWalk(context.Background(), nil, body, p, false, nil)
	}
	return p.e.walkTo(nil, body, p, nil, false, false, nil, nil)
}

// AppendApply is like Apply but appends the result to dst. With room in
// dst, a small body is walked with no allocation.
func (p *Plan) AppendApply(dst, body []byte) ([]byte, error) {
	if p.resolving {
		return p.e.resolveWalk(context.Background(), dst, body, p, true, nil)
	}
	return p.e.walkTo(dst, body, p, nil, true, false, nil, nil)
}

// ApplyFired is Apply reporting in fired the changes that altered
// something in body (see gates.Fired). It adds to fired, which it does not
// reset: one set can gather a whole exchange.
func (p *Plan) ApplyFired(body []byte, fired *gates.Fired) ([]byte, error) {
	if p.resolving {
		return p.e.resolveWalk(context.Background(), nil, body, p, false, fired)
	}
	return p.e.walkTo(nil, body, p, nil, false, false, fired, nil)
}

// AppendApplyFired is AppendApply reporting in fired the changes that
// altered something in body. Like AppendApply, it does not allocate for a
// small body with room in dst, nor for fired (up to 256 changes).
func (p *Plan) AppendApplyFired(dst, body []byte, fired *gates.Fired) ([]byte, error) {
	if p.resolving {
		return p.e.resolveWalk(context.Background(), dst, body, p, true, fired)
	}
	return p.e.walkTo(dst, body, p, nil, true, false, fired, nil)
}

// walkTo walks body and appends the result to dst when appendTo is set;
// otherwise it returns the result in a slice of its own, or body itself
// when nothing changed. A request is walked with req, applied to its
// top-level object; form tells that its values all are strings. fired,
// when not nil, gets the changes whose steps changed something. With res,
// resolve steps write placeholders in res (see resolveWalk).
func (e *Engine) walkTo(dst, body []byte, p *Plan, req *objPlan, appendTo, form bool, fired *gates.Fired, res *resolution) ([]byte, error) {
	w := e.walkers.Get().(*walker)
	w.dom.fired = fired
	w.res, w.dom.res = res, res
	w.src, w.out, w.mark, w.depth, w.changed, w.rewrites, w.pooled = body, nil, 0, 0, false, 0, false
	w.direct, w.started = appendTo, false
	if appendTo {
		w.out = dst
	}
	w.maxDepth, w.plan, w.qtype, w.qword, w.qmask = e.maxDepth, p, e.qtype, e.qword, e.qmask
	w.top, w.topKey, w.topEach, w.inTop, w.sawTop, w.topDepth = req, "", false, false, false, 0
	w.dom.form = form
	if p != nil {
		w.top, w.topKey, w.topEach = p.top, p.topKey, p.topEach
		if len(p.types) == 0 {
			w.plan = nil
		}
	}
	out, err := w.run()
	switch {
	case err != nil:
		if appendTo {
			out = dst
		}
	case appendTo && !w.changed:
		out = append(dst, out...)
	case w.pooled:
		// A copy of exactly the result costs less than the room to grow
		// that out had.
		out = append([]byte(nil), out...)
	}
	if w.pooled && cap(w.out) <= 2*maxPooledOut {
		w.buf = w.out[:0]
	}
	w.src, w.out, w.plan, w.top, w.dom.fired, w.res, w.dom.res = nil, nil, nil, nil, nil, nil, nil
	w.dom.release()
	w.flat.release()
	w.spans, w.kept = w.spans[:0], w.kept[:0]
	// Members are 72 bytes: keep room for 16384.
	if cap(w.spans) > 1<<14 {
		w.spans = nil
	}
	if cap(w.kept) > 1<<14 {
		w.kept = nil
	}
	if cap(w.scratch) > 1<<20 {
		w.scratch = nil
	}
	e.walkers.Put(w)
	return out, err
}

// Back walks a response body in the newest schema back to version to.
//
//	old, err := engine.Back(body, versions.MustParse("2019-10-17"))
func (e *Engine) Back(body []byte, to versions.Version) ([]byte, error) {
	return e.Render(body, e.tl.Newest(), to)
}

// Render walks a body in version from's schema to version to's: back when
// from is newer, forward when it is older.
func (e *Engine) Render(body []byte, from, to versions.Version) ([]byte, error) {
	return e.RenderFired(body, from, to, nil)
}

// RenderFired is Render reporting in fired the changes that altered
// something in body: for a webhook event rendered in an endpoint's
// version, the changes that shaped it. A nil fired reports nothing.
func (e *Engine) RenderFired(body []byte, from, to versions.Version, fired *gates.Fired) ([]byte, error) {
	p, err := e.Plan(from, to)
	if err != nil {
		return nil, err
	}
	return p.ApplyFired(body, fired)
}

// Valid reports whether body is one valid JSON value within the engine's
// depth limit, and why not.
func (e *Engine) Valid(body []byte) error {
	return validate(body, e.maxDepth)
}

// Upgrade walks a JSON request body sent by a client on version from
// forward to the newest schema, through the changes whose endpoints match
// method and path. Bodies of endpoints no change names come back as they
// were.
func (e *Engine) Upgrade(body []byte, from versions.Version, method, path string) ([]byte, error) {
	return e.UpgradeFired(body, from, method, path, nil)
}

// UpgradeFired is Upgrade reporting in fired the changes that altered
// something in the request body. A nil fired reports nothing.
func (e *Engine) UpgradeFired(body []byte, from versions.Version, method, path string, fired *gates.Fired) ([]byte, error) {
	p, err := e.requestPlan(from, method, path)
	if err != nil {
		return nil, err
	}
	if p == nil || len(p.steps) == 0 {
		if err := e.Valid(body); err != nil {
			return nil, err
		}
		return body, nil
	}
	return e.walkTo(nil, body, nil, p, false, false, fired, nil)
}

// UpgradeForm walks an application/x-www-form-urlencoded request body (or
// a query string) in Stripe's bracket syntax forward, as Upgrade does for
// JSON. Form values are strings, so a retype to a string leaves them as
// they are.
func (e *Engine) UpgradeForm(form string, from versions.Version, method, path string) (string, error) {
	return e.UpgradeFormFired(form, from, method, path, nil)
}

// UpgradeFormFired is UpgradeForm reporting in fired the changes that
// altered something in the form body or query string. A nil fired
// reports nothing.
func (e *Engine) UpgradeFormFired(form string, from versions.Version, method, path string, fired *gates.Fired) (string, error) {
	p, err := e.requestPlan(from, method, path)
	if err != nil {
		return "", err
	}
	if p == nil || len(p.steps) == 0 {
		return form, nil
	}
	js, err := FormToJSON(form)
	if err != nil {
		return "", err
	}
	out, err := e.walkTo(nil, js, nil, p, false, true, fired, nil)
	if err != nil {
		return "", err
	}
	f, err := JSONToForm(out)
	if err != nil {
		return "", fmt.Errorf("transform: re-encode form: %w", err)
	}
	return f, nil
}
