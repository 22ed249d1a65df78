package server_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/verso-api/verso/server"
)

// alreadyShaped stands for another package's error body that is already in
// Stripe's shape (the idempotency middleware's, say).
type alreadyShaped struct {
	Error struct {
		Type    string `json:"type"`
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func TestErrorHandler(t *testing.T) {
	e := echo.New()
	e.HTTPErrorHandler = server.ErrorHandler
	e.Use(middleware.BodyLimit("10B"))
	e.POST("/v1/limited", func(c echo.Context) error {
		_, err := c.FormParams()
		return err
	})
	e.GET("/v1/plain-error", func(c echo.Context) error { return errors.New("secret database detail") })
	e.GET("/v1/string", func(c echo.Context) error { return echo.NewHTTPError(400, "Missing required param: amount.") })
	e.GET("/v1/new-error", func(c echo.Context) error {
		return server.NewError(404, server.TypeInvalidRequest, "resource_missing", "No such customer: 'cus_9'")
	})
	e.GET("/v1/shaped", func(c echo.Context) error {
		var b alreadyShaped
		b.Error.Type, b.Error.Code, b.Error.Message = "idempotency_error", "idempotency_key_in_use", "in use"
		return &echo.HTTPError{Code: 409, Message: b}
	})
	e.GET("/v1/map", func(c echo.Context) error { return echo.NewHTTPError(429, echo.Map{"message": "slow down"}) })
	e.GET("/v1/wrapped", func(c echo.Context) error {
		return echo.ErrForbidden.WithInternal(echo.NewHTTPError(402, "Your card was declined."))
	})
	e.GET("/v1/helper", func(c echo.Context) error {
		return server.Error(c, 402, "card_error", "card_declined", "Your card was declined.")
	})
	e.GET("/v1/error-message", func(c echo.Context) error { return echo.NewHTTPError(400, errors.New("bad thing")) })
	e.GET("/v1/odd-status", func(c echo.Context) error { return echo.NewHTTPError(200, "not an error status") })
	e.GET("/v1/committed", func(c echo.Context) error {
		_ = c.String(200, "partial")
		return errors.New("after the response")
	})

	tests := []struct {
		method, target, body string
		status               int
		typ, code, message   string
	}{
		{"GET", "/v1/nope", "", 404, server.TypeInvalidRequest, server.CodeResourceMissing, "Unrecognized request URL (GET: /v1/nope)."},
		{"DELETE", "/v1/string", "", 405, server.TypeInvalidRequest, server.CodeMethodNotAllowed, "Method DELETE is not allowed on /v1/string."},
		{"POST", "/v1/limited", strings.Repeat("a", 100), 413, server.TypeInvalidRequest, server.CodeBodyTooLarge, "Request Entity Too Large"},
		{"GET", "/v1/plain-error", "", 500, server.TypeAPI, server.CodeAPIError, "an internal error occurred; please retry the request"},
		{"GET", "/v1/string", "", 400, server.TypeInvalidRequest, "bad_request", "Missing required param: amount."},
		{"GET", "/v1/new-error", "", 404, server.TypeInvalidRequest, "resource_missing", "No such customer: 'cus_9'"},
		{"GET", "/v1/shaped", "", 409, "idempotency_error", "idempotency_key_in_use", "in use"},
		{"GET", "/v1/map", "", 429, server.TypeInvalidRequest, server.CodeRateLimit, "slow down"},
		{"GET", "/v1/wrapped", "", 402, server.TypeInvalidRequest, "payment_required", "Your card was declined."},
		{"GET", "/v1/helper", "", 402, "card_error", "card_declined", "Your card was declined."},
		{"GET", "/v1/error-message", "", 400, server.TypeInvalidRequest, "bad_request", "bad thing"},
		{"GET", "/v1/odd-status", "", 500, server.TypeAPI, server.CodeAPIError, "not an error status"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			rec := do(e, tt.method, tt.target, "application/x-www-form-urlencoded", tt.body)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			er := stripeError(t, rec.Body.Bytes())
			if er["type"] != tt.typ || er["code"] != tt.code || er["message"] != tt.message {
				t.Errorf("error = %v, want %s/%s/%q", er, tt.typ, tt.code, tt.message)
			}
			if ct := rec.Header().Get(echo.HeaderContentType); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
	t.Run("HEAD gets the status alone", func(t *testing.T) {
		e.HEAD("/v1/head", func(c echo.Context) error { return echo.NewHTTPError(404, "missing") })
		rec := do(e, "HEAD", "/v1/head", "", "")
		if rec.Code != 404 || rec.Body.Len() != 0 {
			t.Errorf("got %d %q", rec.Code, rec.Body)
		}
	})
	t.Run("a committed response is left alone", func(t *testing.T) {
		rec := do(e, "GET", "/v1/committed", "", "")
		if rec.Code != 200 || rec.Body.String() != "partial" {
			t.Errorf("got %d %q", rec.Code, rec.Body)
		}
	})
}

func TestErrorHandlerLogs5xx(t *testing.T) {
	logger, logs := logBuffer()
	e := echo.New()
	e.HTTPErrorHandler = server.NewErrorHandler(logger)
	e.GET("/boom", func(c echo.Context) error { return errors.New("disk full") })
	e.GET("/client", func(c echo.Context) error { return echo.NewHTTPError(400, "bad") })
	do(e, "GET", "/client", "", "")
	if logs.String() != "" {
		t.Errorf("a 4xx was logged: %s", logs)
	}
	do(e, "GET", "/boom", "", "")
	if !strings.Contains(logs.String(), "disk full") || !strings.Contains(logs.String(), "status=500") {
		t.Errorf("log: %s", logs)
	}
}

func TestErrorResponse(t *testing.T) {
	req := httptest.NewRequest("GET", "/x", nil)
	status, body := server.ErrorResponse(&http.MaxBytesError{Limit: 5}, req)
	b, ok := body.(server.ErrorBody)
	if status != 413 || !ok || b.Error.Code != server.CodeBodyTooLarge || !strings.Contains(b.Error.Message, "5 bytes") {
		t.Errorf("MaxBytesError: %d %+v", status, body)
	}
}
