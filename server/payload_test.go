package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/server/echoversioning"
	"github.com/verso-api/verso/transform"
)

// usersAPI is a small API whose objects have no type field, written for
// the newest version of ../testdata/users.yaml only: age is a string of
// digits, the name is full_name, a missing user is resource_missing. It
// counts the requests that reached a handler.
func usersAPI(calls *atomic.Int64) *http.ServeMux {
	const ana = `{"id":"u_1","full_name":"Ana Lima","age":"41"}`
	mux := http.NewServeMux()
	json := func(w http.ResponseWriter, status int, body string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
	mux.HandleFunc("GET /v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.PathValue("id") != "u_1" {
			json(w, 404, `{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such user.","param":"id"}}`)
			return
		}
		json(w, 200, ana)
	})
	mux.HandleFunc("GET /v1/users", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("X-Seen-Query", r.URL.RawQuery)
		json(w, 200, `{"data":[`+ana+`],"has_more":false}`)
	})
	// POST /v1/users answers the user it was sent, which it checks is in
	// the newest schema.
	mux.HandleFunc("POST /v1/users", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var name, age string
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			_ = r.ParseForm()
			name, age = r.PostForm.Get("full_name"), r.PostForm.Get("age")
		} else {
			b, _ := io.ReadAll(r.Body)
			name, age = gjson.GetBytes(b, "full_name").String(), gjson.GetBytes(b, "age").String()
			if t := gjson.GetBytes(b, "age").Type; t != gjson.String {
				json(w, 500, `{"error":{"type":"api_error","code":"api_error","message":"the handler got an age that is not a string"}}`)
				return
			}
		}
		json(w, 200, `{"id":"u_2","full_name":"`+name+`","age":"`+age+`"}`)
	})
	mux.HandleFunc("GET /v1/teams/{id}", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		json(w, 200, `{"id":"t_1","full_name":"Team","age":"3"}`)
	})
	return mux
}

func usersEngine(t testing.TB) *transform.Engine {
	t.Helper()
	tl, err := gates.LoadFile("../testdata/users.yaml", nil)
	require.NoError(t, err)
	return transform.New(tl, nil)
}

// usersServers serves usersAPI over real HTTP behind the net/http
// middleware, the echo middleware, and the net/http middleware in echo.
func usersServers(t *testing.T, calls *atomic.Int64) map[string]*httptest.Server {
	t.Helper()
	engine := usersEngine(t)
	mux := usersAPI(calls)
	mw, err := server.Config{Engine: engine}.ToMiddleware()
	require.NoError(t, err)
	e := echo.New()
	e.HTTPErrorHandler = echoversioning.ErrorHandler
	e.Use(echoMW(t, server.Config{Engine: engine}))
	e.Any("/*", echo.WrapHandler(mux))
	w := echo.New()
	w.HTTPErrorHandler = echoversioning.ErrorHandler
	w.Use(echo.WrapMiddleware(mw))
	w.Any("/*", echo.WrapHandler(mux))
	out := map[string]*httptest.Server{}
	for name, h := range map[string]http.Handler{"net/http": mw(mux), "echo": e, "echo+net/http mw": w} {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		out[name] = srv
	}
	return out
}

