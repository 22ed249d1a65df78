// Package sdktest starts the demo API (what verso serve runs) on
// 127.0.0.1 for the generated clients' tests.
package sdktest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/storage/storagetest"
)

// Start starts the demo API on a fresh SQLite database and returns its URL
// and an API key. It stops when the test ends.
func Start(t *testing.T) (url, key string) {
	t.Helper()
	db, _ := storagetest.Backends()[0].Open(t)
	ctx, cancel := context.WithCancel(context.Background())
	s, err := api.New(ctx, api.Config{DB: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	_, key, err = s.EnsureAccount(ctx)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return "http://" + ln.Addr().String(), key
}

// Auth returns a request editor that sends the API key and pins the
// request to version.
func Auth(key, version string) func(context.Context, *http.Request) error {
	return func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+key)
		r.Header.Set("Stripe-Version", version)
		return nil
	}
}

// Key returns a request editor that authenticates with key and leaves the
// version to the request: the generated clients take it as a parameter of
// every operation.
func Key(key string) func(context.Context, *http.Request) error {
	return func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+key)
		return nil
	}
}
