package versions

import (
	"errors"
	"time"
)

// ErrNotPinned is what a pin store's Get returns (or wraps) for an account
// that has no pin yet.
var ErrNotPinned = errors.New("account is not pinned")

// Pin is the API version an account is pinned to. The pin stores of
// package pins keep them (pins.Pin is this type), and the versioning
// middleware reads them through server.PinStore, so that the core needs
// no store to know what a pin is.
type Pin struct {
	Account string
	// Version is the version the account is answered in when a request
	// names none.
	Version Version
	// PinnedAt is when the account was first pinned.
	PinnedAt time.Time
	// Previous is the version before the last upgrade, the one a rollback
	// returns to. It is zero when the pin never moved or was rolled back.
	Previous Version
	// MovedAt is when the pin last moved (upgrade or rollback); zero when it
	// never moved.
	MovedAt time.Time
}