// TestPayloadShapes runs the users API at every version through every
// form of the middleware over real HTTP: responses walked back by
// endpoint (an object, a list's items), error bodies walked back, and
// request values of the wrong type for the client's version refused with
// a 400 naming them before any handler runs.
func TestPayloadShapes(t *testing.T) {
	tests := []struct {
		name, method, target, ct, body, version string
		status                                  int
		want                                    map[string]string // gjson path -> raw JSON
		absent                                  []string
		handled                                 bool // a handler ran
	}{
		{name: "object at newest", method: "GET", target: "/v1/users/u_1", version: "2024-06-01", status: 200, handled: true,
			want: map[string]string{"full_name": `"Ana Lima"`, "age": `"41"`}},
		{name: "object at 2024-01-01", method: "GET", target: "/v1/users/u_1", version: "2024-01-01", status: 200, handled: true,
			want: map[string]string{"full_name": `"Ana Lima"`, "age": `41`}},
		{name: "object at base", method: "GET", target: "/v1/users/u_1", version: "2023-01-01", status: 200, handled: true,
			want: map[string]string{"name": `"Ana Lima"`, "age": `41`}, absent: []string{"full_name"}},
		{name: "list items at base", method: "GET", target: "/v1/users", version: "2023-01-01", status: 200, handled: true,
			want: map[string]string{"data.0.name": `"Ana Lima"`, "data.0.age": `41`, "has_more": "false"}},
		{name: "error at newest", method: "GET", target: "/v1/users/u_9", version: "2024-06-01", status: 404, handled: true,
			want: map[string]string{"error.code": `"resource_missing"`, "error.param": `"id"`}},
		{name: "error at base", method: "GET", target: "/v1/users/u_9", version: "2023-01-01", status: 404, handled: true,
			want: map[string]string{"error.code": `"not_found"`, "error.field": `"id"`}, absent: []string{"error.param"}},
		{name: "unnamed endpoint untouched", method: "GET", target: "/v1/teams/t_1", version: "2023-01-01", status: 200, handled: true,
			want: map[string]string{"full_name": `"Team"`, "age": `"3"`}},
		{name: "create at base", method: "POST", target: "/v1/users", ct: "application/json", body: `{"name":"Bo","age":30}`, version: "2023-01-01",
			status: 200, handled: true, want: map[string]string{"name": `"Bo"`, "age": `30`}},
		{name: "create by form at base", method: "POST", target: "/v1/users", ct: "application/x-www-form-urlencoded", body: `name=Bo&age=30`, version: "2023-01-01",
			status: 200, handled: true, want: map[string]string{"name": `"Bo"`, "age": `30`}},
		{name: "age a word", method: "POST", target: "/v1/users", ct: "application/json", body: `{"name":"Bo","age":"x"}`, version: "2023-01-01",
			status: 400, want: map[string]string{"error.code": `"parameter_invalid_integer"`, "error.field": `"age"`, "error.type": `"invalid_request_error"`}},
		{name: "age a fraction", method: "POST", target: "/v1/users", ct: "application/json", body: `{"name":"Bo","age":7.5}`, version: "2024-01-01",
			status: 400, want: map[string]string{"error.code": `"parameter_invalid_integer"`, "error.param": `"age"`}},
		{name: "age a string at an integer version", method: "POST", target: "/v1/users", ct: "application/json", body: `{"name":"Bo","age":"30"}`, version: "2023-01-01",
			status: 400, want: map[string]string{"error.field": `"age"`}},
		{name: "nested value in a form", method: "POST", target: "/v1/users", ct: "application/x-www-form-urlencoded", body: `name=Bo&address[zip]=x`, version: "2023-01-01",
			status: 400, want: map[string]string{"error.code": `"parameter_invalid_integer"`, "error.field": `"address[zip]"`}},
		{name: "query string", method: "GET", target: "/v1/users?age=forty", version: "2023-01-01",
			status: 400, want: map[string]string{"error.field": `"age"`}},
		{name: "old and new name", method: "POST", target: "/v1/users", ct: "application/json", body: `{"name":"Bo","full_name":"Bo"}`, version: "2023-01-01",
			status: 400, want: map[string]string{"error.code": `"parameters_exclusive"`, "error.field": `"name"`, "error.type": `"invalid_request_error"`}},
		{name: "old and new name in a form", method: "POST", target: "/v1/users", ct: "application/x-www-form-urlencoded", body: `full_name=Bo&name=Bo`, version: "2023-01-01",
			status: 400, want: map[string]string{"error.code": `"parameters_exclusive"`, "error.field": `"name"`}},
		{name: "old and new name in a query string", method: "GET", target: "/v1/users?name=Bo&full_name=Bo", version: "2023-01-01",
			status: 400, want: map[string]string{"error.code": `"parameters_exclusive"`, "error.field": `"name"`}},
		{name: "age a string at newest", method: "POST", target: "/v1/users", ct: "application/json", body: `{"full_name":"Bo","age":"30"}`, version: "2024-06-01",
			status: 200, handled: true, want: map[string]string{"full_name": `"Bo"`, "age": `"30"`}},
	}
	var calls atomic.Int64
	for form, srv := range usersServers(t, &calls) {
		for _, tt := range tests {
			t.Run(form+"/"+tt.name, func(t *testing.T) {
				req, err := http.NewRequest(tt.method, srv.URL+tt.target, strings.NewReader(tt.body))
				require.NoError(t, err)
				if tt.ct != "" {
					req.Header.Set("Content-Type", tt.ct)
				}
				req.Header.Set("Api-Version", tt.version)
				before := calls.Load()
				res, err := srv.Client().Do(req)
				require.NoError(t, err)
				b, err := io.ReadAll(res.Body)
				res.Body.Close()
				require.NoError(t, err)
				got := string(b)
				require.Equal(t, tt.status, res.StatusCode, got)
				require.True(t, gjson.Valid(got), got)
				assert.Equal(t, tt.version, res.Header.Get("Api-Version"))
				assert.Equal(t, tt.handled, calls.Load() > before, "a handler ran")
				for path, want := range tt.want {
					assert.Equal(t, want, gjson.Get(got, path).Raw, "%s in %s", path, got)
				}
				for _, path := range tt.absent {
					assert.False(t, gjson.Get(got, path).Exists(), "%s in %s", path, got)
				}
				if tt.status == 400 {
					// Refused on the way in, and walked back like a
					// handler's error: at the base, param is field.
					param := "error.param"
					if tt.version == "2023-01-01" {
						param = "error.field"
						assert.False(t, gjson.Get(got, "error.param").Exists(), "error.param at the base: %s", got)
					}
					msg := gjson.Get(got, "error.message").String()
					assert.Contains(t, msg, gjson.Get(got, param).String(), "the message names the parameter")
					assert.Contains(t, msg, tt.version, "the message names the version")
				}
			})
		}
	}
}

