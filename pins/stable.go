package pins

import (
	"context"

	"github.com/verso-api/verso/versions"
)

// Stable returns s pinning an account with no pin to stable when asked to
// pin it to a preview version (versions.Version.IsPreview): the
// versioning middleware pins a new account to the newest version, and a
// preview is for clients that ask for it by name. Give it the timeline's
// NewestStable.
//
//	store := pins.Stable(sqlStore, timeline.NewestStable())
func Stable(s Store, stable versions.Version) Store {
	return stableStore{Store: s, stable: stable}
}

type stableStore struct {
	Store
	stable versions.Version
}

// PinIfAbsent pins the account to v, or to the newest stable version when
// v is a preview.
func (s stableStore) PinIfAbsent(ctx context.Context, account string, v versions.Version) (Pin, bool, error) {
	if v.IsPreview() {
		v = s.stable
	}
	return s.Store.PinIfAbsent(ctx, account, v)
}
