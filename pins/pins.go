package pins

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/verso-api/verso/versions"
)

// DefaultRollbackWindow is how long after a move an account may roll its pin
// back to the previous version: 72 hours, as Stripe allows.
const DefaultRollbackWindow = 72 * time.Hour

// Errors returned by every Store.
var (
	// ErrNotPinned: the account has no pin yet. It is
	// versions.ErrNotPinned, which the versioning middleware matches
	// without importing this package.
	ErrNotPinned = versions.ErrNotPinned
	// ErrNotNewer: Upgrade was asked for a version that is not newer than the pin.
	ErrNotNewer = errors.New("pins: version is not newer than the pinned version")
	// ErrNoPrevious: Rollback was asked but the pin has never moved, or was
	// already rolled back.
	ErrNoPrevious = errors.New("pins: no previous version to roll back to")
	// ErrRollbackExpired: the last move is older than the rollback window.
	ErrRollbackExpired = errors.New("pins: rollback window has expired")
	// ErrEmptyAccount: the account id is empty.
	ErrEmptyAccount = errors.New("pins: empty account")
	// ErrZeroVersion: the version is the zero versions.Version.
	ErrZeroVersion = errors.New("pins: zero version")
)

// Pin is the API version an account is pinned to: versions.Pin, which
// the versioning middleware reads (server.PinStore) without importing the
// stores.
type Pin = versions.Pin

// Kind says what a Change did.
type Kind string

// The kinds of Change.
const (
	Pinned     Kind = "pin"      // the first pin of an account
	Upgraded   Kind = "upgrade"  // a move to a newer version
	RolledBack Kind = "rollback" // a return to the previous version
	Retired    Kind = "retire"   // a move off a version being retired (MoveAll)
	Set        Kind = "set"      // a pin set by an operator (Set, SetMany), to any version
)

// Change is one entry of an account's pin history.
type Change struct {
	Account string
	Kind    Kind
	// From is the version before the change; zero for the first pin.
	From versions.Version
	To   versions.Version
	At   time.Time
}

// Store keeps the version pin of each account and its history. Every
// implementation is safe for concurrent use, and PinIfAbsent is atomic across
// all the processes that share the store's database.
type Store interface {
	// Get returns the account's pin, or ErrNotPinned.
	Get(ctx context.Context, account string) (Pin, error)
	// PinIfAbsent pins the account to v unless it is already pinned. It
	// returns the pin that holds afterwards, and created=true only for the
	// one caller whose pin was stored: when many first requests race, one
	// wins and every caller gets the winning pin.
	PinIfAbsent(ctx context.Context, account string, v versions.Version) (p Pin, created bool, err error)
	// Upgrade moves the pin to a newer version and records the move.
	// It returns ErrNotPinned, or ErrNotNewer when to is not newer than the
	// pinned version. It does not check that to is on a timeline: the caller
	// does.
	Upgrade(ctx context.Context, account string, to versions.Version) (Pin, error)
	// Rollback moves the pin back to its previous version when the last move
	// is within the rollback window, and records the move. It returns
	// ErrNotPinned, ErrNoPrevious or ErrRollbackExpired. A rollback cannot
	// itself be rolled back: upgrade again instead.
	Rollback(ctx context.Context, account string) (Pin, error)
	// History returns the account's changes, oldest first; an account never
	// pinned has an empty history.
	History(ctx context.Context, account string) ([]Change, error)

	// CountRequests adds served to the requests counted per version in the
	// current hour, and per version and account in the current day (of
	// Options.Now), and forgets the counts older than Options.Retention. A
	// server calls it now and then with what it counted since the last
	// call (see Counter, which the versioning middleware feeds).
	CountRequests(ctx context.Context, served []Served) error
	// Census returns, per version, how many accounts are pinned to it, how
	// many requests it served from the hour of since on, and how many
	// accounts sent them from the day of since on; newest version first,
	// versions with none of these left out.
	Census(ctx context.Context, since time.Time) ([]Count, error)
	// Users returns the accounts that sent requests in version v from the
	// day of since on, with how many, most first, at most limit of them
	// (all when limit is 0 or less): whom to tell before retiring v.
	Users(ctx context.Context, v versions.Version, since time.Time, limit int) ([]Served, error)
	// MoveAll moves every account pinned to from onto to, in one
	// transaction, and records a Retired change in each history. The move
	// cannot be rolled back (the old version is going away). It returns how
	// many accounts moved; from and to must differ.
	MoveAll(ctx context.Context, from, to versions.Version) (int, error)

	// Set pins the account to v whatever its pin was, creating the pin when
	// there is none: an operator keeping an existing client on the version
	// it integrated against (verso pins set). It records a Set change, and
	// leaves a pin already at v as it is. An operator's move cannot be
	// rolled back by the account.
	Set(ctx context.Context, account string, v versions.Version) (Pin, error)
	// SetMany sets every assignment as Set does, in one transaction: all
	// are set or none (verso pins import). A later assignment of an account
	// replaces an earlier one. It returns how many pins were created or
	// moved.
	SetMany(ctx context.Context, as []Assignment) (int, error)
}

