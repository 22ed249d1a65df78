package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidwall/gjson"
	_ "modernc.org/sqlite" // the test runs the Tasks API on SQLite

	"github.com/verso-api/verso/examples/tasks"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/webhooks"
	"github.com/verso-api/verso/webhooks/signature"
)

// inbox is a receiver on 127.0.0.1 whose secret is set once its endpoint
// is created, and what it received.
type inbox struct {
	*httptest.Server
	mu     sync.Mutex
	secret string
	events []string
}

func newInbox(t *testing.T) *inbox {
	in := &inbox{}
	in.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in.mu.Lock()
		secret := in.secret
		in.mu.Unlock()
		newHandler(secret, func(event []byte) {
			in.mu.Lock()
			in.events = append(in.events, string(event))
			in.mu.Unlock()
		}).ServeHTTP(w, r)
	}))
	t.Cleanup(in.Close)
	return in
}

func (in *inbox) received() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]string(nil), in.events...)
}

// TestDeliveries runs the Tasks API and two receivers over real HTTP: each
// receiver's endpoint is on its own version, gets every event rendered in
// it, and verifies each delivery with webhooks/signature.
func TestDeliveries(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := storage.Open(ctx, filepath.Join(t.TempDir(), "tasks.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	api, err := tasks.New(ctx, tasks.Config{DB: db, AllowPrivateWebhooks: true,
		Backoff: webhooks.Backoff{Initial: 50 * time.Millisecond, Max: 200 * time.Millisecond},
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- api.Run(ctx) }()
	defer func() { cancel(); <-done }()
	srv := httptest.NewServer(api.Handler)
	defer srv.Close()
	post := func(path, version, form string) gjson.Result {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer acct_hooks")
		req.Header.Set("Tasks-Version", version)
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("POST %s: %d %s", path, res.StatusCode, b)
		}
		return gjson.ParseBytes(b)
	}

	old, newest := newInbox(t), newInbox(t)
	for _, in := range []struct {
		box     *inbox
		version string
	}{{old, "2024-06-01"}, {newest, "2025-06-01"}} {
		ep := post("/v1/webhook_endpoints", in.version, "url="+url.QueryEscape(in.box.URL)+"&enabled_events[]=*&api_version="+in.version)
		in.box.mu.Lock()
		in.box.secret = ep.Get("secret").String()
		in.box.mu.Unlock()
	}
	post("/v1/tasks", "2025-06-01", "title=Ship+it")
	post("/v1/tasks/task_1", "2025-06-01", "status=completed")

	deadline := time.Now().Add(20 * time.Second)
	for len(old.received()) < 2 || len(newest.received()) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("deliveries: %d and %d of 2", len(old.received()), len(newest.received()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	tests := []struct {
		box                 *inbox
		version, name, done string
	}{{old, "2024-06-01", "name", "done"}, {newest, "2025-06-01", "title", "completed"}}
	for _, tt := range tests {
		byType := map[string]gjson.Result{}
		for _, e := range tt.box.received() {
			byType[gjson.Get(e, "type").String()] = gjson.Parse(e)
		}
		created, updated := byType["task.created"], byType["task.updated"]
		if created.Get("api_version").String() != tt.version || created.Get("data.object."+tt.name).String() != "Ship it" {
			t.Errorf("%s: task.created not in its version: %s", tt.version, created.Raw)
		}
		if updated.Get("data.object.status").String() != tt.done || updated.Get("data.previous_attributes.status").String() != "open" {
			t.Errorf("%s: task.updated not in its version: %s", tt.version, updated.Raw)
		}
	}
}

// TestRefusesForgeries checks the receiver's own answers: a delivery that
// is not signed with the secret, or whose body changed, or that is stale,
// is refused and never handed on.
func TestRefusesForgeries(t *testing.T) {
	const secret = "whsec_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH"
	var got []string
	h := newHandler(secret, func(e []byte) { got = append(got, string(e)) })
	event := `{"id":"evt_1","object":"event","type":"task.created"}`
	now := time.Now()
	tests := []struct {
		name, body, sig string
		status          int
	}{
		{"signed", event, signature.Sign(secret, now, []byte(event)), 204},
		{"another secret", event, signature.Sign("whsec_other", now, []byte(event)), 400},
		{"body changed", strings.Replace(event, "evt_1", "evt_2", 1), signature.Sign(secret, now, []byte(event)), 400},
		{"stale", event, signature.Sign(secret, now.Add(-time.Hour), []byte(event)), 400},
		{"unsigned", event, "", 400},
	}
	for _, tt := range tests {
		req := httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
		req.Header.Set(signature.Header, tt.sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tt.status {
			t.Errorf("%s: %d %s, want %d", tt.name, rec.Code, rec.Body, tt.status)
		}
	}
	if len(got) != 1 || got[0] != event {
		t.Errorf("handed on %q, want the one signed event", got)
	}
}

// TestImportsStandardLibraryOnly: the receiver imports verso's
// webhooks/signature and, through it, nothing but the standard library.
func TestImportsStandardLibraryOnly(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	got := strings.Fields(string(out))
	want := []string{"github.com/verso-api/verso/webhooks/signature", "github.com/verso-api/verso/examples/receiver"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("the receiver imports %v, want %v only", got, want)
	}
}
