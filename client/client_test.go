package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/client"
)

// recorder is an injected Sleep that records each wait and returns at once.
type recorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (r *recorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waits = append(r.waits, d)
	return ctx.Err()
}

func (r *recorder) got() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.waits...)
}

func noJitter(time.Duration) time.Duration { return 0 }

// newClient returns a client for srv whose waits are recorded, not slept.
func newClient(t *testing.T, srv *httptest.Server, cfg client.Config) (*client.Client, *recorder) {
	t.Helper()
	rec := &recorder{}
	cfg.BaseURL = srv.URL
	if cfg.Sleep == nil {
		cfg.Sleep = rec.sleep
	}
	if cfg.Jitter == nil {
		cfg.Jitter = noJitter
	}
	c, err := client.New(cfg)
	require.NoError(t, err)
	return c, rec
}

func stripeError(w http.ResponseWriter, status int, typ, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"type": typ, "code": code, "message": msg}})
}

func TestRetriesServerErrorsWithOneKey(t *testing.T) {
	var (
		mu   sync.Mutex
		keys []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		n := len(keys)
		mu.Unlock()
		if n < 3 {
			stripeError(w, http.StatusServiceUnavailable, "api_error", "", "try later")
			return
		}
		fmt.Fprint(w, `{"id":"ch_1","object":"charge"}`)
	}))
	defer srv.Close()
	c, rec := newClient(t, srv, client.Config{})

	var ch struct{ ID string }
	var resp client.Response
	err := c.Post(context.Background(), "/v1/charges", map[string]any{"amount": 100}, &ch, client.WithResponse(&resp))
	require.NoError(t, err)
	assert.Equal(t, "ch_1", ch.ID)
	require.Len(t, keys, 3)
	id, err := uuid.Parse(keys[0])
	require.NoError(t, err)
	assert.Equal(t, uuid.Version(4), id.Version())
	assert.Equal(t, []string{keys[0], keys[0], keys[0]}, keys)
	assert.Equal(t, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}, rec.got())
	assert.Equal(t, 3, resp.Attempts)
	assert.Equal(t, keys[0], resp.IdempotencyKey)

	// A second logical call gets a fresh key.
	require.NoError(t, c.Post(context.Background(), "/v1/charges", nil, nil))
	assert.NotEqual(t, keys[0], keys[len(keys)-1])
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter func() string
		min, max   time.Duration // the recorded wait
	}{
		{"seconds", func() string { return "7" }, 7 * time.Second, 7 * time.Second},
		{"zero", func() string { return "0" }, 0, 0},
		{"http date", func() string { return time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat) }, 20 * time.Second, 30 * time.Second},
		{"date in the past", func() string { return "Mon, 02 Jan 2006 15:04:05 GMT" }, 0, 0},
		{"garbage falls back to backoff", func() string { return "soon" }, 100 * time.Millisecond, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) == 1 {
					w.Header().Set("Retry-After", tt.retryAfter())
					stripeError(w, http.StatusTooManyRequests, "rate_limit_error", "rate_limit", "slow down")
					return
				}
				fmt.Fprint(w, `{}`)
			}))
			defer srv.Close()
			var slept []time.Duration
			c, _ := newClient(t, srv, client.Config{Sleep: func(_ context.Context, d time.Duration) error {
				slept = append(slept, d)
				return nil
			}})
			require.NoError(t, c.Get(context.Background(), "/v1/customers", nil, nil))
			assert.EqualValues(t, 2, calls.Load())
			if tt.max == 0 {
				assert.Empty(t, slept, "a zero wait must not sleep")
				return
			}
			require.Len(t, slept, 1)
			assert.GreaterOrEqual(t, slept[0], tt.min)
			assert.LessOrEqual(t, slept[0], tt.max)
		})
	}
}

func TestRetryAfterLongerThanMaxStops(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Retry-After", "3600")
		stripeError(w, http.StatusTooManyRequests, "rate_limit_error", "rate_limit", "slow down")
	}))
	defer srv.Close()
	c, rec := newClient(t, srv, client.Config{})
	err := c.Post(context.Background(), "/v1/charges", nil, nil)
	var e *client.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, http.StatusTooManyRequests, e.StatusCode)
	assert.EqualValues(t, 1, calls.Load())
	assert.Empty(t, rec.got())
}

