package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/server/echoversioning"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

var (
	stripeOnce   sync.Once
	stripeEngine *transform.Engine
	stripeErr    error
)

// stripe returns an engine over testdata/stripe.yaml.
func stripe(t testing.TB) *transform.Engine {
	t.Helper()
	stripeOnce.Do(func() {
		tl, err := gates.LoadFile("../testdata/stripe.yaml", nil)
		if err != nil {
			stripeErr = err
			return
		}
		stripeEngine = transform.New(tl, nil)
	})
	if stripeErr != nil {
		t.Fatalf("loading stripe.yaml: %v", stripeErr)
	}
	return stripeEngine
}

// gated returns an engine over a small timeline whose newest version only
// changes behaviour:
//
//	2024-02-01  async_capture (behavior)
//	2024-01-01  customer_balance (rename balance <- account_balance)
//	2023-01-01  base
func gated(t testing.TB) *transform.Engine {
	t.Helper()
	tl, err := gates.NewTimeline(gates.Spec{
		Header: "Acme-Version",
		Versions: []gates.Version{
			{ID: versions.MustParse("2024-02-01"), Changes: []gates.Change{{
				ID: "async_capture", Description: "Captures complete asynchronously.",
				Ops: []gates.Op{gates.Behavior()},
			}}},
			{ID: versions.MustParse("2024-01-01"), Changes: []gates.Change{{
				ID: "customer_balance", Description: "`account_balance` is renamed to `balance`.",
				Resources: []string{"customer"},
				Endpoints: []gates.Endpoint{{Method: "POST", Path: "/v1/customers"}, {Method: "GET", Path: "/v1/customers"}},
				Ops:       []gates.Op{gates.Rename("balance", "account_balance")},
			}}},
			{ID: versions.MustParse("2023-01-01")},
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return transform.New(tl, nil)
}

type accountKey struct{}

// authAccount is the Account function of the tests: the account an
// authentication middleware (testAuth) put in the request's context.
func authAccount(r *http.Request) (string, error) {
	a, _ := r.Context().Value(accountKey{}).(string)
	return a, nil
}

// testAuth maps "Authorization: Bearer key_<account>" to the account, and
// refuses any other Authorization header with 401.
func testAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get("Authorization")
		if h == "" {
			return next(c)
		}
		key, ok := strings.CutPrefix(h, "Bearer key_")
		if !ok || key == "" {
			return echo.NewHTTPError(http.StatusUnauthorized, "Invalid API Key provided.")
		}
		r := c.Request()
		c.SetRequest(r.WithContext(context.WithValue(r.Context(), accountKey{}, key)))
		return next(c)
	}
}

// newEcho returns an echo with echoversioning.ErrorHandler, testAuth and the
// versioning middleware with cfg.
func newEcho(t testing.TB, cfg server.Config) *echo.Echo {
	t.Helper()
	e := echo.New()
	e.HTTPErrorHandler = echoversioning.ErrorHandler
	e.Use(testAuth, echoMW(t, cfg))
	return e
}

// echoMW returns the echo form of the middleware with cfg.
func echoMW(t testing.TB, cfg server.Config) echo.MiddlewareFunc {
	t.Helper()
	mw, err := echoversioning.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return mw
}

// do serves one request through e and returns the recorder.
func do(e *echo.Echo, method, target, contentType, body string, header ...string) *httptest.ResponseRecorder {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	if contentType != "" {
		req.Header.Set(echo.HeaderContentType, contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

// decode decodes a JSON body into a map, failing the test when it is not
// a JSON object.
func decode(t testing.TB, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, body)
	}
	return m
}

// stripeError checks that body is a Stripe-shaped error and returns its
// "error" object.
func stripeError(t testing.TB, body []byte) map[string]any {
	t.Helper()
	m := decode(t, body)
	e, ok := m["error"].(map[string]any)
	if !ok {
		t.Fatalf("body has no error object: %s", body)
	}
	for _, k := range []string{"type", "code", "message"} {
		if s, _ := e[k].(string); s == "" {
			t.Fatalf("error has no %q: %s", k, body)
		}
	}
	return e
}

// logBuffer returns a logger writing text into a buffer safe for
// concurrent use.
func logBuffer() (*slog.Logger, *syncBuffer) {
	b := &syncBuffer{}
	return slog.New(slog.NewTextHandler(b, nil)), b
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// customerJSON is a customer in the newest schema of stripe.yaml.
const customerJSON = `{"id":"cus_1","object":"customer","balance":5,"name":"Ana Sousa","default_source":"card_1","sources":{"object":"list","data":[],"has_more":false}}`
