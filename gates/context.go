package gates

import (
	"context"

	"github.com/verso-api/verso/versions"
)

type ctxKey struct{}

// versionCtx carries the timeline and the version a request is served in.
// It is its own context type, so that NewContext costs one allocation.
type versionCtx struct {
	context.Context
	t *Timeline
	v versions.Version
}

func (c *versionCtx) Value(key any) any {
	if key == (ctxKey{}) {
		return c
	}
	return c.Context.Value(key)
}

// NewContext returns a context carrying the timeline and the version a
// request is served in. The versioning middleware calls it.
func NewContext(ctx context.Context, t *Timeline, v versions.Version) context.Context {
	return &versionCtx{Context: ctx, t: t, v: v}
}

// FromContext returns the version and timeline stored by NewContext.
func FromContext(ctx context.Context) (versions.Version, *Timeline, bool) {
	c, ok := ctx.Value(ctxKey{}).(*versionCtx)
	if !ok {
		return versions.Version{}, nil, false
	}
	return c.v, c.t, true
}

// Active reports whether the change id (typically a behavior change) is in
// effect for the request whose context this is: the request is served at
// the change's version or newer. It is false for an unknown id or a context
// with no version.
//
//	if gates.Active(ctx, "charge_capture_async") { ... new behaviour ... }
func Active(ctx context.Context, id string) bool {
	v, t, ok := FromContext(ctx)
	if !ok || t == nil {
		return false
	}
	on, err := t.Active(v, id)
	return err == nil && on
}