func TestWhatIsRetried(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		code        string
		attempts    int32  // with MaxAttempts 3 and a server that always fails
		shouldRetry string // the Stripe-Should-Retry header, if any
	}{
		{"400", 400, "parameter_missing", 1, ""},
		{"401", 401, "", 1, ""},
		{"402 card declined", 402, "card_declined", 1, ""},
		{"403", 403, "", 1, ""},
		{"404", 404, "resource_missing", 1, ""},
		{"409 idempotency key reused", 409, "idempotency_key_reused", 1, ""},
		{"400 idempotency key reused", 400, "idempotency_key_reused", 1, "false"},
		{"500 should not retry", 500, "", 1, "false"},
		{"409 other should retry", 409, "lock_timeout", 3, "true"},
		{"400 should retry", 400, "", 3, "true"},
		{"503 should retry", 503, "", 3, "true"},
		{"503 garbage header", 503, "", 3, "maybe"},
		{"409 other", 409, "", 1, ""},
		{"409 idempotency key in use", 409, "idempotency_key_in_use", 3, ""},
		{"429", 429, "rate_limit", 3, ""},
		{"500", 500, "", 3, ""},
		{"502", 502, "", 3, ""},
		{"503", 503, "", 3, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				w.Header().Set("Request-Id", "req_123")
				if tt.shouldRetry != "" {
					w.Header().Set("Stripe-Should-Retry", tt.shouldRetry)
				}
				stripeError(w, tt.status, "invalid_request_error", tt.code, "nope")
			}))
			defer srv.Close()
			c, rec := newClient(t, srv, client.Config{MaxAttempts: 3})
			err := c.Post(context.Background(), "/v1/charges", map[string]any{"amount": 1}, nil)
			var e *client.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.status, e.StatusCode)
			assert.Equal(t, tt.code, e.Code)
			assert.Equal(t, "invalid_request_error", e.Type)
			assert.Equal(t, "nope", e.Message)
			assert.Equal(t, "req_123", e.RequestID)
			assert.Equal(t, tt.attempts, calls.Load())
			assert.Len(t, rec.got(), int(tt.attempts-1))
		})
	}
}

func TestInUseThenSucceeds(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			stripeError(w, 409, "idempotency_error", "idempotency_key_in_use", "in use")
			return
		}
		w.Header().Set("Idempotent-Replayed", "true")
		fmt.Fprint(w, `{"id":"ch_9"}`)
	}))
	defer srv.Close()
	c, _ := newClient(t, srv, client.Config{})
	var ch struct{ ID string }
	var resp client.Response
	require.NoError(t, c.Post(context.Background(), "/v1/charges", nil, &ch, client.WithResponse(&resp)))
	assert.Equal(t, "ch_9", ch.ID)
	assert.Equal(t, "true", resp.Header.Get("Idempotent-Replayed"))
	assert.Equal(t, 2, resp.Attempts)
}

// TestConnectionDroppedAfterCommit runs a server that creates the charge,
// then drops the connection before answering: the client's retry carries
// the same key, so the server's idempotency map answers with the charge it
// already made.
func TestConnectionDroppedAfterCommit(t *testing.T) {
	var (
		mu      sync.Mutex
		byKey   = map[string]string{} // idempotency key -> charge id
		charges []string
		calls   int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		require.NoError(t, r.ParseForm())
		mu.Lock()
		calls++
		id, seen := byKey[key]
		if !seen {
			id = "ch_" + strconv.Itoa(len(charges)+1) + "_" + r.PostForm.Get("amount")
			charges = append(charges, id)
			byKey[key] = id
		}
		first := calls == 1
		mu.Unlock()
		if first {
			conn, _, err := w.(http.Hijacker).Hijack()
			require.NoError(t, err)
			conn.Close()
			return
		}
		fmt.Fprintf(w, `{"id":%q,"object":"charge"}`, id)
	}))
	defer srv.Close()
	c, rec := newClient(t, srv, client.Config{})

	var ch struct{ ID string }
	require.NoError(t, c.Post(context.Background(), "/v1/charges", url.Values{"amount": {"500"}}, &ch))
	assert.Equal(t, "ch_1_500", ch.ID)
	assert.Equal(t, []string{"ch_1_500"}, charges)
	assert.Len(t, byKey, 1)
	assert.Len(t, rec.got(), 1)
}

func TestNetworkErrorsAreRetried(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens: connection refused

	rec := &recorder{}
	c, err := client.New(client.Config{BaseURL: "http://" + addr, Sleep: rec.sleep, Jitter: noJitter})
	require.NoError(t, err)
	err = c.Get(context.Background(), "/v1/customers", nil, nil)
	require.Error(t, err)
	var e *client.Error
	assert.False(t, errors.As(err, &e), "a network error is not an API error")
	assert.Equal(t, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}, rec.got())
}

