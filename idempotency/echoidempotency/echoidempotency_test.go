package echoidempotency_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/idempotency"
	"github.com/verso-api/verso/idempotency/echoidempotency"
	"github.com/verso-api/verso/storage"
	_ "github.com/verso-api/verso/storage/drivers" // the test opens SQLite
)

// server is an echo API behind the adapter, on 127.0.0.1, with a SQLite
// store so that handlers can save in their own transaction.
type server struct {
	url  string
	db   *storage.DB
	runs atomic.Int32
}

func newServer(t *testing.T) *server {
	ctx := context.Background()
	db, err := storage.Open(ctx, filepath.Join(t.TempDir(), "idem.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = db.Exec(ctx, `CREATE TABLE charges (id TEXT PRIMARY KEY)`)
	require.NoError(t, err)
	store, err := idempotency.NewSQLStore(ctx, db, nil)
	require.NoError(t, err)
	s := &server{db: db}

	_, err = echoidempotency.New(idempotency.Config{})
	require.ErrorContains(t, err, "no Store", "a bad config is an error, not a panic")
	mw, err := echoidempotency.New(idempotency.Config{Store: store})
	require.NoError(t, err)

	e := echo.New()
	e.HideBanner = true
	e.Logger.SetOutput(io.Discard)
	e.Use(middleware.Recover())
	e.Use(mw)
	e.POST("/v1/charges/:kind", func(c echo.Context) error {
		n := s.runs.Add(1)
		switch c.Param("kind") {
		case "fail":
			return echo.NewHTTPError(http.StatusInternalServerError, fmt.Sprint("failure ", n))
		case "invalid":
			return echo.NewHTTPError(http.StatusBadRequest, "amount is invalid")
		case "panic":
			panic("handler bug")
		case "tx": // saved in the handler's own transaction
			ctx := c.Request().Context()
			body := []byte(fmt.Sprintf(`{"id":"ch_%d","path":%q}`, n, c.Path()))
			err := s.db.InTx(ctx, func(tx *storage.Tx) error {
				if _, err := tx.Exec(ctx, `INSERT INTO charges (id) VALUES (?)`, fmt.Sprint("ch_", n)); err != nil {
					return err
				}
				return idempotency.FromContext(ctx).SaveInTx(ctx, tx, http.StatusOK, nil, body)
			})
			if err != nil {
				return err
			}
			if !idempotency.FromContext(ctx).Saved() {
				return errors.New("FromContext found no claim in the echo request")
			}
			return c.JSONBlob(http.StatusOK, body)
		}
		return c.JSON(http.StatusOK, map[string]any{"id": fmt.Sprint("ch_", n), "amount": c.FormValue("amount")})
	})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

func (s *server) post(t *testing.T, path, key string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.url+path, strings.NewReader("amount=100"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Idempotency-Key", key)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(b), res.Header
}

// TestAdapter sends each request twice with one key: echo's own errors
// (answered by echo's error handler inside the middleware) are not saved
// and free the key, successes are replayed.
func TestAdapter(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		replayed bool // the second answer is the first one replayed
		runs     int32
	}{
		{"ok", 200, true, 1},
		{"tx", 200, true, 1},
		{"fail", 500, false, 2},
		{"invalid", 400, false, 2},
		{"panic", 500, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			status, first, _ := s.post(t, "/v1/charges/"+tt.name, "k")
			require.Equal(t, tt.status, status, first)
			status, second, h := s.post(t, "/v1/charges/"+tt.name, "k")
			require.Equal(t, tt.status, status, second)
			require.Equal(t, tt.replayed, h.Get("Idempotent-Replayed") == "true")
			require.Equal(t, tt.runs, s.runs.Load())
			if tt.replayed {
				require.Equal(t, first, second)
			}
			if tt.name == "tx" {
				require.JSONEq(t, `{"id":"ch_1","path":"/v1/charges/:kind"}`, second, "the echo route is known inside")
			}
			if tt.name == "fail" {
				require.Contains(t, second, "failure 2", "the retry ran the handler again")
				require.Equal(t, "true", h.Get("Stripe-Should-Retry"))
			}
		})
	}
}

// TestReusedKey checks that the middleware's own refusals reach an echo
// client in Stripe's shape.
func TestReusedKey(t *testing.T) {
	s := newServer(t)
	status, _, _ := s.post(t, "/v1/charges/ok", "k")
	require.Equal(t, 200, status)
	status, body, h := s.post(t, "/v1/charges/tx", "k")
	require.Equal(t, 400, status)
	require.Contains(t, body, `"code":"idempotency_key_reused"`)
	require.Equal(t, "false", h.Get("Stripe-Should-Retry"))
	require.EqualValues(t, 1, s.runs.Load())
}
