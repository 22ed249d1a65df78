// Package idempotency makes POST requests safe to retry: a net/http
// middleware, func(http.Handler) http.Handler, that honours the
// Idempotency-Key header the way Stripe does. (Package echoidempotency
// adapts it to echo.)
//
// A client that sends POST /v1/charges and times out does not know whether
// the charge was made. It retries with the same Idempotency-Key, and the
// middleware answers the retry with the response saved the first time,
// without running the handler again:
//
//	idem, err := idempotency.Config{
//		Store:   store,     // NewMemoryStore(nil) or NewSQLStore(ctx, db, nil)
//		Account: accountOf, // keys are scoped to the authenticated account
//	}.ToMiddleware()
//	handler := versioning(idem(mux)) // inside verso's versioning middleware
//	go idempotency.Sweeper{Store: store}.Run(ctx) // deletes expired keys
//
// For a POST carrying the key (any other request passes through):
//
//   - A key that is empty, longer than 255 characters or sent twice gets 400.
//   - The key, scoped to the account, is claimed atomically (a unique
//     constraint, not a read-then-write) together with a fingerprint of the
//     request: method, path and canonical parameters (see CanonicalParams:
//     key order and form vs JSON do not matter).
//   - The first request runs the handler. Only results of work that was
//     done are saved (Config.Save, by default DefaultSave: statuses below
//     400, and 402): its status, the headers listed in Config.SaveHeaders
//     and its body. A request refused by validation (400, 404, ...), a
//     conflict, a rate limit or a server error saves nothing and frees the
//     key, so the corrected or later retry runs the handler; so does a
//     request that fails before the handler runs, and a handler that panics.
//     A handler that saves in its own transaction (see below) saves exactly
//     what committed.
//   - A retry with the same fingerprint gets the saved response with the
//     header Idempotent-Replayed: true.
//   - A retry while the first request is still running gets 409 with code
//     idempotency_key_in_use (and Retry-After: 1). A different request with
//     the key gets 400, type idempotency_error, code idempotency_key_reused,
//     and a message saying whether the method, the path or the parameters
//     differ: retrying it cannot help. Errors are *apierror.Error values
//     derived from the Err variables of this package, written by
//     Config.ErrorHandler (apierror.Write: the API's error shape, Stripe's
//     by default), so the versioning middleware walks them back to the
//     client's version like any response. A store that fails is 503 with
//     Retry-After (ErrStore).
//   - Errors carry Stripe-Should-Retry (Config.ShouldRetryHeader): "true"
//     for a key in use, a server error or a rate limit, "false" for a key
//     reused, an invalid key or any other refusal. A handler that sets the
//     header itself keeps its value.
//   - A saved result expires after Config.TTL (24 hours); the key may then
//     be used again. A key left in progress by a process that died becomes
//     retryable after Config.Lease (1 minute).
//
// # Versions
//
// The middleware sits inside verso's versioning middleware. It sees the
// request already walked forward to the newest schema, and saves the
// response the handler wrote in the newest schema; a replay writes that
// response back through the versioning middleware, which renders it in the
// version of the client retrying, whichever it is.
//
// # Saving in the handler's transaction
//
// If the process dies after the handler's writes commit but before the
// response is saved, a retry would run the handler again. A handler writing
// to the database closes that gap by saving the response in its own
// transaction with Handle.SaveInTx, just before committing:
//
//	err := db.InTx(ctx, func(tx *storage.Tx) error {
//		if err := insertCharge(ctx, tx, ch); err != nil {
//			return err
//		}
//		return idempotency.FromContext(ctx).SaveInTx(ctx, tx, http.StatusOK, nil, body)
//	})
//	if err != nil {
//		apierror.Write(w, r, err) // ErrClaimLost included: nothing was committed
//		return
//	}
//	w.Write(body)
//
// FromContext returns nil for a request without a key, and a nil *Handle
// does nothing, so the handler needs no special case. The middleware then
// saves nothing itself; if the transaction rolled back, it frees the key.
//
// # Stores
//
// Store has three implementations, made as every store of verso is made:
//
//	store := idempotency.NewMemoryStore(opts)          // *MemoryStore
//	store, err := idempotency.NewSQLStore(ctx, db, opts) // *SQLStore, SQLite or PostgreSQL
//
// where opts is an *Options and nil means the defaults. SQLStore keeps keys
// in a *storage.DB, shared with the rest of the server so that one
// transaction spans the handler's writes and the saved response. Package
// idemtest holds the suite they all pass.
package idempotency