func TestMaxAttempts(t *testing.T) {
	for _, tt := range []struct{ max, want int }{{0, client.DefaultMaxAttempts}, {1, 1}, {2, 2}, {6, 6}} {
		t.Run(strconv.Itoa(tt.max), func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				w.WriteHeader(http.StatusInternalServerError)
				fmt.Fprint(w, "boom")
			}))
			defer srv.Close()
			c, rec := newClient(t, srv, client.Config{MaxAttempts: tt.max})
			err := c.Get(context.Background(), "/", nil, nil)
			var e *client.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, 500, e.StatusCode)
			assert.Equal(t, []byte("boom"), e.Body, "a body not in Stripe's shape is kept")
			assert.EqualValues(t, tt.want, calls.Load())
			assert.Len(t, rec.got(), tt.want-1)
		})
	}
}

func TestContextCancelStopsWaiting(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	// The real Sleep, with a backoff no test would wait out; Backoff is
	// called just before the wait starts.
	waiting := make(chan struct{})
	c, err := client.New(client.Config{BaseURL: srv.URL, Backoff: func(int) time.Duration {
		close(waiting)
		return time.Hour
	}})
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Post(ctx, "/v1/charges", nil, nil) }()
	<-waiting
	cancel()
	err = <-done
	assert.ErrorIs(t, err, context.Canceled)
	var e *client.Error
	require.ErrorAs(t, err, &e, "the last answer is kept")
	assert.Equal(t, 503, e.StatusCode)
	assert.EqualValues(t, 1, calls.Load())
}

func TestNoSleepPastDeadline(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Retry-After", "50")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	c, rec := newClient(t, srv, client.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := c.Get(ctx, "/", nil, nil)
	var e *client.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 429, e.StatusCode)
	assert.EqualValues(t, 1, calls.Load())
	assert.Empty(t, rec.got(), "a wait past the deadline is not started")
}

func TestCancelledBeforeStart(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	defer srv.Close()
	c, _ := newClient(t, srv, client.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, c.Get(ctx, "/", nil, nil), context.Canceled)
	assert.Zero(t, calls.Load())
}

// seen is what the echo server below saw of one request.
type seen struct {
	Method, Path, RawQuery, ContentType, Body string
	Header                                    http.Header
}

func echoServer(t *testing.T) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		json.NewEncoder(w).Encode(seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"), string(body), r.Header})
	}))
}

func TestRequests(t *testing.T) {
	srv := echoServer(t)
	defer srv.Close()
	params := map[string]any{
		"amount":   2000,
		"metadata": map[string]string{"order": "6735"},
		"expand":   []string{"customer"},
		"items":    []map[string]any{{"price": "x", "quantity": 2}},
	}
	tests := []struct {
		name   string
		cfg    client.Config
		method string
		path   string
		opts   []client.Option
		check  func(t *testing.T, s seen)
	}{
		{"form post", client.Config{APIKey: "sk_test_1", Version: "2019-10-17"}, "POST", "/v1/charges", nil, func(t *testing.T, s seen) {
			assert.Equal(t, "/v1/charges", s.Path)
			assert.Equal(t, "application/x-www-form-urlencoded", s.ContentType)
			form, err := url.ParseQuery(s.Body)
			require.NoError(t, err)
			assert.Equal(t, url.Values{"amount": {"2000"}, "metadata[order]": {"6735"}, "expand[]": {"customer"},
				"items[0][price]": {"x"}, "items[0][quantity]": {"2"}}, form)
			assert.Equal(t, "Bearer sk_test_1", s.Header.Get("Authorization"))
			assert.Equal(t, "2019-10-17", s.Header.Get("Stripe-Version"))
			assert.NotEmpty(t, s.Header.Get("Idempotency-Key"))
			assert.Equal(t, "application/json", s.Header.Get("Accept"))
		}},
		{"json post", client.Config{JSON: true}, "POST", "/v1/charges", nil, func(t *testing.T, s seen) {
			assert.Equal(t, "application/json", s.ContentType)
			assert.JSONEq(t, `{"amount":2000,"metadata":{"order":"6735"},"expand":["customer"],"items":[{"price":"x","quantity":2}]}`, s.Body)
			assert.Empty(t, s.Header.Get("Authorization"))
			assert.Empty(t, s.Header.Get("Stripe-Version"))
		}},
		{"json by option", client.Config{}, "POST", "/v1/charges", []client.Option{client.WithJSON(true)}, func(t *testing.T, s seen) {
			assert.Equal(t, "application/json", s.ContentType)
		}},
		{"get puts params in the query", client.Config{}, "GET", "/v1/charges?limit=3", nil, func(t *testing.T, s seen) {
			q, err := url.ParseQuery(s.RawQuery)
			require.NoError(t, err)
			assert.Equal(t, []string{"3"}, q["limit"])
			assert.Equal(t, []string{"customer"}, q["expand[]"])
			assert.Equal(t, []string{"6735"}, q["metadata[order]"])
			assert.Empty(t, s.Body)
			assert.Empty(t, s.Header.Get("Idempotency-Key"), "only POST gets a key by default")
		}},
		{"delete", client.Config{}, "DELETE", "v1/customers/cus_1", nil, func(t *testing.T, s seen) {
			assert.Equal(t, "DELETE", s.Method)
			assert.Equal(t, "/v1/customers/cus_1", s.Path)
		}},
		{"own key, version and header", client.Config{Version: "2019-10-17", VersionHeader: "Acme-Version"}, "POST", "/v1/charges",
			[]client.Option{client.WithIdempotencyKey("my-key"), client.WithVersion("2024-09-30.acacia"), client.WithHeader("Stripe-Account", "acct_1")},
			func(t *testing.T, s seen) {
				assert.Equal(t, "my-key", s.Header.Get("Idempotency-Key"))
				assert.Equal(t, "2024-09-30.acacia", s.Header.Get("Acme-Version"))
				assert.Empty(t, s.Header.Get("Stripe-Version"))
				assert.Equal(t, "acct_1", s.Header.Get("Stripe-Account"))
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newClient(t, srv, tt.cfg)
			var s seen
			require.NoError(t, c.Do(context.Background(), tt.method, tt.path, params, &s, tt.opts...))
			assert.Equal(t, tt.method, s.Method)
			tt.check(t, s)
		})
	}
}

