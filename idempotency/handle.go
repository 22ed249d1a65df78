package idempotency

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"

	"github.com/verso-api/verso/storage"
)

type handleKey struct{}

// Handle is the claim on an idempotency key held by the running request.
// A handler gets it with FromContext.
type Handle struct {
	m     *mw
	key   Key
	token string
	saved atomic.Bool
}

// FromContext returns the claim of the request whose context is ctx, or
// nil when the request has no idempotency key (or the middleware skipped
// it). The methods of a nil *Handle do nothing, so a handler may call
// FromContext(r.Context()).SaveInTx(...) whether or not the client sent a
// key.
func FromContext(ctx context.Context) *Handle {
	h, _ := ctx.Value(handleKey{}).(*Handle)
	return h
}

// Key returns the key the client sent ("" for a nil Handle).
func (h *Handle) Key() string {
	if h == nil {
		return ""
	}
	return h.key.Key
}

// Account returns the account the key is scoped to.
func (h *Handle) Account() string {
	if h == nil {
		return ""
	}
	return h.key.Account
}

// SaveInTx saves the response the handler is about to write, as part of tx,
// the handler's own transaction; call it just before committing, so the
// handler's writes and the saved response commit together or not at all.
// The middleware then saves nothing itself, and does not buffer the body the
// handler writes. status, header and body must be what the handler then
// writes, in the newest schema; only the headers in Config.SaveHeaders are
// kept, and a nil header saves Content-Type: application/json.
//
// On ErrClaimLost (the lease ran out and a retry took the key over) the
// handler must roll tx back and fail. If tx rolls back for any reason, the
// middleware frees the key after the handler returns, so a retry runs again.
// A 409 or 429 status is not saved (SaveInTx returns nil) and frees the key.
// With the memory store tx may be nil and is ignored. On a nil Handle
// SaveInTx does nothing.
func (h *Handle) SaveInTx(ctx context.Context, tx *storage.Tx, status int, header http.Header, body []byte) error {
	if h == nil || !saveable(status) {
		return nil
	}
	if h.saved.Load() {
		return errors.New("idempotency: response already saved")
	}
	if header == nil {
		header = http.Header{"Content-Type": {"application/json"}}
	}
	saved := Response{Status: status, Header: filterHeader(header, h.m.SaveHeaders, nil), Body: h.m.Sealer.Seal(body, sealedFor(h.key))}
	if err := h.m.Store.Complete(ctx, tx, h.key, h.token, saved, h.m.Clock().Add(h.m.TTL)); err != nil {
		return err
	}
	h.saved.Store(true)
	return nil
}

// Saved reports whether SaveInTx saved the response.
func (h *Handle) Saved() bool {
	return h != nil && h.saved.Load()
}
