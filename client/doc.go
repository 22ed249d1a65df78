// Package client is a small HTTP client for the verso demo API and for any
// Stripe-like API: form or JSON parameters, a bearer API key, a pinned API
// version, and safe retries.
//
//	c, err := client.New(client.Config{
//		BaseURL: "http://127.0.0.1:4242",
//		APIKey:  "sk_test_...",
//		Version: "2019-10-17",
//	})
//	var ch struct{ ID string `json:"id"` }
//	err = c.Post(ctx, "/v1/charges", map[string]any{
//		"amount":   2000,
//		"currency": "usd",
//		"metadata": map[string]string{"order": "6735"},
//		"expand":   []string{"customer"},
//	}, &ch)
//
// # Parameters
//
// Parameters are sent as an application/x-www-form-urlencoded body (POST) or
// query string (GET, DELETE) in Stripe's bracket syntax: nested maps become
// metadata[order]=6735, lists of scalars become expand[]=customer, lists of
// objects become items[0][price]=price_1. url.Values are sent as they are;
// structs are read through their json tags. Config.JSON or the WithJSON
// option sends POST bodies as JSON instead. EncodeForm exposes the encoder.
//
// # Retries
//
// Every POST carries an Idempotency-Key: one random UUIDv4 per call to Do,
// reused on every retry of that call, so a server that already committed
// the first attempt answers the retry with the saved result instead of
// doing the work twice. WithIdempotencyKey passes a key of the caller's own.
//
// Do retries network errors (a connection refused, reset, or dropped before
// the whole response arrived), 409 with error code idempotency_key_in_use,
// 429 and 5xx. It never retries any other 4xx: the same request would get
// the same answer (a key reused with other parameters is a 400
// idempotency_error). A Stripe-Should-Retry header on an error answer
// overrides that: "true" retries, "false" stops, so a 500 the server saved
// as the result of committed work is not sent again in vain. Between attempts it waits the server's Retry-After
// (seconds or an HTTP date) when there is one, and otherwise
// Config.Backoff, by default DefaultBackoff:
//
//	min(2^attempt * 100ms + random(0..100ms), 30s)
//
// It stops after Config.MaxAttempts attempts (default 4), when the context
// is done, and before a wait that would outlast the context's deadline or
// a Retry-After longer than Config.MaxRetryAfter.
//
// # Errors
//
// An answer outside 2xx is an *Error carrying the status, Stripe's error
// type, code, param and message, and the Request-Id header:
//
//	var e *client.Error
//	if errors.As(err, &e) && e.Code == "resource_missing" { ... }
package client
