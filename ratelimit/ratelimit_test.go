package ratelimit

import (
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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/apierror"
)

// clock is an injected clock that moves only when told to.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// errNoKey is the identifier's error for a request without an API key.
var errNoKey = apierror.New(http.StatusUnauthorized, apierror.TypeAuthentication, "api_key_required", "no api key")

// apiKey identifies a request by its bearer key; no key is a 401.
func apiKey(r *http.Request) (string, error) {
	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return "", errNoKey
	}
	return key, nil
}

func ok(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }

// newMux returns routes like the demo API's, each behind mw, so that the
// middleware sees the pattern that matched.
func newMux(mw func(http.Handler) http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	for _, p := range []string{"GET /v1/customers", "GET /v1/customers/{id}", "POST /v1/customers", "POST /v1/charges", "GET /health"} {
		mux.Handle(p, mw(http.HandlerFunc(ok)))
	}
	return mux
}

func TestLimits(t *testing.T) {
	type step struct {
		method, path, key string
		advance           time.Duration // before the request
		want              int
	}
	routes := map[string]Limit{
		"POST /v1/charges":       {Rate: 1, Burst: 2},
		"GET /v1/customers/{id}": {Rate: 10, Burst: 1},
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"default burst then 429", []step{
			{"GET", "/v1/customers", "a", 0, 200},
			{"POST", "/v1/customers", "a", 0, 200},
			{"GET", "/v1/customers", "a", 0, 200},
			{"GET", "/v1/customers", "a", 0, 429},
		}},
		{"keys are independent", []step{
			{"GET", "/v1/customers", "a", 0, 200},
			{"GET", "/v1/customers", "a", 0, 200},
			{"GET", "/v1/customers", "a", 0, 200},
			{"GET", "/v1/customers", "a", 0, 429},
			{"GET", "/v1/customers", "b", 0, 200},
		}},
		{"refill at the default rate", []step{
			{"GET", "/v1/customers", "a", 0, 200},
			{"GET", "/v1/customers", "a", 0, 200},
			{"GET", "/v1/customers", "a", 0, 200},
			{"GET", "/v1/customers", "a", 0, 429},
			{"GET", "/v1/customers", "a", 499 * time.Millisecond, 429},
			{"GET", "/v1/customers", "a", time.Millisecond, 200}, // 2/s: one token per 500ms
			{"GET", "/v1/customers", "a", 0, 429},
		}},
		{"a route has its own bucket", []step{
			{"POST", "/v1/charges", "a", 0, 200},
			{"POST", "/v1/charges", "a", 0, 200},
			{"POST", "/v1/charges", "a", 0, 429},
			{"GET", "/v1/customers", "a", 0, 200},
			{"POST", "/v1/charges", "b", 0, 200},
			{"POST", "/v1/charges", "a", time.Second, 200},
		}},
		{"the default bucket does not feed a route", []step{
			{"GET", "/v1/customers", "a", 0, 200},
			{"GET", "/v1/customers", "a", 0, 200},
			{"GET", "/v1/customers", "a", 0, 200},
			{"GET", "/v1/customers", "a", 0, 429},
			{"POST", "/v1/charges", "a", 0, 200},
		}},
		{"routes match the mux's pattern, not the path", []step{
			{"GET", "/v1/customers/cus_1", "a", 0, 200},
			{"GET", "/v1/customers/cus_2", "a", 0, 429},
			{"GET", "/v1/customers/cus_2", "a", 100 * time.Millisecond, 200},
		}},
		{"no identifier: the identifier's error, nothing counted", []step{
			{"GET", "/v1/customers", "", 0, 401},
			{"GET", "/v1/customers", "", 0, 401},
			{"GET", "/v1/customers", "", 0, 401},
			{"GET", "/v1/customers", "", 0, 401},
			{"GET", "/v1/customers", "a", 0, 200},
		}},
		{"skipped", []step{
			{"GET", "/health", "a", 0, 200},
			{"GET", "/health", "a", 0, 200},
			{"GET", "/health", "a", 0, 200},
			{"GET", "/health", "a", 0, 200},
			{"GET", "/v1/customers", "a", 0, 200},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			mw, err := Config{
				Skipper:    func(r *http.Request) bool { return r.URL.Path == "/health" },
				Identifier: apiKey,
				Default:    Limit{Rate: 2, Burst: 3},
				Routes:     routes,
				Store:      NewMemoryStore(&Options{Clock: clk.Now}),
			}.ToMiddleware()
			require.NoError(t, err)
			e := newMux(mw)
			for i, s := range tt.steps {
				clk.Advance(s.advance)
				req := httptest.NewRequest(s.method, s.path, nil)
				if s.key != "" {
					req.Header.Set("Authorization", "Bearer "+s.key)
				}
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, req)
				assert.Equal(t, s.want, rec.Code, "step %d: %s %s as %q", i, s.method, s.path, s.key)
			}
		})
	}
}

