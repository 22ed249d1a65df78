package idempotency_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/idempotency"
	"github.com/verso-api/verso/idempotency/idemtest"
	"github.com/verso-api/verso/storage"
)

// backend is a store the middleware tests run on, and how its handlers save.
type backend struct {
	name string
	open func(t *testing.T) idemtest.Opened
	inTx bool // the handler saves with SaveInTx in its own transaction
}

func backends() []backend {
	return []backend{
		{"memory", openMemory, false},
		{"sqlite", openSQLite, false},
		{"sqlite in tx", openSQLite, true},
		{"postgres", openPostgres, false},
		{"postgres in tx", openPostgres, true},
	}
}

// app is a small charges API behind the middleware, served on 127.0.0.1.
type app struct {
	t      *testing.T
	url    string
	store  *watchStore
	db     *storage.DB
	clock  *idemtest.Clock
	inTx   bool
	runs   atomic.Int32
	hold   chan struct{} // when not nil, /v1/charges waits for it before answering
	server *httptest.Server
}

// watchStore passes calls to a real store and reports when a claim found the
// key in progress.
type watchStore struct {
	idempotency.Store
	once     sync.Once
	inFlight chan struct{}
}

func (w *watchStore) Claim(ctx context.Context, c idempotency.Claim) (idempotency.Record, error) {
	rec, err := w.Store.Claim(ctx, c)
	if err == nil && rec.State == idempotency.InProgress {
		w.once.Do(func() { close(w.inFlight) })
	}
	return rec, err
}

const (
	ttl   = 24 * time.Hour
	lease = time.Minute
)

