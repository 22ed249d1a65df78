package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/server/echoversioning"
	"github.com/verso-api/verso/versions"
)

// httpAuth is testAuth for net/http: "Authorization: Bearer key_<account>"
// puts the account in the request's context; any other Authorization
// header gets 401 in the API's error shape.
func httpAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h != "" {
			key, ok := strings.CutPrefix(h, "Bearer key_")
			if !ok || key == "" {
				apierror.Write(w, r, apierror.New(http.StatusUnauthorized, apierror.TypeInvalidRequest, "authentication_required", "Invalid API Key provided."))
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), accountKey{}, key))
		}
		next.ServeHTTP(w, r)
	})
}

// apiHandlers are the handlers of the tests, written once for net/http and
// mounted in every form of the middleware. They know only the newest
// schema of testdata/stripe.yaml.
func apiHandlers() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/customers/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != "cus_1" {
			apierror.Write(w, r, apierror.New(http.StatusNotFound, apierror.TypeInvalidRequest, "resource_missing", "No such customer: '"+r.PathValue("id")+"'"))
			return
		}
		w.Header().Set("X-Seen-Version", server.VersionOf(r).String())
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, customerJSON)
	})
	// POST /v1/customers echoes what the handler received, as a customer.
	mux.HandleFunc("POST /v1/customers", func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
			_ = r.ParseForm()
			body = []byte(`{"object":"customer","balance":` + r.PostForm.Get("balance") + `}`)
		} else {
			body, _ = io.ReadAll(r.Body)
		}
		w.Header().Set("X-Seen-Query", r.URL.RawQuery)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	mux.HandleFunc("GET /v1/plain", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "balance")
	})
	return mux
}

// forms mounts apiHandlers behind each form of the middleware with cfg.
func forms(t *testing.T, cfg server.Config) map[string]http.Handler {
	t.Helper()
	mux := apiHandlers()
	cfg.Account = authAccount
	mw, err := cfg.ToMiddleware()
	require.NoError(t, err)

	// echo, with its own form of the middleware and the handlers mounted
	// with echo.WrapHandler.
	e := echo.New()
	e.HTTPErrorHandler = echoversioning.ErrorHandler
	e.Use(echo.WrapMiddleware(httpAuth), echoMW(t, cfg))
	e.Any("/*", echo.WrapHandler(mux))

	// echo again, with the net/http form wrapped as echo middleware.
	w := echo.New()
	w.HTTPErrorHandler = echoversioning.ErrorHandler
	w.Use(echo.WrapMiddleware(httpAuth), echo.WrapMiddleware(mw))
	w.Any("/*", echo.WrapHandler(mux))

	return map[string]http.Handler{
		"net/http":         httpAuth(mw(mux)),
		"echo":             e,
		"echo+net/http mw": w,
	}
}