// TestTooManyRequests checks the 429 over real HTTP: status, headers and
// Stripe's error body.
func TestTooManyRequests(t *testing.T) {
	tests := []struct {
		limit      Limit
		retryAfter string
	}{
		{Limit{Rate: 0.1, Burst: 1}, "10"},
		{Limit{Rate: 1.0 / 3, Burst: 2}, "3"},
		{Limit{Rate: 1000, Burst: 5}, "1"}, // 1ms rounds up to the minimum
		{Per(100, time.Minute), "1"},       // 600ms
		{Per(10, time.Hour), "360"},
	}
	for _, tt := range tests {
		t.Run(tt.limit.String(), func(t *testing.T) {
			clk := newClock()
			mw, err := Config{Default: tt.limit, Store: NewMemoryStore(&Options{Clock: clk.Now})}.ToMiddleware()
			require.NoError(t, err)
			srv := httptest.NewServer(newMux(mw))
			defer srv.Close()
			for i := range tt.limit.Burst {
				resp, err := http.Get(srv.URL + "/v1/customers")
				require.NoError(t, err)
				resp.Body.Close()
				require.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, fmt.Sprint(tt.limit.Burst), resp.Header.Get(HeaderLimit))
				assert.Equal(t, fmt.Sprint(tt.limit.Burst-1-i), resp.Header.Get(HeaderRemaining))
			}
			resp, err := http.Get(srv.URL + "/v1/customers")
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
			assert.Equal(t, tt.retryAfter, resp.Header.Get("Retry-After"))
			assert.Equal(t, "0", resp.Header.Get(HeaderRemaining))
			assert.Contains(t, resp.Header.Get("Content-Type"), "application/json")
			assert.JSONEq(t, `{"error":{"type":"rate_limit_error","code":"rate_limit","message":`+
				mustJSON(ErrRateLimited.Message)+`}}`, string(body))
		})
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestDenied checks what Config.ErrorHandler gets: an *apierror.Error
// derived from ErrRateLimited, with Config.Message and the Retry-After
// header, written in the shape of the request's context.
func TestDenied(t *testing.T) {
	var got error
	mw, err := Config{Default: Limit{Rate: 1, Burst: 1}, Message: "slow down", DisableHeaders: true,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			got = err
			apierror.Write(w, r, err)
		}}.ToMiddleware()
	require.NoError(t, err)
	h := mw(http.HandlerFunc(ok))
	problem := func() *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		return r.WithContext(apierror.WithShape(r.Context(), apierror.Problem("")))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, problem())
	require.Equal(t, 200, rec.Code)
	require.Nil(t, got)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, problem())
	assert.ErrorIs(t, got, ErrRateLimited)
	var e *apierror.Error
	require.ErrorAs(t, got, &e)
	assert.Equal(t, "slow down", e.Message)
	assert.Equal(t, http.StatusTooManyRequests, rec.Code)
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	assert.JSONEq(t, `{"type":"about:blank","title":"Too Many Requests","status":429,"detail":"slow down","code":"rate_limit"}`, rec.Body.String())
	assert.Empty(t, rec.Header().Get(HeaderLimit), "headers disabled")
	assert.Equal(t, "1", rec.Header().Get("Retry-After"))
}