func newApp(t *testing.T, b backend) *app {
	t.Helper()
	o := b.open(t)
	a := &app{
		t:     t,
		store: &watchStore{Store: o.Store, inFlight: make(chan struct{})},
		db:    o.DB,
		clock: idemtest.NewClock(idemtest.T0),
		inTx:  b.inTx,
	}
	if a.db != nil {
		_, err := a.db.Exec(context.Background(), `CREATE TABLE IF NOT EXISTS charges (id TEXT PRIMARY KEY, amount TEXT NOT NULL)`)
		require.NoError(t, err)
	}
	mw, err := idempotency.Config{
		Store: a.store,
		Account: func(r *http.Request) (string, error) {
			acct := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
			if acct == "" {
				return "", errNoAccount
			}
			return acct, nil
		},
		TTL:    ttl,
		Lease:  lease,
		Clock:  a.clock.Now,
		Logger: quiet,
	}.ToMiddleware()
	require.NoError(t, err)

	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/charges", a.createCharge)
	mux.HandleFunc("POST /v1/refunds", a.createCharge)
	mux.HandleFunc("GET /v1/charges", a.createCharge)
	mux.HandleFunc("POST /v1/fail", func(w http.ResponseWriter, r *http.Request) {
		a.runs.Add(1)
		apierror.Write(w, r, apierror.New(500, apierror.TypeAPI, "api_error", fmt.Sprint("failure ", a.runs.Load())))
	})
	mux.HandleFunc("POST /v1/declined", func(w http.ResponseWriter, r *http.Request) {
		a.runs.Add(1)
		apierror.Write(w, r, apierror.New(http.StatusPaymentRequired, apierror.TypeCard, "card_declined", fmt.Sprint("declined ", a.runs.Load())))
	})
	mux.HandleFunc("POST /v1/limited", func(w http.ResponseWriter, r *http.Request) {
		a.runs.Add(1)
		apierror.Write(w, r, apierror.New(http.StatusTooManyRequests, apierror.TypeRateLimit, "rate_limit", "slow down"))
	})
	mux.HandleFunc("POST /v1/conflict", func(w http.ResponseWriter, r *http.Request) {
		a.runs.Add(1)
		apierror.Write(w, r, apierror.New(http.StatusConflict, apierror.TypeInvalidRequest, "conflict", "conflict"))
	})
	mux.HandleFunc("POST /v1/panic", func(w http.ResponseWriter, r *http.Request) {
		a.runs.Add(1)
		panic("handler bug")
	})
	mux.HandleFunc("POST /v1/rollback", func(w http.ResponseWriter, r *http.Request) {
		a.runs.Add(1)
		ctx := r.Context()
		err := a.db.InTx(ctx, func(tx *storage.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO charges (id, amount) VALUES (?, ?)`, "ch_rollback", "1"); err != nil {
				return err
			}
			if err := idempotency.FromContext(ctx).SaveInTx(ctx, tx, 200, nil, []byte(`{}`)); err != nil {
				return err
			}
			return errors.New("the write fails after the save")
		})
		apierror.Write(w, r, err)
	})
	mux.HandleFunc("POST /v1/crash", func(w http.ResponseWriter, r *http.Request) {
		// Commits the charge and its saved response, then the connection
		// drops before the client hears anything.
		a.createCharge(nopWriter{w}, r)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			apierror.Write(w, r, err)
			return
		}
		conn.Close()
	})
	a.server = httptest.NewUnstartedServer(recoverer(fakeVersioning(mw(mux))))
	a.server.Config.ErrorLog = log.New(io.Discard, "", 0)
	a.server.Start()
	t.Cleanup(a.server.Close)
	a.url = a.server.URL
	return a
}

var errNoAccount = apierror.New(http.StatusUnauthorized, apierror.TypeAuthentication, "api_key_required", "no account")

// quiet is a logger for what the tests provoke on purpose.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// recoverer answers a panic with a 500, as a server's recovery middleware
// does.
func recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				apierror.Write(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// createCharge is a handler written for the newest schema only.
func (a *app) createCharge(w http.ResponseWriter, r *http.Request) {
	amount, err := amountOf(r)
	if err != nil {
		apierror.Write(w, r, apierror.New(400, apierror.TypeInvalidRequest, "parameter_invalid", err.Error()))
		return
	}
	n := a.runs.Add(1)
	if a.hold != nil {
		select {
		case <-a.hold:
		case <-time.After(30 * time.Second): // no duplicate came: the test then fails
		}
	}
	id := fmt.Sprintf("ch_%d", n)
	body := fmt.Sprintf(`{"id":%q,"object":"charge","amount":%s}`, id, amount)
	w.Header().Set("Location", "/v1/charges/"+id)
	w.Header().Set("Content-Type", "application/json")
	if a.inTx {
		ctx := r.Context()
		err = a.db.InTx(ctx, func(tx *storage.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO charges (id, amount) VALUES (?, ?)`, id, amount); err != nil {
				return err
			}
			hdr := http.Header{"Content-Type": {"application/json"}, "Location": {"/v1/charges/" + id}}
			return idempotency.FromContext(ctx).SaveInTx(ctx, tx, http.StatusOK, hdr, []byte(body))
		})
		if err != nil {
			apierror.Write(w, r, err)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, body)
}

func amountOf(r *http.Request) (string, error) {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var v struct{ Amount json.Number }
		if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
			return "", err
		}
		if _, err := v.Amount.Float64(); err != nil {
			return "", err
		}
		return v.Amount.String(), nil
	}
	return r.FormValue("amount"), nil
}

// fakeVersioning stands in for the versioning middleware outside: a client
// on version "old" calls the newest field "amount" "amount_cents". It walks
// the request forward and the response back.
func fakeVersioning(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Stripe-Version") != "old" {
			next.ServeHTTP(w, r)
			return
		}
		in, _ := io.ReadAll(r.Body)
		in = bytes.ReplaceAll(in, []byte("amount_cents"), []byte("amount"))
		r.Body = io.NopCloser(bytes.NewReader(in))
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Set("Stripe-Version", "old")
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		w.Write(bytes.ReplaceAll(rec.Body.Bytes(), []byte(`"amount"`), []byte(`"amount_cents"`)))
	})
}

type reply struct {
	status   int
	header   http.Header
	body     string
	replayed bool
}

// post sends a POST with key (none when key is "-") and body; a body
// starting with '{' is sent as JSON, anything else as a form.
func (a *app) post(path, key, body string, hdr ...string) reply {
	a.t.Helper()
	return a.do(http.MethodPost, path, key, body, hdr...)
}

