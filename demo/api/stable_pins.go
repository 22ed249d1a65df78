package api

import (
	"context"

	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/versions"
)

// stablePins is the pin store the versioning middleware gets: it pins an
// account with no pin to the newest version that is not a preview
// (gates.Timeline.NewestStable), where the middleware asks for the newest
// version. A preview is for clients that ask for it by name.
type stablePins struct {
	pins.Store
	stable versions.Version
}

// PinIfAbsent pins the account to v, or to the newest stable version when
// v is a preview.
func (p stablePins) PinIfAbsent(ctx context.Context, account string, v versions.Version) (pins.Pin, bool, error) {
	if v.IsPreview() {
		v = p.stable
	}
	return p.Store.PinIfAbsent(ctx, account, v)
}
