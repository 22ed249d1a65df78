// Package webhooks sends an account's events to the URLs it registers,
// each rendered in the API version of its endpoint, signed, and retried
// until delivered or three days old.
//
// # Recording events
//
// A SQLStore keeps endpoints, events and deliveries in a storage.DB
// (SQLite or PostgreSQL), made as every store of verso is made:
//
//	store, err := webhooks.NewSQLStore(ctx, db, opts) // opts is an *Options; nil means the defaults
//
// Events are written in the newest schema, in the same transaction as the
// change they describe (a transactional outbox):
//
//	err := db.InTx(ctx, func(tx *storage.Tx) error {
//		if err := saveCustomer(ctx, tx, cus); err != nil {
//			return err
//		}
//		return store.RecordEvent(ctx, tx, webhooks.Event{
//			Account: acct, Type: "customer.created",
//			APIVersion: timeline.Newest(), Object: cusJSON,
//		})
//	})
//	worker.Notify()
//
// RecordEvent also queues one delivery per endpoint of the account that
// subscribes to the event's type, in that transaction: an event is never
// stored without its deliveries, and an endpoint created later does not
// receive older events.
//
// # Delivering them
//
// A Worker claims due deliveries with a lease (so that several workers, or
// a restarted one, neither lose nor double-track them), renders each event
// with a Renderer in its endpoint's version, sets "api_version", signs and
// POSTs it. A 2xx marks it delivered; any other status, a timeout or a
// connection error schedules a retry with exponential backoff and jitter;
// a delivery whose next attempt would fall after Backoff.MaxAge (72 hours)
// is marked failed, kept, listed with SQLStore.ListDeliveries and sent again
// with Worker.Resend. Delivery is at least once: receivers deduplicate on
// the event id, which is stable across retries and also sent in the
// Verso-Event-Id header; Verso-Delivery-Attempt numbers the attempts,
// counted when an attempt starts, so a worker that dies mid-attempt does
// not make the next one reuse its number.
//
// Config.Concurrency bounds a worker's requests in flight,
// Config.PerEndpoint those to one endpoint and Config.PerAccount those to
// one account's endpoints, so a slow or dead endpoint, or an account full
// of them, never holds up the others; claims take due deliveries
// round-robin across endpoints and accounts, skipping those at their cap.
// Several workers, in one process or on several servers sharing a
// PostgreSQL database, claim with FOR UPDATE SKIP LOCKED and never wait
// for (or deadlock with) each other; the caps hold per worker. Outcomes
// are written in batches, one statement per batch on PostgreSQL.
//
// Worker.SendTest and Worker.SendTestEvent send one event to an endpoint in
// any version, leaving the endpoint and the queue unchanged, so that an API
// user can try an upgrade before pinning it.
//
// # Signatures
//
// Package webhooks/signature signs and verifies deliveries with the
// standard library only: a receiver imports it, not this package. By
// default a delivery carries Stripe's header,
//
//	Stripe-Signature: t=1700000000,v1=<hex HMAC-SHA256(secret, "1700000000." + body)>
//
// checked with signature.Verify. An endpoint created with SchemeStandard
// carries the Standard Webhooks headers instead (webhook-id,
// webhook-timestamp, webhook-signature: v1,<base64>), checked with
// signature.VerifyStandard or any Standard Webhooks library. Secrets look
// like "whsec_" + base64 and serve both schemes.
//
// # The API
//
// Handlers serves the webhook endpoint API (POST/GET/DELETE
// /v1/webhook_endpoints and friends) as an http.Handler, in the API's error
// shape; HandlersConfig says how to find the request's account and its
// pinned version. Mount it on each of Handlers.Patterns.
//
// # Metrics
//
// With Config.Metrics set, the worker reports each attempt, finished
// delivery and attempt in flight through the small Metrics interface;
// prom.NewWebhooks implements it for Prometheus
// (verso_webhook_deliveries_total{outcome}, verso_webhook_attempts_total{result},
// verso_webhook_delivery_attempts, verso_webhook_attempt_duration_seconds,
// verso_webhook_deliveries_in_flight, and, from SQLStore.Stats at each
// scrape, verso_webhook_queue_depth and
// verso_webhook_oldest_undelivered_age_seconds), so that this package does
// not import Prometheus.
package webhooks