func TestBaseURLPath(t *testing.T) {
	srv := echoServer(t)
	defer srv.Close()
	c, err := client.New(client.Config{BaseURL: srv.URL + "/api/"})
	require.NoError(t, err)
	var s seen
	require.NoError(t, c.Get(context.Background(), "/v1/customers", nil, &s))
	assert.Equal(t, "/api/v1/customers", s.Path)
	var raw []byte
	require.NoError(t, c.Get(context.Background(), "/x", nil, &raw))
	assert.Contains(t, string(raw), `"Path":"/api/x"`)

	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%q", r.URL.EscapedPath())
	}))
	defer srv2.Close()
	c2, err := client.New(client.Config{BaseURL: srv2.URL})
	require.NoError(t, err)
	var path string
	require.NoError(t, c2.Get(context.Background(), "/v1/customers/cus%2F1", nil, &path))
	assert.Equal(t, "/v1/customers/cus%2F1", path)

	assert.Error(t, c.Get(context.Background(), "http://evil.example/steal", nil, nil), "another host is refused")
	assert.Error(t, c.Get(context.Background(), "//evil.example/steal", nil, nil), "another host is refused")
}

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		cfg  client.Config
		ok   bool
	}{
		{"ok", client.Config{BaseURL: "http://127.0.0.1:4242"}, true},
		{"https with path", client.Config{BaseURL: "https://api.example.com/v2"}, true},
		{"empty", client.Config{}, false},
		{"no scheme", client.Config{BaseURL: "127.0.0.1:4242"}, false},
		{"ftp", client.Config{BaseURL: "ftp://example.com"}, false},
		{"negative attempts", client.Config{BaseURL: "http://h", MaxAttempts: -1}, false},
		{"key with newline", client.Config{BaseURL: "http://h", APIKey: "sk\r\nX-Evil: 1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client.New(tt.cfg)
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, client.ErrConfig)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	e := &client.Error{StatusCode: 409, Type: "idempotency_error", Code: "idempotency_key_reused", Message: "Keys are for one request.", RequestID: "req_1"}
	assert.Equal(t, "client: 409 idempotency_error (idempotency_key_reused): Keys are for one request. [request req_1]", e.Error())
	e = &client.Error{StatusCode: 502, Body: []byte("bad gateway")}
	assert.Equal(t, `client: 502 Bad Gateway: "bad gateway"`, e.Error())
}

func TestDecodeError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "not json") }))
	defer srv.Close()
	c, _ := newClient(t, srv, client.Config{})
	var out map[string]any
	assert.ErrorContains(t, c.Get(context.Background(), "/", nil, &out), "decoding response")
}
