package idempotency

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/verso-api/verso/storage"
)

// ErrClaimLost is returned by Store.Complete and Handle.SaveInTx when the
// request no longer holds its key: its lease ran out and a retry took the key
// over, or the key was swept. A handler that saves in its own transaction must
// roll that transaction back on this error, so the work is not done twice.
var ErrClaimLost = errors.New("idempotency: key is no longer held by this request")

// Options configures a store: NewMemoryStore and NewSQLStore take a
// *Options, and nil means the defaults.
type Options struct {
	// Table names the table of keys (SQLStore only): lower-case letters,
	// digits and '_'.
	// Optional. Default value DefaultTable.
	Table string
}

// Key is an idempotency key as a client sent it, scoped to its account.
type Key struct {
	Account string
	Key     string
}

// Fingerprint identifies the request a key was first used with.
type Fingerprint struct {
	Method string
	Path   string
	// Params is the hex SHA-256 of the canonical parameters: the body and
	// the query string (see CanonicalParams).
	Params string
}

// Response is a saved response: status, the headers worth replaying and the
// body, in the newest schema.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// State says what a store found when it was asked to claim a key.
type State int

// The states of a claimed key.
const (
	// Claimed: the key was free (new, expired, or left in progress past its
	// lease) and now belongs to the caller.
	Claimed State = iota + 1
	// InProgress: another request holds the key and its lease still runs.
	InProgress
	// Completed: a response is saved for the key.
	Completed
)

func (s State) String() string {
	switch s {
	case Claimed:
		return "claimed"
	case InProgress:
		return "in progress"
	case Completed:
		return "completed"
	}
	return "unknown"
}

// Claim asks a store for a key.
type Claim struct {
	Key
	Fingerprint
	// Token identifies this claim; Complete and Release must present it.
	Token string
	// Now is the time of the request. A key whose ExpiresAt is not after Now
	// is free; so is a key in progress whose lease ended (LockedUntil not
	// after Now) when it was claimed with the same fingerprint.
	Now time.Time
	// LockedUntil ends the lease of this claim: until then a retry gets
	// InProgress, after it a retry with the same fingerprint takes the key over.
	LockedUntil time.Time
	// ExpiresAt is when the claim itself may be swept if it is never
	// completed; Complete sets the expiry of the saved response.
	ExpiresAt time.Time
}

// Record is what a store returns for a claim.
type Record struct {
	State State
	// Fingerprint is the request the key was first used with (the caller's
	// own when State is Claimed).
	Fingerprint Fingerprint
	// Response is the saved response when State is Completed.
	Response Response
}

// Store keeps idempotency keys and their saved responses. Claim must be
// atomic: of many concurrent claims of one free key exactly one gets Claimed.
// Implementations are safe for concurrent use. NewMemoryStore and NewSQLStore
// (SQLite and PostgreSQL) are built in; package idemtest holds the suite every
// Store must pass.
type Store interface {
	// Claim claims a key, or reports who holds it.
	Claim(ctx context.Context, c Claim) (Record, error)
	// Complete saves the response of the claim holding token and sets the
	// expiry of the saved result. With a non-nil tx the save is part of that
	// transaction and is seen by others only when it commits. It returns
	// ErrClaimLost when token no longer holds the key.
	Complete(ctx context.Context, tx *storage.Tx, k Key, token string, res Response, expiresAt time.Time) error
	// Release frees a key still in progress under token, so that a retry runs
	// the handler again. A completed key, or one held under another token, is
	// left alone.
	Release(ctx context.Context, k Key, token string) error
	// Sweep deletes every key whose expiry is not after now and returns how
	// many it deleted.
	Sweep(ctx context.Context, now time.Time) (int, error)
}
