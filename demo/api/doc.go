// Package api is verso's demo: a Stripe-like payments API whose handlers
// know only the newest schema, served to every account in the version it
// is pinned to.
//
// It carries customers, charges, payment_intents, refunds and events, each
// with create, retrieve, update and list (limit, starting_after, has_more)
// and expand[], stored in SQLite or PostgreSQL; webhook endpoints whose
// events are rendered in each endpoint's version; Idempotency-Key on every
// POST; API keys stored hashed; rate limits per key and per IP; Prometheus
// metrics at /metrics. `verso serve` runs it.
//
// The middleware stack, outermost first:
//
//	rate limit per IP -> authentication (Bearer sk_test_...) -> rate limit per key
//	  -> versioning (pins, walk request forward / response back)
//	    -> idempotency (saves the newest-schema response) -> handler
//
// A handler writes its objects, the events they cause (a transactional
// outbox) and the idempotent response in one database transaction.
package api