// TestConcurrentBurst sends many requests at once over real HTTP with the
// clock stopped: exactly Burst of them pass.
func TestConcurrentBurst(t *testing.T) {
	const burst, workers, each = 100, 40, 10
	clk := newClock()
	var handled atomic.Int64
	mw, err := Config{Identifier: apiKey, Default: Limit{Rate: 1, Burst: burst},
		Store: NewMemoryStore(&Options{Clock: clk.Now})}.ToMiddleware()
	require.NoError(t, err)
	srv := httptest.NewServer(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handled.Add(1)
	})))
	defer srv.Close()

	var allowed, denied atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				req, _ := http.NewRequest("POST", srv.URL+"/v1/charges", nil)
				req.Header.Set("Authorization", "Bearer sk_test_same")
				resp, err := http.DefaultClient.Do(req)
				if !assert.NoError(t, err) {
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusOK:
					allowed.Add(1)
				case http.StatusTooManyRequests:
					denied.Add(1)
				default:
					t.Errorf("status %d", resp.StatusCode)
				}
			}
		})
	}
	wg.Wait()
	assert.EqualValues(t, burst, allowed.Load())
	assert.EqualValues(t, workers*each-burst, denied.Load())
	assert.EqualValues(t, burst, handled.Load())
}

func TestStoreConcurrentExact(t *testing.T) {
	clk := newClock()
	s := NewMemoryStore(&Options{Clock: clk.Now})
	const burst = 5000
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for range 1000 {
				r, err := s.Take(context.Background(), Key{ID: "k"}, Limit{Rate: 1, Burst: burst})
				if err != nil {
					t.Error(err)
					return
				}
				if r.Allowed {
					allowed.Add(1)
				}
				// Other keys in the same shards, concurrently.
				s.Take(context.Background(), Key{ID: fmt.Sprint(g)}, Limit{Rate: 1, Burst: 1})
			}
		})
	}
	wg.Wait()
	assert.EqualValues(t, burst, allowed.Load())
}

func TestMemoryStoreTake(t *testing.T) {
	clk := newClock()
	s := NewMemoryStore(&Options{Clock: clk.Now})
	l := Limit{Rate: 2, Burst: 3}
	k := Key{ID: "a"}
	want := []Result{
		{Allowed: true, Limit: 3, Remaining: 2},
		{Allowed: true, Limit: 3, Remaining: 1},
		{Allowed: true, Limit: 3, Remaining: 0},
		{Allowed: false, Limit: 3, RetryAfter: 500 * time.Millisecond},
	}
	for i, w := range want {
		r, err := s.Take(context.Background(), k, l)
		require.NoError(t, err)
		assert.Equal(t, w, r, "take %d", i)
	}
	clk.Advance(200 * time.Millisecond)
	r, _ := s.Take(context.Background(), k, l)
	assert.Equal(t, Result{Limit: 3, RetryAfter: 300 * time.Millisecond}, r)
	clk.Advance(time.Second + 300*time.Millisecond) // 3 tokens back: full
	r, _ = s.Take(context.Background(), k, l)
	assert.Equal(t, Result{Allowed: true, Limit: 3, Remaining: 2}, r)
	clk.Advance(time.Hour) // never more than a full bucket
	r, _ = s.Take(context.Background(), k, l)
	assert.Equal(t, Result{Allowed: true, Limit: 3, Remaining: 2}, r)

	_, err := s.Take(context.Background(), k, Limit{Rate: -1, Burst: 1})
	assert.ErrorIs(t, err, ErrInvalidLimit)
}

