// Package pins keeps the API version each account is pinned to.
//
// An account that sends no version header is answered in its pinned version.
// Its first successful request pins it, atomically, to the default version
// (the newest stable one unless the server says otherwise): when many
// first requests race, exactly one pin is stored and every request sees it.
// An operator may Set an account's pin to any version, or SetMany from a
// file, keeping existing clients on the version they integrated against.
// Later the account may Upgrade to a newer version, and Rollback to the
// previous one within 72 hours of the move (Options.RollbackWindow); every
// pin and move is kept in its History.
//
// A Store also keeps the census: requests served per version and hour, and
// per version, account and day (CountRequests, Census, Users), for 90 days
// (Options.Retention). A Counter, the versioning middleware's Usage,
// batches them in memory and adds them now and then.
//
// Two Stores share one behaviour, checked by the suite in package
// pinstest, made as every store of verso is made (opts is an *Options; nil
// means the defaults):
//
//   - NewMemoryStore(opts): in memory, for tests and servers that may
//     forget pins;
//   - NewSQLStore(ctx, db, opts): in a *storage.DB, a SQLite file (the
//     embedded default) or PostgreSQL (servers on several machines).
//
// The SQL store takes a *storage.DB that the caller opens and closes, and
// creates its tables (verso_pins, verso_pin_history, verso_pin_requests,
// verso_pin_usage) when constructed.
// Pinning relies on the database's primary key (INSERT ... ON CONFLICT DO
// NOTHING), so it stays atomic across processes sharing the database.
//
//	db, _ := storage.Open(ctx, "verso.db")
//	store, _ := pins.NewSQLStore(ctx, db, nil)
//	p, err := store.Get(ctx, account)
//	if errors.Is(err, pins.ErrNotPinned) {
//		p, _, err = store.PinIfAbsent(ctx, account, timeline.Newest())
//	}
package pins
