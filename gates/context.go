package gates

import (
	"context"

	"github.com/verso-api/verso/versions"
)

type ctxKey struct{}

type ctxValue struct {
	t *Timeline
	v versions.Version
}

// NewContext returns a context carrying the timeline and the version a
// request is served in. The versioning middleware calls it.
func NewContext(ctx context.Context, t *Timeline, v versions.Version) context.Context {
	return context.WithValue(ctx, ctxKey{}, ctxValue{t, v})
}

// FromContext returns the version and timeline stored by NewContext.
func FromContext(ctx context.Context) (versions.Version, *Timeline, bool) {
	cv, ok := ctx.Value(ctxKey{}).(ctxValue)
	return cv.v, cv.t, ok
}

// Active reports whether the change id (typically a behavior change) is in
// effect for the request whose context this is: the request is served at
// the change's version or newer. It is false for an unknown id or a context
// with no version.
//
//	if gates.Active(ctx, "charge_capture_async") { ... new behaviour ... }
func Active(ctx context.Context, id string) bool {
	cv, ok := ctx.Value(ctxKey{}).(ctxValue)
	if !ok || cv.t == nil {
		return false
	}
	on, err := cv.t.Active(cv.v, id)
	return err == nil && on
}