// TestMemoryStoreEviction shows the store shrinks: buckets full for
// IdleTimeout go, and a bucket still refilling stays whatever its age.
func TestMemoryStoreEviction(t *testing.T) {
	clk := newClock()
	s := NewMemoryStore(&Options{Clock: clk.Now, IdleTimeout: time.Minute, SweepInterval: 10 * time.Second})
	fast := Limit{Rate: 100, Burst: 1}       // full again 10ms after a take
	slow := Limit{Rate: 1.0 / 600, Burst: 2} // a token every 10 minutes
	for i := range 10000 {
		_, err := s.Take(context.Background(), Key{ID: fmt.Sprint("ip", i)}, fast)
		require.NoError(t, err)
	}
	s.Take(context.Background(), Key{ID: "drained"}, slow)
	s.Take(context.Background(), Key{ID: "drained"}, slow)
	assert.Equal(t, 10001, s.Len())

	clk.Advance(30 * time.Second)
	s.Take(context.Background(), Key{ID: "new"}, fast) // sweeps: nothing idle long enough yet
	assert.Equal(t, 10002, s.Len())

	clk.Advance(31 * time.Second)
	s.Take(context.Background(), Key{ID: "new"}, fast) // sweeps: the 10000 have been full for a minute
	assert.Equal(t, 2, s.Len(), "only the drained bucket and the new one are left")

	r, _ := s.Take(context.Background(), Key{ID: "drained"}, slow)
	assert.False(t, r.Allowed, "the drained bucket was kept: its client is still limited")

	clk.Advance(21*time.Minute + time.Minute)
	assert.Equal(t, 2, s.Sweep())
	assert.Equal(t, 0, s.Len())
}

func TestPreAuthIPLimiter(t *testing.T) {
	clk := newClock()
	// Before authentication: per client address.
	ip, err := Config{Scope: "ip", Default: Limit{Rate: 1, Burst: 3}, Store: NewMemoryStore(&Options{Clock: clk.Now})}.ToMiddleware()
	require.NoError(t, err)
	auth := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer sk_good" {
				apierror.Write(w, r, errNoKey)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	srv := httptest.NewServer(ip(auth(http.HandlerFunc(ok))))
	defer srv.Close()

	var got []int
	for i := range 5 {
		req, _ := http.NewRequest("GET", srv.URL+"/v1/customers", nil)
		req.Header.Set("Authorization", fmt.Sprint("Bearer sk_guess_", i))
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.0.0.%d", i)) // forged: ignored
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		got = append(got, resp.StatusCode)
	}
	assert.Equal(t, []int{401, 401, 401, 429, 429}, got)
}

