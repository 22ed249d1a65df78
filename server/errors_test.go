package server_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/server/echoversioning"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// brokenPins is a PinStore that fails, for the 503 of a store that does
// not answer.
type brokenPins struct{}

func (brokenPins) Get(context.Context, string) (pins.Pin, error) {
	return pins.Pin{}, errors.New("connection refused")
}

func (brokenPins) PinIfAbsent(context.Context, string, versions.Version) (pins.Pin, bool, error) {
	return pins.Pin{}, false, errors.New("connection refused")
}

// errorServers serves a small users API behind both forms of the
// middleware, over real HTTP, with error handlers that record what they
// know of the request (X-Error-Version: the version VersionOf answers,
// X-Error-Kind-Active: gates.Active of error_kind) before writing the
// error in the API's shape.
func errorServers(t *testing.T, cfg server.Config) map[string]string {
	t.Helper()
	tl, err := gates.LoadFile("testdata/errors.yaml", nil)
	require.NoError(t, err)
	cfg.Engine = transform.New(tl, nil)
	cfg.MaxBodyBytes = 8 << 10
	cfg.Now = func() time.Time { return time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC) }
	cfg.Account = func(r *http.Request) (string, error) {
		switch a := r.Header.Get("Authorization"); a {
		case "":
			return "", nil
		case "Bearer good":
			return "acct_1", nil
		default:
			return "", apierror.New(http.StatusUnauthorized, apierror.TypeInvalidRequest, "api_key_invalid", "Invalid API key.")
		}
	}
	record := func(h http.Header, v versions.Version, ctx context.Context) {
		h.Set("X-Error-Version", v.String())
		if gates.Active(ctx, "error_kind") {
			h.Set("X-Error-Kind-Active", "true")
		}
	}
	handlers := func(mux *http.ServeMux) {
		mux.HandleFunc("GET /v1/teams", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"data":[],"has_more":false}`)
		})
		mux.HandleFunc("POST /v1/users", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.Copy(w, r.Body)
		})
	}

	std := cfg
	std.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		record(w.Header(), server.VersionOf(r), r.Context())
		apierror.Write(w, r, err)
	}
	mw, err := std.ToMiddleware()
	require.NoError(t, err)
	mux := http.NewServeMux()
	handlers(mux)

	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		if !c.Response().Committed {
			record(c.Response().Header(), echoversioning.VersionOf(c), c.Request().Context())
		}
		echoversioning.ErrorHandler(err, c)
	}
	emw, err := echoversioning.New(cfg)
	require.NoError(t, err)
	e.Use(emw)
	emux := http.NewServeMux()
	handlers(emux)
	e.Any("/*", echo.WrapHandler(emux))

	out := map[string]string{}
	for name, h := range map[string]http.Handler{"net/http": mw(mux), "echo": e} {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		out[name] = srv.URL
	}
	return out
}

// TestOwnErrorsWalkedBack checks that every error the middleware raises
// is written in the API's shape at the newest version and walked back to
// the client's version like a handler's error (error_kind renames code to
// kind before 2024-06-01), in both forms, in Stripe's shape and in RFC
// 9457's, and that the error handler knows the version it answers.
func TestOwnErrorsWalkedBack(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 600) + "1" + strings.Repeat("}", 600)
	tests := []struct {
		name, method, path, version, auth, body string
		status                                  int
		code                                    string
		param                                   string
		served                                  string // the version header of the answer; "" for none
		handlerSees                             string // VersionOf in the error handler
	}{
		{name: "unsupported version: the newest's shape", method: "GET", path: "/v1/teams", version: "1999-01-01",
			status: 400, code: "api_version_invalid", handlerSees: "2024-06-01"},
		{name: "malformed version", method: "GET", path: "/v1/teams", version: "yesterday",
			status: 400, code: "api_version_invalid", handlerSees: "2024-06-01"},
		{name: "endpoint absent at the version", method: "GET", path: "/v1/teams", version: "2023-01-01",
			status: 404, code: "resource_missing", served: "2023-01-01", handlerSees: "2023-01-01"},
		{name: "endpoint present", method: "GET", path: "/v1/teams", version: "2024-01-01",
			status: 200, served: "2024-01-01"},
		{name: "value of the wrong type", method: "POST", path: "/v1/users", version: "2024-01-01", body: `{"full_name":"Bo","age":"x"}`,
			status: 400, code: "parameter_invalid_integer", param: "age", served: "2024-01-01", handlerSees: "2024-01-01"},
		{name: "old and new name", method: "POST", path: "/v1/users", version: "2023-01-01", body: `{"name":"Bo","full_name":"Bo","age":1}`,
			status: 400, code: "parameters_exclusive", param: "name", served: "2023-01-01", handlerSees: "2023-01-01"},
		{name: "body too large", method: "POST", path: "/v1/users", version: "2023-01-01", body: `{"name":"` + strings.Repeat("b", 9000) + `"}`,
			status: 413, code: "request_body_too_large", served: "2023-01-01", handlerSees: "2023-01-01"},
		{name: "body nested too deeply", method: "POST", path: "/v1/users", version: "2023-01-01", body: deep,
			status: 400, code: "body_invalid", served: "2023-01-01", handlerSees: "2023-01-01"},
		{name: "version past its sunset", method: "GET", path: "/v1/teams", version: "2022-01-01",
			status: 410, code: "api_version_sunset", served: "2022-01-01", handlerSees: "2022-01-01"},
		{name: "account refused, header's version", method: "GET", path: "/v1/teams", version: "2024-01-01", auth: "Bearer bad",
			status: 401, code: "api_key_invalid", served: "2024-01-01", handlerSees: "2024-01-01"},
		{name: "pin store down", method: "GET", path: "/v1/teams", auth: "Bearer good",
			status: 503, code: "service_unavailable", handlerSees: "2024-06-01"},
	}
	shapes := []struct {
		name  string
		shape apierror.Shape
		// where the members of the error are, and its media type
		prefix, contentType string
	}{
		{"stripe", apierror.Shape{}, "error.", "application/json"},
		{"problem", apierror.Problem("https://errors.example/"), "", "application/problem+json"},
	}
	for _, sh := range shapes {
		for form, base := range errorServers(t, server.Config{ErrorShape: sh.shape, Pins: brokenPins{}}) {
			for _, tt := range tests {
				t.Run(sh.name+"/"+form+"/"+tt.name, func(t *testing.T) {
					req, err := http.NewRequest(tt.method, base+tt.path, strings.NewReader(tt.body))
					require.NoError(t, err)
					req.Header.Set("Content-Type", "application/json")
					if tt.version != "" {
						req.Header.Set("Api-Version", tt.version)
					}
					if tt.auth != "" {
						req.Header.Set("Authorization", tt.auth)
					}
					res, err := http.DefaultClient.Do(req)
					require.NoError(t, err)
					b, err := io.ReadAll(res.Body)
					res.Body.Close()
					require.NoError(t, err)
					body := string(b)
					require.Equal(t, tt.status, res.StatusCode, body)
					require.True(t, gjson.Valid(body), body)
					assert.Equal(t, tt.served, res.Header.Get("Api-Version"), "the version served")
					if tt.status == 200 {
						return
					}
					assert.Equal(t, sh.contentType, res.Header.Get("Content-Type"))
					// Walked back: before 2024-06-01 the code is kind.
					member := "code"
					if tt.served != "" && tt.served < "2024-06-01" {
						member = "kind"
						assert.False(t, gjson.Get(body, sh.prefix+"code").Exists(), "code at %s: %s", tt.served, body)
					}
					assert.Equal(t, tt.code, gjson.Get(body, sh.prefix+member).String(), "%s in %s", member, body)
					if tt.param != "" {
						assert.Equal(t, tt.param, gjson.Get(body, sh.prefix+"param").String(), body)
					}
					if sh.name == "problem" {
						assert.Equal(t, int64(tt.status), gjson.Get(body, "status").Int(), body)
						assert.Equal(t, "https://errors.example/"+tt.code, gjson.Get(body, "type").String(), body)
					}
					assert.Equal(t, tt.handlerSees, res.Header.Get("X-Error-Version"), "VersionOf in the error handler")
					hv, _ := versions.Parse(tt.handlerSees)
					assert.Equal(t, !hv.Before(versions.MustParse("2024-06-01")), res.Header.Get("X-Error-Kind-Active") == "true",
						"gates.Active in the error handler")
					if tt.status == 503 {
						assert.Equal(t, "1", res.Header.Get("Retry-After"))
					}
				})
			}
		}
	}
}

// TestTimelineErrorShape checks that the middleware answers in the shape
// the timeline declares unless Config.ErrorShape names another.
func TestTimelineErrorShape(t *testing.T) {
	tl, err := gates.Load("t.yaml", []byte("errors: flat\nversions:\n  - version: 2024-01-01\n"), nil)
	require.NoError(t, err)
	engine := transform.New(tl, nil)
	for _, tt := range []struct {
		name  string
		shape apierror.Shape
		want  string
	}{
		{"the timeline's", apierror.Shape{}, `{"message":"Invalid API version \"1\" in the Stripe-Version header: a version is a date, YYYY-MM-DD, with an optional .name. Supported versions: 2024-01-01.","code":"api_version_invalid","type":"invalid_request_error"}`},
		{"the config's", apierror.Stripe(), `{"error":{"type":"invalid_request_error","code":"api_version_invalid","message":"Invalid API version \"1\" in the Stripe-Version header: a version is a date, YYYY-MM-DD, with an optional .name. Supported versions: 2024-01-01."}}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := server.MiddlewareWithConfig(server.Config{Engine: engine, ErrorShape: tt.shape})(http.NotFoundHandler())
			for _, outer := range []apierror.Shape{{}, apierror.Problem(""), apierror.Flat(), apierror.Stripe()} {
				// Whatever shape an outer layer put in the context, the
				// middleware answers in the API's.
				req := httptest.NewRequest("GET", "/", nil)
				if !outer.IsZero() {
					req = req.WithContext(apierror.WithShape(req.Context(), outer))
				}
				req.Header.Set("Stripe-Version", "1")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				assert.Equal(t, 400, rec.Code)
				assert.Equal(t, tt.want, rec.Body.String(), "outer shape %s", outer.Name())
			}
		})
	}
}
