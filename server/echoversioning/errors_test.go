package echoversioning_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/server/echoversioning"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

func do(e *echo.Echo, method, target, body string, header ...string) *httptest.ResponseRecorder {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

// stripeError returns the "error" object of a Stripe-shaped body.
func stripeError(t testing.TB, body []byte) map[string]any {
	t.Helper()
	var m struct {
		Error map[string]any `json:"error"`
	}
	if err := json.Unmarshal(body, &m); err != nil || m.Error == nil {
		t.Fatalf("not a Stripe-shaped error (%v): %s", err, body)
	}
	return m.Error
}

func TestErrorHandler(t *testing.T) {
	e := echo.New()
	e.HTTPErrorHandler = echoversioning.ErrorHandler
	e.Use(middleware.BodyLimit("10B"))
	e.POST("/v1/limited", func(c echo.Context) error {
		_, err := c.FormParams()
		return err
	})
	e.GET("/v1/plain-error", func(c echo.Context) error { return errors.New("secret database detail") })
	e.GET("/v1/string", func(c echo.Context) error { return echo.NewHTTPError(400, "Missing required param: amount.") })
	e.GET("/v1/api-error", func(c echo.Context) error {
		return apierror.New(404, apierror.TypeInvalidRequest, "resource_missing", "No such customer: 'cus_9'").WithParam("id")
	})
	e.GET("/v1/api-error-in-echo", func(c echo.Context) error {
		return echo.ErrBadRequest.WithInternal(apierror.New(402, apierror.TypeCard, "card_declined", "Your card was declined."))
	})
	e.GET("/v1/map", func(c echo.Context) error { return echo.NewHTTPError(429, echo.Map{"message": "slow down"}) })
	e.GET("/v1/unauthorized", func(c echo.Context) error { return echo.ErrUnauthorized })
	e.GET("/v1/wrapped", func(c echo.Context) error {
		return echo.ErrForbidden.WithInternal(echo.NewHTTPError(402, "Your card was declined."))
	})
	e.GET("/v1/error-message", func(c echo.Context) error { return echo.NewHTTPError(400, errors.New("bad thing")) })
	e.GET("/v1/odd-status", func(c echo.Context) error { return echo.NewHTTPError(200, "not an error status") })
	e.GET("/v1/committed", func(c echo.Context) error {
		_ = c.String(200, "partial")
		return errors.New("after the response")
	})
	const internal = "An internal error occurred. Please retry the request."
	tests := []struct {
		method, target, body string
		status               int
		typ, code, message   string
	}{
		{"GET", "/v1/nope", "", 404, apierror.TypeInvalidRequest, "resource_missing", "Unrecognized request URL (GET: /v1/nope)."},
		{"DELETE", "/v1/string", "", 405, apierror.TypeInvalidRequest, "method_not_allowed", "Method DELETE is not allowed on /v1/string."},
		{"POST", "/v1/limited", strings.Repeat("a", 100), 413, apierror.TypeInvalidRequest, "request_body_too_large", "The request body is too large."},
		{"GET", "/v1/plain-error", "", 500, apierror.TypeAPI, "api_error", internal},
		{"GET", "/v1/string", "", 400, apierror.TypeInvalidRequest, "bad_request", "Missing required param: amount."},
		{"GET", "/v1/api-error", "", 404, apierror.TypeInvalidRequest, "resource_missing", "No such customer: 'cus_9'"},
		{"GET", "/v1/api-error-in-echo", "", 402, apierror.TypeCard, "card_declined", "Your card was declined."},
		{"GET", "/v1/map", "", 429, apierror.TypeRateLimit, "rate_limit", "slow down"},
		{"GET", "/v1/unauthorized", "", 401, apierror.TypeInvalidRequest, "authentication_required", "Unauthorized."},
		{"GET", "/v1/wrapped", "", 402, apierror.TypeInvalidRequest, "payment_required", "Your card was declined."},
		{"GET", "/v1/error-message", "", 400, apierror.TypeInvalidRequest, "bad_request", "bad thing"},
		{"GET", "/v1/odd-status", "", 500, apierror.TypeAPI, "api_error", internal},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			rec := do(e, tt.method, tt.target, tt.body)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			er := stripeError(t, rec.Body.Bytes())
			if er["type"] != tt.typ || er["code"] != tt.code || er["message"] != tt.message {
				t.Errorf("error = %v, want %s/%s/%q", er, tt.typ, tt.code, tt.message)
			}
			if ct := rec.Header().Get(echo.HeaderContentType); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
	t.Run("HEAD gets the status alone", func(t *testing.T) {
		e.HEAD("/v1/head", func(c echo.Context) error { return echo.NewHTTPError(404, "missing") })
		rec := do(e, "HEAD", "/v1/head", "")
		if rec.Code != 404 || rec.Body.Len() != 0 {
			t.Errorf("got %d %q", rec.Code, rec.Body)
		}
	})
	t.Run("a committed response is left alone", func(t *testing.T) {
		rec := do(e, "GET", "/v1/committed", "")
		if rec.Code != 200 || rec.Body.String() != "partial" {
			t.Errorf("got %d %q", rec.Code, rec.Body)
		}
	})
	t.Run("the shape of the context", func(t *testing.T) {
		e := echo.New()
		e.HTTPErrorHandler = echoversioning.ErrorHandler
		e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				r := c.Request()
				c.SetRequest(r.WithContext(apierror.WithShape(r.Context(), apierror.Problem("https://errors.example/"))))
				return next(c)
			}
		})
		rec := do(e, "GET", "/v1/nope", "")
		want := `{"type":"https://errors.example/resource_missing","title":"Not Found","status":404,"detail":"Unrecognized request URL (GET: /v1/nope).","code":"resource_missing"}`
		if rec.Code != 404 || rec.Body.String() != want || rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("got %d %s %s\nwant %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body, want)
		}
	})
}