func (a *app) do(method, path, key, body string, hdr ...string) reply {
	a.t.Helper()
	req, err := http.NewRequest(method, a.url+path, strings.NewReader(body))
	require.NoError(a.t, err)
	req.Header.Set("Authorization", "Bearer acct_1")
	if strings.HasPrefix(body, "{") {
		req.Header.Set("Content-Type", "application/json")
	} else {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if key != "-" {
		req.Header.Set("Idempotency-Key", key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Del(hdr[i])
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(a.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(a.t, err)
	return reply{res.StatusCode, res.Header, string(b), res.Header.Get("Idempotent-Replayed") == "true"}
}

// apiError is the "error" object of a Stripe-shaped error body.
type apiError struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// errorOf decodes a Stripe-shaped error body.
func errorOf(t *testing.T, r reply) apiError {
	t.Helper()
	var e struct{ Error apiError }
	require.NoError(t, json.Unmarshal([]byte(r.body), &e), r.body)
	return e.Error
}

func (a *app) charges() int {
	var n int
	require.NoError(a.t, a.db.QueryRow(context.Background(), `SELECT COUNT(*) FROM charges`).Scan(&n))
	return n
}

func TestMiddleware(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Run("concurrent identical requests run once", func(t *testing.T) {
				a := newApp(t, b)
				a.hold = a.store.inFlight // answer once a duplicate has been turned away
				const n = 100
				replies := make([]reply, n)
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i := range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						replies[i] = a.post("/v1/charges", "same-key", `{"amount":1000,"currency":"usd"}`)
					}()
				}
				close(start)
				wg.Wait()

				require.EqualValues(t, 1, a.runs.Load(), "the handler ran once")
				saved := a.post("/v1/charges", "same-key", `{"currency":"usd","amount":1000}`)
				require.Equal(t, 200, saved.status)
				require.True(t, saved.replayed)
				require.Equal(t, `{"id":"ch_1","object":"charge","amount":1000}`, saved.body)
				var ok, inUse int
				for i, r := range replies {
					switch r.status {
					case 200:
						ok++
						require.Equal(t, saved.body, r.body, "reply %d", i)
					case 409:
						inUse++
						require.Equal(t, apiError{Type: "idempotency_error", Code: "idempotency_key_in_use",
							Message: errorOf(t, r).Message}, errorOf(t, r))
						require.Equal(t, "1", r.header.Get("Retry-After"))
						require.Equal(t, "true", r.header.Get("Stripe-Should-Retry"))
					default:
						t.Fatalf("reply %d: %d %s", i, r.status, r.body)
					}
				}
				require.GreaterOrEqual(t, ok, 1)
				require.GreaterOrEqual(t, inUse, 1, "the handler answered only after a duplicate got 409")
				if b.inTx {
					require.Equal(t, 1, a.charges())
				}
			})

			t.Run("replay", func(t *testing.T) {
				a := newApp(t, b)
				first := a.post("/v1/charges", "k1", `{"amount":1000,"currency":"usd"}`)
				require.Equal(t, 200, first.status)
				require.False(t, first.replayed)
				tests := []struct{ name, body string }{
					{"same body", `{"amount":1000,"currency":"usd"}`},
					{"keys reordered", `{"currency":"usd","amount":1000}`},
					{"whitespace", "{ \"currency\" : \"usd\",\n \"amount\" : 1000 }"},
					{"form", `currency=usd&amount=1000`},
					{"numeric string", `{"amount":"1000","currency":"usd"}`},
				}
				for _, tt := range tests {
					t.Run(tt.name, func(t *testing.T) {
						r := a.post("/v1/charges", "k1", tt.body)
						require.Equal(t, 200, r.status, r.body)
						require.True(t, r.replayed)
						require.Equal(t, first.body, r.body)
						require.Equal(t, first.header.Get("Content-Type"), r.header.Get("Content-Type"))
						require.Equal(t, "/v1/charges/ch_1", r.header.Get("Location"))
					})
				}
				require.EqualValues(t, 1, a.runs.Load())
			})

			t.Run("form then json with nested params", func(t *testing.T) {
				a := newApp(t, b)
				form := `amount=500&metadata[order]=42&metadata[note]=a+b&expand[]=customer&expand[]=invoice&items[0][price]=p_1&items[1][price]=p_2&items[1][quantity]=3`
				first := a.post("/v1/charges", "k2", form)
				require.Equal(t, 200, first.status)
				r := a.post("/v1/charges", "k2", `{"items":[{"price":"p_1"},{"quantity":3,"price":"p_2"}],"expand":["customer","invoice"],"metadata":{"note":"a b","order":"42"},"amount":500}`)
				require.True(t, r.replayed, r.body)
				require.Equal(t, first.body, r.body)
				r = a.post("/v1/charges", "k2", `{"items":[{"price":"p_2"},{"quantity":3,"price":"p_1"}],"expand":["customer","invoice"],"metadata":{"note":"a b","order":"42"},"amount":500}`)
				require.Equal(t, 400, r.status, "array order matters")
				require.EqualValues(t, 1, a.runs.Load())
			})

			t.Run("reused", func(t *testing.T) {
				a := newApp(t, b)
				require.Equal(t, 200, a.post("/v1/charges", "k3", `{"amount":1000}`).status)
				tests := []struct {
					name, path, body, says string
				}{
					{"different amount", "/v1/charges", `{"amount":2000}`, "different parameters for POST /v1/charges"},
					{"extra parameter", "/v1/charges", `{"amount":1000,"capture":false}`, "different parameters"},
					{"different path", "/v1/refunds", `{"amount":1000}`, "first used for POST /v1/charges; this request is for POST /v1/refunds"},
					{"different query", "/v1/charges?expand[]=customer", `{"amount":1000}`, "different parameters"},
				}
				for _, tt := range tests {
					t.Run(tt.name, func(t *testing.T) {
						r := a.post(tt.path, "k3", tt.body)
						require.Equal(t, 400, r.status, r.body)
						require.Equal(t, "false", r.header.Get("Stripe-Should-Retry"))
						e := errorOf(t, r)
						require.Equal(t, "idempotency_error", e.Type)
						require.Equal(t, "idempotency_key_reused", e.Code)
						require.Contains(t, e.Message, tt.says)
						require.Contains(t, e.Message, `"k3"`)
					})
				}
				require.EqualValues(t, 1, a.runs.Load(), "the handler did not run for a reused key")
				if b.inTx {
					require.Equal(t, 1, a.charges())
				}
			})

			t.Run("invalid keys", func(t *testing.T) {
				a := newApp(t, b)
				tests := []struct {
					name   string
					keys   []string
					status int
					says   string
				}{
					{"empty", []string{""}, 400, "empty"},
					{"256 characters", []string{strings.Repeat("k", 256)}, 400, "256 characters long; keys may be at most 255"},
					{"two keys", []string{"a", "b"}, 400, "one Idempotency-Key header"},
					{"invalid UTF-8", []string{"k\xff"}, 400, "not valid UTF-8"},
					{"255 characters", []string{strings.Repeat("k", 255)}, 200, ""},
					{"255 two-byte characters", []string{strings.Repeat("é", 255)}, 200, ""},
				}
				for _, tt := range tests {
					t.Run(tt.name, func(t *testing.T) {
						var hdr []string
						for _, k := range tt.keys {
							hdr = append(hdr, "Idempotency-Key", k)
						}
						r := a.post("/v1/charges", "-", `{"amount":1}`, hdr...)
						require.Equal(t, tt.status, r.status, r.body)
						if tt.status == 400 {
							e := errorOf(t, r)
							require.Equal(t, "invalid_request_error", e.Type)
							require.Equal(t, "idempotency_key_invalid", e.Code)
							require.Contains(t, e.Message, tt.says)
						}
					})
				}
				require.EqualValues(t, 2, a.runs.Load(), "only the valid keys ran")
			})

			t.Run("without a key or not a POST", func(t *testing.T) {
				a := newApp(t, b)
				a.post("/v1/charges", "-", `{"amount":1}`)
				a.post("/v1/charges", "-", `{"amount":1}`)
				r1 := a.do(http.MethodGet, "/v1/charges?amount=1", "g", "")
				r2 := a.do(http.MethodGet, "/v1/charges?amount=1", "g", "")
				require.False(t, r1.replayed || r2.replayed)
				require.EqualValues(t, 4, a.runs.Load())
			})

			t.Run("accounts do not share keys", func(t *testing.T) {
				a := newApp(t, b)
				r1 := a.post("/v1/charges", "shared", `{"amount":1}`)
				r2 := a.post("/v1/charges", "shared", `{"amount":1}`, "Authorization", "Bearer acct_2")
				require.False(t, r2.replayed)
				require.NotEqual(t, r1.body, r2.body)
				require.EqualValues(t, 2, a.runs.Load())
				r := a.post("/v1/charges", "shared", `{"amount":1}`, "Authorization", "")
				require.Equal(t, 401, r.status, "an account error is returned before the key is claimed")
			})

			t.Run("500 frees the key", func(t *testing.T) {
				a := newApp(t, b)
				first := a.post("/v1/fail", "k5", `{"amount":1}`)
				require.Equal(t, 500, first.status)
				require.Contains(t, first.body, "failure 1")
				require.Equal(t, "true", first.header.Get("Stripe-Should-Retry"))
				r := a.post("/v1/fail", "k5", `{"amount":1}`)
				require.Equal(t, 500, r.status)
				require.False(t, r.replayed)
				require.Contains(t, r.body, "failure 2", "the retry ran the handler again")
				require.EqualValues(t, 2, a.runs.Load())
			})

			t.Run("validation refusal is not saved", func(t *testing.T) {
				a := newApp(t, b)
				bad := a.post("/v1/charges", "k13", `{"amount":true}`)
				require.Equal(t, 400, bad.status, bad.body)
				require.Equal(t, "false", bad.header.Get("Stripe-Should-Retry"))
				require.EqualValues(t, 0, a.runs.Load())
				fixed := a.post("/v1/charges", "k13", `{"amount":5}`)
				require.Equal(t, 200, fixed.status, "the corrected request runs with the same key: %s", fixed.body)
				require.False(t, fixed.replayed)
				again := a.post("/v1/charges", "k13", `{"amount":5}`)
				require.True(t, again.replayed)
				require.Equal(t, fixed.body, again.body)
				require.EqualValues(t, 1, a.runs.Load())
			})

			t.Run("402 is saved and replayed", func(t *testing.T) {
				a := newApp(t, b)
				first := a.post("/v1/declined", "k14", `{"amount":1}`)
				require.Equal(t, 402, first.status)
				require.Equal(t, "false", first.header.Get("Stripe-Should-Retry"))
				r := a.post("/v1/declined", "k14", `{"amount":1}`)
				require.Equal(t, 402, r.status)
				require.True(t, r.replayed)
				require.Equal(t, first.body, r.body)
				require.EqualValues(t, 1, a.runs.Load())
			})

			t.Run("409 and 429 are not saved", func(t *testing.T) {
				for _, path := range []string{"/v1/limited", "/v1/conflict"} {
					t.Run(path, func(t *testing.T) {
						a := newApp(t, b)
						r1 := a.post(path, "k6", `{"amount":1}`)
						r2 := a.post(path, "k6", `{"amount":1}`)
						require.Equal(t, r1.status, r2.status)
						require.Contains(t, []int{409, 429}, r2.status)
						require.False(t, r2.replayed)
						require.EqualValues(t, 2, a.runs.Load(), "the retry ran the handler again")
					})
				}
			})

			t.Run("panic frees the key", func(t *testing.T) {
				a := newApp(t, b)
				require.Equal(t, 500, a.post("/v1/panic", "k7", `{}`).status)
				require.Equal(t, 500, a.post("/v1/panic", "k7", `{}`).status)
				require.EqualValues(t, 2, a.runs.Load())
			})

			t.Run("expired key runs again", func(t *testing.T) {
				a := newApp(t, b)
				first := a.post("/v1/charges", "k8", `{"amount":1}`)
				a.clock.Advance(ttl - time.Second)
				require.True(t, a.post("/v1/charges", "k8", `{"amount":1}`).replayed)
				a.clock.Advance(time.Second)
				r := a.post("/v1/charges", "k8", `{"amount":2}`)
				require.Equal(t, 200, r.status)
				require.False(t, r.replayed)
				require.NotEqual(t, first.body, r.body)
				require.EqualValues(t, 2, a.runs.Load())
			})

			t.Run("abandoned key is retryable after the lease", func(t *testing.T) {
				a := newApp(t, b)
				// A process claimed the key for this very request, then died.
				probe := a.post("/v1/charges", "probe", `{"amount":7}`)
				require.Equal(t, 200, probe.status)
				fp := fingerprintOf(t, a, "probe")
				now := a.clock.Now()
				_, err := a.store.Claim(context.Background(), idempotency.Claim{
					Key: idempotency.Key{Account: "acct_1", Key: "k9"}, Fingerprint: fp, Token: "dead",
					Now: now, LockedUntil: now.Add(lease), ExpiresAt: now.Add(ttl),
				})
				require.NoError(t, err)
				r := a.post("/v1/charges", "k9", `{"amount":7}`)
				require.Equal(t, 409, r.status)
				require.Equal(t, "idempotency_key_in_use", errorOf(t, r).Code)
				a.clock.Advance(lease)
				r = a.post("/v1/charges", "k9", `{"amount":7}`)
				require.Equal(t, 200, r.status, r.body)
				require.False(t, r.replayed)
				require.True(t, a.post("/v1/charges", "k9", `{"amount":7}`).replayed)
				require.EqualValues(t, 2, a.runs.Load())
			})

			t.Run("replay in the retrying client's version", func(t *testing.T) {
				a := newApp(t, b)
				first := a.post("/v1/charges", "k10", `{"amount_cents":300}`, "Stripe-Version", "old")
				require.Equal(t, `{"id":"ch_1","object":"charge","amount_cents":300}`, first.body)
				r := a.post("/v1/charges", "k10", `{"amount":300}`)
				require.True(t, r.replayed)
				require.Equal(t, `{"id":"ch_1","object":"charge","amount":300}`, r.body, "the newest version sees the newest shape")
				r = a.post("/v1/charges", "k10", `amount_cents=300`, "Stripe-Version", "old")
				require.True(t, r.replayed)
				require.Equal(t, first.body, r.body)
				require.Equal(t, "old", r.header.Get("Stripe-Version"))
				require.EqualValues(t, 1, a.runs.Load())
			})

			if b.inTx {
				t.Run("committed then the connection dropped", func(t *testing.T) {
					a := newApp(t, b)
					req, err := http.NewRequest(http.MethodPost, a.url+"/v1/crash", strings.NewReader(`{"amount":99}`))
					require.NoError(t, err)
					req.Header.Set("Authorization", "Bearer acct_1")
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Idempotency-Key", "k12")
					// A fresh connection: net/http's transport would itself retry a
					// request with an Idempotency-Key that failed on a reused one.
					client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
					_, err = client.Do(req)
					require.Error(t, err, "the client heard nothing")
					r := a.post("/v1/crash", "k12", `{"amount":99}`)
					require.Equal(t, 200, r.status)
					require.True(t, r.replayed)
					require.Equal(t, `{"id":"ch_1","object":"charge","amount":99}`, r.body, "the original charge id")
					require.EqualValues(t, 1, a.runs.Load())
					require.Equal(t, 1, a.charges())
				})

				t.Run("rolled back transaction frees the key", func(t *testing.T) {
					a := newApp(t, b)
					first := a.post("/v1/rollback", "k11", `{}`)
					require.Equal(t, 500, first.status)
					require.Equal(t, "true", first.header.Get("Stripe-Should-Retry"))
					r := a.post("/v1/rollback", "k11", `{}`)
					require.Equal(t, 500, r.status)
					require.False(t, r.replayed)
					require.EqualValues(t, 2, a.runs.Load())
					require.Equal(t, 0, a.charges())
				})
			}
		})
	}
}