func TestMiddlewareForms(t *testing.T) {
	store := pins.NewMemoryStore(nil)
	_, _, err := store.PinIfAbsent(context.Background(), "acct_old", versions.MustParse("2017-01-27"))
	require.NoError(t, err)

	tests := []struct {
		name               string
		method, target, ct string
		body               string
		header             []string
		status             int
		version            string            // the version header of the response
		want               map[string]string // gjson path -> value (raw JSON text)
		absent             []string          // gjson paths that must not exist
		wantHeader         map[string]string // response headers
	}{
		{name: "newest by default", method: "GET", target: "/v1/customers/cus_1", status: 200, version: newest,
			want: map[string]string{"balance": "5"}, absent: []string{"account_balance"},
			wantHeader: map[string]string{"X-Seen-Version": newest}},
		{name: "header walks back", method: "GET", target: "/v1/customers/cus_1", header: []string{"Stripe-Version", "2017-01-27"},
			status: 200, version: "2017-01-27", want: map[string]string{"account_balance": "5"}, absent: []string{"balance"},
			wantHeader: map[string]string{"X-Seen-Version": "2017-01-27"}},
		{name: "pin walks back", method: "GET", target: "/v1/customers/cus_1", header: []string{"Authorization", "Bearer key_acct_old"},
			status: 200, version: "2017-01-27", want: map[string]string{"account_balance": "5"}},
		{name: "header beats pin", method: "GET", target: "/v1/customers/cus_1", header: []string{"Authorization", "Bearer key_acct_old", "Stripe-Version", newest},
			status: 200, version: newest, want: map[string]string{"balance": "5"}},
		{name: "unknown version", method: "GET", target: "/v1/customers/cus_1", header: []string{"Stripe-Version", "2001-01-01"},
			status: 400, want: map[string]string{"error.code": `"api_version_invalid"`, "error.type": `"invalid_request_error"`}},
		{name: "malformed version", method: "GET", target: "/v1/customers/cus_1", header: []string{"Stripe-Version", "yesterday"},
			status: 400, want: map[string]string{"error.code": `"api_version_invalid"`}},
		{name: "authentication error keeps its status", method: "GET", target: "/v1/customers/cus_1", header: []string{"Authorization", "Basic x"},
			status: 401, want: map[string]string{"error.code": `"authentication_required"`}},
		{name: "error bodies are walked too", method: "GET", target: "/v1/customers/cus_9", header: []string{"Stripe-Version", "2017-01-27"},
			status: 404, version: "2017-01-27", want: map[string]string{"error.code": `"resource_missing"`}},
		{name: "JSON body walks forward and back", method: "POST", target: "/v1/customers", ct: "application/json",
			body: `{"object":"customer","account_balance":7}`, header: []string{"Stripe-Version", "2017-01-27"},
			status: 200, version: "2017-01-27", want: map[string]string{"account_balance": "7"}, absent: []string{"balance"}},
		{name: "form body walks forward", method: "POST", target: "/v1/customers", ct: "application/x-www-form-urlencoded",
			body: `account_balance=9`, header: []string{"Stripe-Version", "2017-01-27"},
			status: 200, version: "2017-01-27", want: map[string]string{"account_balance": "9"}},
		{name: "invalid JSON body", method: "POST", target: "/v1/customers", ct: "application/json",
			body: `{"account_balance":`, header: []string{"Stripe-Version", "2017-01-27"},
			status: 400, want: map[string]string{"error.code": `"body_invalid"`}},
		{name: "body too large", method: "POST", target: "/v1/customers", ct: "application/json",
			body: `{"account_balance":` + strings.Repeat("1", 2048) + `}`, header: []string{"Stripe-Version", "2017-01-27"},
			status: 413, want: map[string]string{"error.code": `"request_body_too_large"`}},
		{name: "other content passes through", method: "GET", target: "/v1/plain", header: []string{"Stripe-Version", "2017-01-27"},
			status: 200, version: "2017-01-27"},
	}
	cfg := server.Config{Engine: stripe(t), Pins: store, MaxBodyBytes: 1024}
	for formName, h := range forms(t, cfg) {
		for _, tt := range tests {
			t.Run(formName+"/"+tt.name, func(t *testing.T) {
				var body io.Reader
				if tt.body != "" {
					body = strings.NewReader(tt.body)
				}
				req := httptest.NewRequest(tt.method, tt.target, body)
				if tt.ct != "" {
					req.Header.Set("Content-Type", tt.ct)
				}
				for i := 0; i+1 < len(tt.header); i += 2 {
					req.Header.Set(tt.header[i], tt.header[i+1])
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				require.Equal(t, tt.status, rec.Code, rec.Body.String())
				if tt.version != "" {
					assert.Equal(t, tt.version, rec.Header().Get("Stripe-Version"))
				}
				got := rec.Body.String()
				if tt.status >= 400 {
					require.True(t, gjson.Valid(got), "error body is JSON: %s", got)
					assert.NotEmpty(t, gjson.Get(got, "error.message").String(), got)
				}
				for path, want := range tt.want {
					assert.Equal(t, want, gjson.Get(got, path).Raw, "%s in %s", path, got)
				}
				for _, path := range tt.absent {
					assert.False(t, gjson.Get(got, path).Exists(), "%s in %s", path, got)
				}
				for k, v := range tt.wantHeader {
					assert.Equal(t, v, rec.Header().Get(k), k)
				}
				if tt.method != "HEAD" && tt.status == 200 && tt.version != "" && tt.version != newest && gjson.Valid(got) {
					assert.Equal(t, rec.Header().Get("Content-Length"), strconv.Itoa(len(got)), "Content-Length fixed after the walk")
				}
			})
		}
	}
}