func TestClientAddr(t *testing.T) {
	tests := []struct {
		name    string
		remote  string
		xff     string
		want    string
		wantErr bool
	}{
		{"ipv4", "192.0.2.7:5555", "", "192.0.2.7", false},
		{"forwarded header ignored", "192.0.2.7:5555", "203.0.113.9", "192.0.2.7", false},
		{"ipv6 per /64", "[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:443", "", "2001:db8:1:2::/64", false},
		{"same /64", "[2001:db8:1:2::1]:443", "", "2001:db8:1:2::/64", false},
		{"ipv4 in ipv6", "[::ffff:192.0.2.7]:443", "", "192.0.2.7", false},
		{"no port", "192.0.2.7", "", "192.0.2.7", false},
		{"no address", "", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = tt.remote
			if tt.xff != "" {
				req.Header.Set("X-Forwarded-For", tt.xff)
			}
			got, err := ClientAddr(req)
			if tt.wantErr {
				assert.ErrorIs(t, err, ErrNoAddress)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestRoutePath(t *testing.T) {
	for _, tt := range []struct{ pattern, path, want string }{
		{"", "/v1/x", "/v1/x"},
		{"GET /v1/customers/{id}", "/v1/customers/c", "/v1/customers/{id}"},
		{"/v1/customers/{id}", "/v1/customers/c", "/v1/customers/{id}"},
		{"POST example.com/v1/charges", "/v1/charges", "/v1/charges"},
		{"example.com/", "/", "/"},
	} {
		r := httptest.NewRequest("GET", tt.path, nil)
		r.Pattern = tt.pattern
		assert.Equal(t, tt.want, RoutePath(r), "pattern %q", tt.pattern)
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"zero", Config{}, true},
		{"rate only", Config{Default: Limit{Rate: 2.5}}, true},
		{"per", Config{Default: Per(1000, time.Hour), Routes: map[string]Limit{"POST /v1/charges": Per(5, time.Second)}}, true},
		{"negative rate", Config{Default: Limit{Rate: -1, Burst: 1}}, false},
		{"burst only", Config{Default: Limit{Burst: 5}}, false},
		{"negative burst", Config{Default: Limit{Rate: 1, Burst: -1}}, false},
		{"too slow", Config{Default: Limit{Rate: 1e-9, Burst: 10}}, false},
		{"infinite", Config{Default: Per(5, 0)}, false},
		{"route without method", Config{Routes: map[string]Limit{"/v1/charges": {Rate: 1}}}, false},
		{"lower-case method", Config{Routes: map[string]Limit{"post /v1/charges": {Rate: 1}}}, false},
		{"relative path", Config{Routes: map[string]Limit{"POST v1/charges": {Rate: 1}}}, false},
		{"two spaces", Config{Routes: map[string]Limit{"POST  /v1/charges": {Rate: 1}}}, false},
		{"bad route limit", Config{Routes: map[string]Limit{"POST /v1/charges": {}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mw, err := tt.cfg.ToMiddleware()
			if tt.ok {
				assert.NoError(t, err)
				assert.NotNil(t, mw)
			} else {
				assert.Error(t, err)
			}
		})
	}
	assert.Panics(t, func() { Middleware(Limit{Rate: -1}) })
}

type failingStore struct{}

func (failingStore) Take(context.Context, Key, Limit) (Result, error) {
	return Result{}, errors.New("redis: connection refused")
}

// TestStoreFailure: a store that fails is a 503 with Retry-After, not a
// 500, and the store's error is the cause.
func TestStoreFailure(t *testing.T) {
	var got error
	mw, err := Config{Store: failingStore{}, ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
		got = err
		apierror.Write(w, r, err)
	}}.ToMiddleware()
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	mw(http.HandlerFunc(ok)).ServeHTTP(rec, httptest.NewRequest("GET", "/v1/customers", nil))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, "1", rec.Header().Get("Retry-After"))
	assert.JSONEq(t, `{"error":{"type":"api_error","code":"service_unavailable","message":"The rate limiter is unavailable; retry the request."}}`, rec.Body.String())
	assert.ErrorIs(t, got, ErrStore)
	assert.ErrorIs(t, got, apierror.ErrUnavailable)
	assert.ErrorContains(t, got, "connection refused")
}

// FuzzConfig feeds route names and limits to ToMiddleware: it never panics,
// and a config it accepts serves a request.
func FuzzConfig(f *testing.F) {
	f.Add("POST /v1/charges", 1.0, 2, "POST", "/v1/charges")
	f.Add("GET /v1/customers/{id}", 1e9, 1, "GET", "/v1/customers/cus_1")
	f.Add("X /", 1e-9, 1<<30, "X", "/")
	f.Fuzz(func(t *testing.T, route string, rate float64, burst int, method, path string) {
		mw, err := Config{Routes: map[string]Limit{route: {Rate: rate, Burst: burst}}}.ToMiddleware()
		if err != nil {
			return
		}
		req := httptest.NewRequest("GET", "/", nil)
		req.Method, req.URL.Path, req.Pattern = method, path, route
		rec := httptest.NewRecorder()
		mw(http.HandlerFunc(ok)).ServeHTTP(rec, req)
		if rec.Code != 200 && rec.Code != 429 {
			t.Fatalf("route %q rate %g burst %d: %d %s", route, rate, burst, rec.Code, rec.Body)
		}
	})
}
