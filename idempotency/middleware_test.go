package idempotency_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/stretchr/testify/require"

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
		Account: func(c echo.Context) (string, error) {
			acct := strings.TrimPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
			if acct == "" {
				return "", echo.NewHTTPError(http.StatusUnauthorized, "no account")
			}
			return acct, nil
		},
		TTL:   ttl,
		Lease: lease,
		Clock: a.clock.Now,
	}.ToMiddleware()
	require.NoError(t, err)

	e := echo.New()
	e.HideBanner = true
	e.Logger.SetOutput(io.Discard)
	e.Use(middleware.Recover())
	e.Use(fakeVersioning)
	e.Use(mw)
	e.POST("/v1/charges", a.createCharge)
	e.POST("/v1/refunds", a.createCharge)
	e.GET("/v1/charges", a.createCharge)
	e.POST("/v1/fail", func(c echo.Context) error {
		a.runs.Add(1)
		return echo.NewHTTPError(http.StatusInternalServerError, fmt.Sprint("failure ", a.runs.Load()))
	})
	e.POST("/v1/declined", func(c echo.Context) error {
		a.runs.Add(1)
		return c.JSON(http.StatusPaymentRequired, map[string]any{"error": map[string]any{
			"type": "card_error", "code": "card_declined", "message": fmt.Sprint("declined ", a.runs.Load())}})
	})
	e.POST("/v1/limited", func(c echo.Context) error {
		a.runs.Add(1)
		return echo.NewHTTPError(http.StatusTooManyRequests, "slow down")
	})
	e.POST("/v1/conflict", func(c echo.Context) error {
		a.runs.Add(1)
		return c.JSON(http.StatusConflict, map[string]string{"error": "conflict"})
	})
	e.POST("/v1/panic", func(c echo.Context) error {
		a.runs.Add(1)
		panic("handler bug")
	})
	e.POST("/v1/rollback", func(c echo.Context) error {
		a.runs.Add(1)
		return a.db.InTx(c.Request().Context(), func(tx *storage.Tx) error {
			if _, err := tx.Exec(c.Request().Context(), `INSERT INTO charges (id, amount) VALUES (?, ?)`, "ch_rollback", "1"); err != nil {
				return err
			}
			if err := idempotency.FromContext(c).SaveInTx(c.Request().Context(), tx, 200, nil, []byte(`{}`)); err != nil {
				return err
			}
			return errors.New("the write fails after the save")
		})
	})
	e.POST("/v1/crash", func(c echo.Context) error {
		// Commits the charge and its saved response, then the connection
		// drops before the client hears anything.
		if err := a.createCharge(c); err != nil {
			return err
		}
		conn, _, err := http.NewResponseController(c.Response().Writer).Hijack()
		if err != nil {
			return err
		}
		return conn.Close()
	})
	a.server = httptest.NewServer(e)
	t.Cleanup(a.server.Close)
	a.url = a.server.URL
	return a
}

// createCharge is a handler written for the newest schema only.
func (a *app) createCharge(c echo.Context) error {
	amount, err := amountOf(c)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
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
	c.Response().Header().Set("Location", "/v1/charges/"+id)
	if !a.inTx {
		return c.JSONBlob(http.StatusOK, []byte(body))
	}
	if c.Path() == "/v1/crash" {
		c.Response().Writer = nopWriter{c.Response().Writer}
	}
	ctx := c.Request().Context()
	err = a.db.InTx(ctx, func(tx *storage.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO charges (id, amount) VALUES (?, ?)`, id, amount); err != nil {
			return err
		}
		hdr := http.Header{"Content-Type": {echo.MIMEApplicationJSON}, "Location": {"/v1/charges/" + id}}
		return idempotency.FromContext(c).SaveInTx(ctx, tx, http.StatusOK, hdr, []byte(body))
	})
	if err != nil {
		return err
	}
	return c.JSONBlob(http.StatusOK, []byte(body))
}

func amountOf(c echo.Context) (string, error) {
	if strings.HasPrefix(c.Request().Header.Get("Content-Type"), "application/json") {
		var v struct{ Amount json.Number }
		if err := json.NewDecoder(c.Request().Body).Decode(&v); err != nil {
			return "", err
		}
		return v.Amount.String(), nil
	}
	return c.FormValue("amount"), nil
}

// fakeVersioning stands in for the versioning middleware outside: a client
// on version "old" calls the newest field "amount" "amount_cents". It walks
// the request forward and the response back.
func fakeVersioning(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Request().Header.Get("Stripe-Version") != "old" {
			return next(c)
		}
		req := c.Request()
		in, _ := io.ReadAll(req.Body)
		in = bytes.ReplaceAll(in, []byte("amount_cents"), []byte("amount"))
		req.Body = io.NopCloser(bytes.NewReader(in))
		rec := httptest.NewRecorder()
		res := c.Response()
		orig := res.Writer
		res.Writer = rec
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		res.Writer = orig
		for k, v := range rec.Header() {
			orig.Header()[k] = v
		}
		orig.Header().Set("Stripe-Version", "old")
		orig.WriteHeader(rec.Code)
		orig.Write(bytes.ReplaceAll(rec.Body.Bytes(), []byte(`"amount"`), []byte(`"amount_cents"`)))
		return nil
	}
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

// errorOf decodes a Stripe-shaped error body.
func errorOf(t *testing.T, r reply) idempotency.ErrorDetail {
	t.Helper()
	var e idempotency.ErrorBody
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
						require.Equal(t, idempotency.ErrorDetail{Type: "idempotency_error", Code: "idempotency_key_in_use",
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
	store := idempotency.NewMemoryStore()
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
			require.Panics(t, func() { idempotency.WithConfig(tt.cfg) })
		})
	}
	require.Panics(t, func() { idempotency.New(nil) })
	require.NotPanics(t, func() { idempotency.New(store) })
}

func TestBodyTooLarge(t *testing.T) {
	e := echo.New()
	runs := 0
	e.Use(idempotency.WithConfig(idempotency.Config{Store: idempotency.NewMemoryStore(), MaxBodyBytes: 16}))
	e.POST("/", func(c echo.Context) error { runs++; return c.String(200, "ok") })
	for _, tt := range []struct {
		body   string
		status int
	}{{"amount=1", 200}, {"amount=1&currency=usd&x=y", 413}} {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Idempotency-Key", "k-"+tt.body)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
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
	e := echo.New()
	runs := 0
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if _, err := c.FormParams(); err != nil {
				return err
			}
			return next(c)
		}
	})
	e.Use(idempotency.New(idempotency.NewMemoryStore()))
	e.POST("/", func(c echo.Context) error { runs++; return c.String(200, c.FormValue("amount")) })
	send := func(body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		if strings.HasPrefix(body, "{") {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", "json")
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Idempotency-Key", "form")
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	require.Equal(t, "100", send("amount=100&currency=usd").Body.String())
	require.Equal(t, "true", send("currency=usd&amount=100").Header().Get("Idempotent-Replayed"))
	require.Equal(t, 400, send("amount=200&currency=usd").Code)
	require.Equal(t, 1, runs)
	// A JSON body is still read: ParseForm left it alone.
	require.Equal(t, 200, send(`{"amount":100}`).Code)
	require.Equal(t, 400, send(`{"amount":200}`).Code)
	require.Equal(t, "true", send(`{"amount":100}`).Header().Get("Idempotent-Replayed"))
	require.Equal(t, 2, runs)
}

func TestSweeper(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := idempotency.NewMemoryStore()
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