// nopWriter drops what is written to it, as a process that died would.
type nopWriter struct{ http.ResponseWriter }

func (nopWriter) WriteHeader(int)             {}
func (nopWriter) Write(b []byte) (int, error) { return len(b), nil }

// Unwrap gives http.ResponseController the writer to hijack.
func (w nopWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// fingerprintOf reads back the fingerprint a completed key was saved with.
func fingerprintOf(t *testing.T, a *app, key string) idempotency.Fingerprint {
	t.Helper()
	now := a.clock.Now()
	rec, err := a.store.Claim(context.Background(), idempotency.Claim{
		Key: idempotency.Key{Account: "acct_1", Key: key}, Token: "read",
		Now: now, LockedUntil: now.Add(lease), ExpiresAt: now.Add(ttl),
	})
	require.NoError(t, err)
	require.Equal(t, idempotency.Completed, rec.State)
	return rec.Fingerprint
}

func TestConfig(t *testing.T) {
	store := idempotency.NewMemoryStore(nil)
	tests := []struct {
		name string
		cfg  idempotency.Config
		err  string
	}{
		{"defaults", idempotency.Config{Store: store}, ""},
		{"no store", idempotency.Config{}, "no Store"},
		{"negative TTL", idempotency.Config{Store: store, TTL: -time.Hour}, "negative TTL"},
		{"lease longer than TTL", idempotency.Config{Store: store, TTL: time.Minute, Lease: time.Hour}, "longer than TTL"},
		{"negative key length", idempotency.Config{Store: store, MaxKeyLength: -1}, "negative MaxKeyLength"},
		{"negative body size", idempotency.Config{Store: store, MaxBodyBytes: -1}, "negative MaxBodyBytes"},
		{"saving Content-Length", idempotency.Config{Store: store, SaveHeaders: []string{"content-length"}}, `cannot save "content-length"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mw, err := tt.cfg.ToMiddleware()
			if tt.err == "" {
				require.NoError(t, err)
				require.NotNil(t, mw)
				return
			}
			require.ErrorContains(t, err, tt.err)
		})
	}
	require.Panics(t, func() { idempotency.Middleware(nil) })
	require.NotPanics(t, func() { idempotency.Middleware(store) })
}

// send posts body to h with the key, as JSON when it starts with '{' and
// as a form otherwise.
func send(h http.Handler, key, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	if strings.HasPrefix(body, "{") {
		req.Header.Set("Content-Type", "application/json")
	} else {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Idempotency-Key", key)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestErrors checks that every refusal is an *apierror.Error derived from
// the package's sentinels, handed to Config.ErrorHandler, and written in
// the shape the request's context carries.
func TestErrors(t *testing.T) {
	var got []error
	store := &failingStore{Store: idempotency.NewMemoryStore(nil)}
	mw, err := idempotency.Config{
		Store:        store,
		MaxBodyBytes: 64,
		Logger:       quiet,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			got = append(got, err)
			apierror.Write(w, r, err)
		},
	}.ToMiddleware()
	require.NoError(t, err)
	hold := make(chan struct{})
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Hold") != "" {
			<-hold
		}
		io.WriteString(w, "ok")
	}))
	// The API's error shape comes from the request's context.
	flat := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(apierror.WithShape(r.Context(), apierror.Flat())))
	})
	done := make(chan struct{})
	go func() { // holds key "busy" while the table runs
		defer close(done)
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"a":1}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "busy")
		req.Header.Set("Hold", "1")
		h.ServeHTTP(httptest.NewRecorder(), req)
	}()
	for store.claims.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	require.Equal(t, 200, send(h, "used", `{"a":1}`).Code)

	tests := []struct {
		name     string
		key      string
		body     string
		fail     bool
		sentinel error
		status   int
		code     string
		retry    string
	}{
		{"in use", "busy", `{"a":1}`, false, idempotency.ErrKeyInUse, 409, "idempotency_key_in_use", "true"},
		{"reused", "used", `{"a":2}`, false, idempotency.ErrKeyReused, 400, "idempotency_key_reused", "false"},
		{"invalid", "", `{"a":1}`, false, idempotency.ErrInvalidKey, 400, "idempotency_key_invalid", "false"},
		{"too large", "big", `{"a":"` + strings.Repeat("x", 64) + `"}`, false, idempotency.ErrBodyTooLarge, 413, "request_body_too_large", "false"},
		{"store down", "new", `{"a":1}`, true, idempotency.ErrStore, 503, "service_unavailable", "true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got = nil
			store.fail.Store(tt.fail)
			defer store.fail.Store(false)
			rec := send(flat, tt.key, tt.body)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			require.Len(t, got, 1)
			require.ErrorIs(t, got[0], tt.sentinel)
			var e *apierror.Error
			require.ErrorAs(t, got[0], &e)
			var body struct{ Code, Message string }
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
			require.Equal(t, tt.code, body.Code, "flat shape: %s", rec.Body.String())
			require.Equal(t, tt.retry, rec.Header().Get("Stripe-Should-Retry"))
			if tt.status == 409 || tt.status == 503 {
				require.NotEmpty(t, rec.Header().Get("Retry-After"))
			}
			if tt.fail {
				require.ErrorIs(t, got[0], apierror.ErrUnavailable)
				require.ErrorIs(t, got[0], errStoreDown, "the store's error is the cause")
			}
		})
	}
	close(hold)
	<-done
}

var errStoreDown = errors.New("store: connection refused")

// failingStore fails its claims while fail is set.
type failingStore struct {
	idempotency.Store
	fail   atomic.Bool
	claims atomic.Int32
}

func (s *failingStore) Claim(ctx context.Context, c idempotency.Claim) (idempotency.Record, error) {
	if s.fail.Load() {
		return idempotency.Record{}, errStoreDown
	}
	s.claims.Add(1)
	return s.Store.Claim(ctx, c)
}

func TestBodyTooLarge(t *testing.T) {
	runs := 0
	mw, err := idempotency.Config{Store: idempotency.NewMemoryStore(nil), MaxBodyBytes: 16}.ToMiddleware()
	require.NoError(t, err)
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { runs++; io.WriteString(w, "ok") }))
	for _, tt := range []struct {
		body   string
		status int
	}{{"amount=1", 200}, {"amount=1&currency=usd&x=y", 413}} {
		rec := send(h, "k-"+tt.body, tt.body)
		require.Equal(t, tt.status, rec.Code, rec.Body.String())
		if tt.status == 413 {
			require.Contains(t, rec.Body.String(), `"code":"request_body_too_large"`)
		}
	}
	require.Equal(t, 1, runs)
}

func TestFormParsedByOuterMiddleware(t *testing.T) {
	// An outer middleware that parsed the form consumed the body; the
	// fingerprint then comes from the parsed form.
	runs := 0
	inner := idempotency.Middleware(idempotency.NewMemoryStore(nil))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs++
		io.WriteString(w, r.FormValue("amount"))
	}))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			apierror.Write(w, r, err)
			return
		}
		inner.ServeHTTP(w, r)
	})
	require.Equal(t, "100", send(h, "form", "amount=100&currency=usd").Body.String())
	require.Equal(t, "true", send(h, "form", "currency=usd&amount=100").Header().Get("Idempotent-Replayed"))
	require.Equal(t, 400, send(h, "form", "amount=200&currency=usd").Code)
	require.Equal(t, 1, runs)
	// A JSON body is still read: ParseForm left it alone.
	require.Equal(t, 200, send(h, "json", `{"amount":100}`).Code)
	require.Equal(t, 400, send(h, "json", `{"amount":200}`).Code)
	require.Equal(t, "true", send(h, "json", `{"amount":100}`).Header().Get("Idempotent-Replayed"))
	require.Equal(t, 2, runs)
}

func TestSweeper(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := idempotency.NewMemoryStore(nil)
	clock := idemtest.NewClock(idemtest.T0)
	k := idempotency.Key{Key: "k"}
	now := clock.Now()
	_, err := store.Claim(ctx, idempotency.Claim{Key: k, Token: "t", Now: now, LockedUntil: now.Add(lease), ExpiresAt: now.Add(ttl)})
	require.NoError(t, err)
	require.NoError(t, store.Complete(ctx, nil, k, "t", idempotency.Response{Status: 200}, now.Add(ttl)))

	type sweep struct {
		n   int
		err error
	}
	swept := make(chan sweep, 100)
	done := make(chan error)
	go func() {
		done <- idempotency.Sweeper{Store: store, Interval: time.Millisecond, Clock: clock.Now,
			Swept: func(n int, err error) {
				select {
				case swept <- sweep{n, err}:
				case <-ctx.Done():
				}
			}}.Run(ctx)
	}()
	require.Equal(t, sweep{0, nil}, <-swept, "nothing expired yet")
	clock.Advance(ttl)
	for s := range swept {
		require.NoError(t, s.err)
		if s.n > 0 {
			require.Equal(t, 1, s.n)
			break
		}
	}
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	rec, err := store.Claim(context.Background(), idempotency.Claim{Key: k, Token: "u", Now: clock.Now(),
		LockedUntil: clock.Now().Add(lease), ExpiresAt: clock.Now().Add(ttl)})
	require.NoError(t, err)
	require.Equal(t, idempotency.Claimed, rec.State)

	require.ErrorContains(t, idempotency.Sweeper{}.Run(ctx), "no Store")
}