// TestPayloadStreams checks that a response no change touches at its
// status is not buffered: the handler's Flush reaches the client's writer.
func TestPayloadStreams(t *testing.T) {
	mw, err := server.Config{Engine: usersEngine(t)}.ToMiddleware()
	require.NoError(t, err)
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(map[bool]int{true: 404, false: 200}[strings.HasSuffix(r.URL.Path, "/missing")])
		_, _ = io.WriteString(w, `{"error":{"code":"resource_missing"},"full_name":"x"}`)
		http.NewResponseController(w).Flush()
	}))
	tests := []struct {
		name, target, version string
		streamed              bool
		body                  string
	}{
		{"newest", "/v1/users/u_1", "2024-06-01", true, `{"error":{"code":"resource_missing"},"full_name":"x"}`},
		{"unnamed endpoint, no error op between", "/v1/teams/t_1", "2024-01-01", true, `{"error":{"code":"resource_missing"},"full_name":"x"}`},
		{"unnamed endpoint, success where only errors change", "/v1/teams/t_1", "2023-01-01", true, `{"error":{"code":"resource_missing"},"full_name":"x"}`},
		{"unnamed endpoint, error", "/v1/teams/missing", "2023-01-01", false, `{"error":{"code":"not_found"},"full_name":"x"}`},
		{"named endpoint", "/v1/users/u_1", "2023-01-01", false, `{"error":{"code":"resource_missing"},"name":"x"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", tt.target, nil)
			req.Header.Set("Api-Version", tt.version)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, tt.streamed, rec.Flushed, "streamed")
			assert.Equal(t, tt.body, rec.Body.String())
		})
	}
}

// TestTypeFieldConfig finds objects by the type field the middleware's
// config names.
func TestTypeFieldConfig(t *testing.T) {
	tl, err := gates.Load("t.yaml", []byte("header: Api-Version\nversions:\n  - version: 2024-01-01\n    changes:\n      - id: a\n        description: d\n        resources: [user]\n        ops:\n          - rename: {field: full_name, was: name}\n  - version: 2023-01-01\n"), nil)
	require.NoError(t, err)
	engine := transform.New(tl, nil)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"kind":"user","full_name":"A","team":{"kind":"team","full_name":"T"}}`)
	})
	for _, tt := range []struct {
		field, want string
	}{
		{"", `{"kind":"user","full_name":"A","team":{"kind":"team","full_name":"T"}}`},
		{"kind", `{"kind":"user","name":"A","team":{"kind":"team","full_name":"T"}}`},
	} {
		mw, err := server.Config{Engine: engine, TypeField: tt.field}.ToMiddleware()
		require.NoError(t, err)
		req := httptest.NewRequest("GET", "/v1/me", nil)
		req.Header.Set("Api-Version", "2023-01-01")
		rec := httptest.NewRecorder()
		mw(next).ServeHTTP(rec, req)
		assert.Equal(t, tt.want, rec.Body.String(), "TypeField %q", tt.field)
	}
	_, err = server.Config{Engine: engine, TypeField: "a.b"}.ToMiddleware()
	require.ErrorContains(t, err, "type field")
	_, err = server.Config{Engine: engine, TypeField: "a b"}.ToMiddleware()
	require.ErrorContains(t, err, "type field")
}