func TestConvertKeepsCause(t *testing.T) {
	r := httptest.NewRequest("GET", "/x", nil)
	cause := errors.New("row locked")
	e := echoversioning.Convert(echo.NewHTTPError(409, "busy").WithInternal(cause), r)
	if e.Status != 409 || e.Code != "conflict" || !errors.Is(e, cause) {
		t.Errorf("Convert = %+v", e)
	}
	if e := echoversioning.Convert(&http.MaxBytesError{Limit: 5}, r); e.Status != 413 || !strings.Contains(e.Message, "5 bytes") {
		t.Errorf("MaxBytesError: %+v", e)
	}
}

func TestErrorHandlerLogs5xx(t *testing.T) {
	var logs bytes.Buffer
	e := echo.New()
	e.HTTPErrorHandler = echoversioning.NewErrorHandler(slog.New(slog.NewTextHandler(&logs, nil)))
	e.GET("/boom", func(c echo.Context) error { return errors.New("disk full") })
	e.GET("/client", func(c echo.Context) error { return echo.NewHTTPError(400, "bad") })
	do(e, "GET", "/client", "")
	if logs.String() != "" {
		t.Errorf("a 4xx was logged: %s", &logs)
	}
	do(e, "GET", "/boom", "")
	if !strings.Contains(logs.String(), "disk full") || !strings.Contains(logs.String(), "status=500") {
		t.Errorf("log: %s", &logs)
	}
}

// TestOwnErrorsWithEchoDefaultHandler checks that the middleware's own
// errors keep their status under echo's default error handler, and come
// in the API's shape under ErrorHandler.
func TestOwnErrorsWithEchoDefaultHandler(t *testing.T) {
	tl := gates.MustNewTimeline(gates.Spec{Versions: []gates.Version{{ID: versions.MustParse("2024-01-01")}}}, nil)
	for name, eh := range map[string]echo.HTTPErrorHandler{"echo's default": nil, "ErrorHandler": echoversioning.ErrorHandler} {
		t.Run(name, func(t *testing.T) {
			e := echo.New()
			if eh != nil {
				e.HTTPErrorHandler = eh
			}
			e.Use(echoversioning.Middleware(transform.New(tl, nil)))
			e.GET("/v1/x", func(c echo.Context) error { return c.String(200, "ok") })
			rec := do(e, "GET", "/v1/x", "", "Stripe-Version", "1999-01-01")
			if rec.Code != 400 || !strings.Contains(rec.Body.String(), "Invalid API version") {
				t.Fatalf("got %d %s", rec.Code, rec.Body)
			}
			if eh != nil {
				if er := stripeError(t, rec.Body.Bytes()); er["code"] != "api_version_invalid" {
					t.Errorf("error = %v", er)
				}
			}
		})
	}
}
