package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/examples/tasks"
	"github.com/verso-api/verso/ratelimit"
	"github.com/verso-api/verso/server/servertest"
	"github.com/verso-api/verso/storage"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// created is when the test's tasks are created.
var created = time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC)

// newAPI builds the Tasks API on a fresh SQLite file, with a create limit
// of 3 a minute per account.
func newAPI(t *testing.T) *tasks.API {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, filepath.Join(t.TempDir(), "tasks.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	api, err := tasks.New(ctx, tasks.Config{DB: db, CreateLimit: ratelimit.Per(3, time.Minute),
		Clock: func() time.Time { return created }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return api
}

type call struct {
	name           string
	method, path   string
	account        string // Authorization: Bearer <account>; "" for none
	version        string // Tasks-Version; "" for none
	key            string // Idempotency-Key; "" for none
	body           string // a form, or JSON when it starts with '{'
	status         int
	served         string            // the Tasks-Version of the answer
	want           map[string]string // gjson path -> raw JSON
	absent         []string
	problem        string // the code of a problem details answer
	replayed       bool
	wantRetryAfter bool
}

// TestAPI sends one story of calls at every version over real HTTP.
func TestAPI(t *testing.T) {
	srv := httptest.NewServer(newAPI(t).Handler)
	defer srv.Close()
	const a = "acct_1"
	calls := []call{
		{name: "create at 2024-06-01: name", method: "POST", path: "/v1/tasks", account: a, version: "2024-06-01", key: "k1",
			body: "name=Write+the+guide", status: 200, served: "2024-06-01",
			want: map[string]string{"id": `"task_1"`, "object": `"task"`, "name": `"Write the guide"`, "status": `"open"`}, absent: []string{"title"}},
		{name: "the retry at the newest version is replayed in it", method: "POST", path: "/v1/tasks", account: a, version: "2025-06-01", key: "k1",
			body: `{"title":"Write the guide"}`, status: 200, served: "2025-06-01", replayed: true,
			want: map[string]string{"id": `"task_1"`, "title": `"Write the guide"`}, absent: []string{"name"}},
		// The limit counts every POST /v1/tasks of acct_1: this is its
		// third and last in the minute.
		{name: "the key with other parameters", method: "POST", path: "/v1/tasks", account: a, version: "2025-06-01", key: "k1",
			body: `{"title":"Another"}`, status: 400, problem: "idempotency_key_reused"},
		{name: "no header: the account's pin, the newest", method: "GET", path: "/v1/tasks/task_1", account: a, status: 200, served: "2025-06-01",
			want: map[string]string{"title": `"Write the guide"`}},
		{name: "2025-01-01 calls it title", method: "GET", path: "/v1/tasks/task_1", account: a, version: "2025-01-01", status: 200, served: "2025-01-01",
			want: map[string]string{"title": `"Write the guide"`, "status": `"open"`}, absent: []string{"name"}},
		{name: "2025-01-01 finishes it as done", method: "POST", path: "/v1/tasks/task_1", account: a, version: "2025-01-01",
			body: "status=done", status: 200, served: "2025-01-01", want: map[string]string{"status": `"done"`}},
		{name: "the newest version sees completed", method: "GET", path: "/v1/tasks/task_1", account: a, version: "2025-06-01", status: 200,
			want: map[string]string{"status": `"completed"`}},
		{name: "2024-06-01 sees done and name", method: "GET", path: "/v1/tasks", account: a, version: "2024-06-01", status: 200,
			want: map[string]string{"data.0.status": `"done"`, "data.0.name": `"Write the guide"`, "data.#": "1"}, absent: []string{"data.0.title"}},
		{name: "an unknown status", method: "POST", path: "/v1/tasks/task_1", account: a, version: "2025-06-01",
			body: "status=later", status: 400, problem: "parameter_invalid", want: map[string]string{"param": `"status"`}},
		{name: "an unknown parameter", method: "POST", path: "/v1/tasks", account: "acct_3", version: "2024-06-01",
			body: "name=x&colour=red", status: 400, problem: "parameter_unknown", want: map[string]string{"param": `"colour"`}},
		{name: "a missing title", method: "POST", path: "/v1/tasks", account: "acct_3", version: "2025-06-01",
			body: `{}`, status: 400, problem: "parameter_missing"},
		{name: "no such task at 2024-06-01", method: "GET", path: "/v1/tasks/task_9", account: a, version: "2024-06-01", status: 404,
			served: "2024-06-01", problem: "resource_missing", want: map[string]string{"param": `"id"`}},
		{name: "an unsupported version", method: "GET", path: "/v1/tasks", account: a, version: "2020-01-01", status: 400,
			problem: "api_version_invalid"},
		{name: "no credentials", method: "GET", path: "/v1/tasks", status: 401, problem: "authentication_required"},
		{name: "a webhook endpoint on no URL", method: "POST", path: "/v1/webhook_endpoints", account: a, version: "2025-06-01",
			body: "url=/hooks&enabled_events[]=*", status: 400, problem: "parameter_invalid", want: map[string]string{"param": `"url"`}},
		{name: "a webhook endpoint", method: "POST", path: "/v1/webhook_endpoints", account: a, version: "2024-06-01",
			body: "url=https://example.com/hooks&enabled_events[]=task.created", status: 200, served: "2024-06-01",
			want: map[string]string{"api_version": `"2024-06-01"`, "object": `"webhook_endpoint"`}},
		{name: "a second account's first create", method: "POST", path: "/v1/tasks", account: "acct_2", body: "title=a", status: 200},
		{name: "its second", method: "POST", path: "/v1/tasks", account: "acct_2", body: "title=b", status: 200},
		{name: "its third", method: "POST", path: "/v1/tasks", account: "acct_2", body: "title=c", status: 200},
		{name: "its fourth is rate limited", method: "POST", path: "/v1/tasks", account: "acct_2", version: "2024-06-01", body: "name=d",
			status: 429, problem: "rate_limit", wantRetryAfter: true},
		{name: "reads are not limited by creates", method: "GET", path: "/v1/tasks", account: "acct_2", status: 200,
			want: map[string]string{"data.#": "3"}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) { c.check(t, srv) })
	}
}