// Assignment is an account and the version an operator pins it to.
type Assignment struct {
	Account string
	Version versions.Version
}

// set returns p set to v by an operator at now, and the change; ok is false
// when p is already at v.
func set(p Pin, exists bool, v versions.Version, now time.Time) (out Pin, c Change, ok bool) {
	if exists && p.Version == v {
		return p, Change{}, false
	}
	c = Change{Account: p.Account, Kind: Set, To: v, At: now}
	if !exists {
		return Pin{Account: p.Account, Version: v, PinnedAt: now}, c, true
	}
	c.From = p.Version
	p.Version, p.Previous, p.MovedAt = v, versions.Version{}, now
	return p, c, true
}

// lastAssignments checks every assignment's arguments and returns them with
// only the last assignment of each account, in the order of their first.
func lastAssignments(as []Assignment) ([]Assignment, error) {
	at := make(map[string]int, len(as))
	out := make([]Assignment, 0, len(as))
	for _, a := range as {
		if err := checkArgs(a.Account, a.Version); err != nil {
			return nil, fmt.Errorf("%w (account %q)", err, a.Account)
		}
		if i, ok := at[a.Account]; ok {
			out[i] = a
			continue
		}
		at[a.Account] = len(out)
		out = append(out, a)
	}
	return out, nil
}

// Count is one version's line of a census.
type Count struct {
	Version versions.Version
	// Accounts is how many accounts are pinned to the version.
	Accounts int64
	// Requests is how many requests the version served since the census's
	// start.
	Requests int64
	// Active is how many accounts sent requests in the version since the
	// census's start (counted per day).
	Active int64
}

// ErrSameVersion: MoveAll was asked to move accounts onto the version they
// are on.
var ErrSameVersion = errors.New("pins: from and to are the same version")

// hour truncates t to its hour, the unit requests are counted in.
func hour(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }

// sortCensus orders a census newest version first.
func sortCensus(c []Count) {
	slices.SortFunc(c, func(a, b Count) int { return versions.Compare(b.Version, a.Version) })
}

// retire applies a retiring move to p at time now.
func retire(p Pin, to versions.Version, now time.Time) (Pin, Change) {
	c := Change{Account: p.Account, Kind: Retired, From: p.Version, To: to, At: now}
	p.Version, p.Previous, p.MovedAt = to, versions.Version{}, now
	return p, c
}

// Options configure a Store: NewMemoryStore and NewSQLStore take an
// *Options, and nil means the defaults, which are right for a server.
type Options struct {
	// Now returns the current time.
	// Optional. Default value time.Now.
	Now func() time.Time
	// Retention is how long request counts are kept (CountRequests): the
	// longest window verso pins and verso retire can look back over.
	// Optional. Default value DefaultRetention.
	Retention time.Duration
	// RollbackWindow is how long after a move Rollback is allowed.
	// A negative window disables rollback.
	// Optional. Default value DefaultRollbackWindow.
	RollbackWindow time.Duration
}

func withDefaults(opts *Options) Options {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RollbackWindow == 0 {
		o.RollbackWindow = DefaultRollbackWindow
	}
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	return o
}

// now returns the clock's time in UTC without a monotonic reading, so that
// what a store returns compares equal to what it stored.
func (o Options) now() time.Time { return o.Now().UTC().Round(0) }

func checkAccount(account string) error {
	if account == "" {
		return ErrEmptyAccount
	}
	return nil
}

func checkArgs(account string, v versions.Version) error {
	if err := checkAccount(account); err != nil {
		return err
	}
	if v.IsZero() {
		return ErrZeroVersion
	}
	return nil
}

// upgrade applies an upgrade to p at time now.
func upgrade(p Pin, to versions.Version, now time.Time) (Pin, Change, error) {
	if !to.After(p.Version) {
		return p, Change{}, ErrNotNewer
	}
	c := Change{Account: p.Account, Kind: Upgraded, From: p.Version, To: to, At: now}
	p.Previous, p.Version, p.MovedAt = p.Version, to, now
	return p, c, nil
}

// rollback applies a rollback to p at time now.
func rollback(p Pin, window time.Duration, now time.Time) (Pin, Change, error) {
	if p.Previous.IsZero() {
		return p, Change{}, ErrNoPrevious
	}
	if window < 0 || now.Sub(p.MovedAt) > window {
		return p, Change{}, ErrRollbackExpired
	}
	c := Change{Account: p.Account, Kind: RolledBack, From: p.Version, To: p.Previous, At: now}
	p.Version, p.Previous, p.MovedAt = p.Previous, versions.Version{}, now
	return p, c, nil
}