func (c call) check(t *testing.T, srv *httptest.Server) {
	t.Helper()
	req, err := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case strings.HasPrefix(c.body, "{"):
		req.Header.Set("Content-Type", "application/json")
	case c.body != "":
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for h, v := range map[string]string{"Tasks-Version": c.version, "Idempotency-Key": c.key} {
		if v != "" {
			req.Header.Set(h, v)
		}
	}
	if c.account != "" {
		req.Header.Set("Authorization", "Bearer "+c.account)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	if res.StatusCode != c.status {
		t.Fatalf("status %d, want %d: %s", res.StatusCode, c.status, got)
	}
	if c.served != "" && res.Header.Get("Tasks-Version") != c.served {
		t.Errorf("Tasks-Version %q, want %q", res.Header.Get("Tasks-Version"), c.served)
	}
	if replayed := res.Header.Get("Idempotent-Replayed") == "true"; replayed != c.replayed {
		t.Errorf("replayed = %v, want %v", replayed, c.replayed)
	}
	if c.wantRetryAfter && res.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if c.problem != "" {
		// RFC 9457 problem details, the timeline's error shape, in every
		// layer: versioning, rate limits, idempotency keys, webhooks, the
		// handlers, authentication.
		if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("Content-Type %q, want application/problem+json", ct)
		}
		p := gjson.Parse(got)
		if p.Get("code").String() != c.problem || p.Get("type").String() != "https://tasks.example/errors/"+c.problem ||
			p.Get("status").Int() != int64(c.status) || p.Get("title").String() != http.StatusText(c.status) || p.Get("detail").String() == "" {
			t.Errorf("not the problem %s: %s", c.problem, got)
		}
	}
	for path, want := range c.want {
		if g := gjson.Get(got, path).Raw; g != want {
			t.Errorf("%s = %s, want %s in %s", path, g, want, got)
		}
	}
	for _, path := range c.absent {
		if gjson.Get(got, path).Exists() {
			t.Errorf("%s present in %s", path, got)
		}
	}
}

// TestGolden pins the answers at every version of the timeline in
// testdata/versions; `go test ./tasksapi -update` rewrites them.
func TestGolden(t *testing.T) {
	api := newAPI(t)
	h := api.Handler
	create := httptest.NewRequest("POST", "/v1/tasks", strings.NewReader(`{"title":"Write the guide"}`))
	create.Header.Set("Content-Type", "application/json")
	create.Header.Set("Authorization", "Bearer acct_1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, create)
	if rec.Code != 200 {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	opts := &servertest.Options{Update: *update, Headers: []string{"Content-Type"}}
	for _, c := range []struct{ name, method, path, body string }{
		{"get_task", "GET", "/v1/tasks/task_1", ""},
		{"list_tasks", "GET", "/v1/tasks", ""},
		{"missing_task", "GET", "/v1/tasks/task_9", ""},
		{"complete_task", "POST", "/v1/tasks/task_1", ""},
		{"bad_status", "POST", "/v1/tasks/task_1", "status=later"},
	} {
		servertest.EveryVersion(t, h, api.Engine.Timeline(), c.name, func() *http.Request {
			r := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
			r.Header.Set("Authorization", "Bearer acct_1")
			if c.body != "" {
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			return r
		}, opts)
	}
}
