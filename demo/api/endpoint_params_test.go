package api

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/storage/storagetest"
)

// TestEndpointParamsDeclared checks that every route of the demo API
// outside the webhook endpoint API (which parses its own parameters) has
// its parameters declared in endpointParams, and that the table names no
// route that does not exist.
func TestEndpointParamsDeclared(t *testing.T) {
	db, _ := storagetest.Backends()[0].Open(t)
	s, err := New(context.Background(), Config{DB: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	routes := map[string]bool{}
	for _, r := range s.Echo.Routes() {
		if !strings.HasPrefix(r.Path, "/v1/") || strings.HasPrefix(r.Path, "/v1/webhook_") || strings.HasSuffix(r.Path, "/*") {
			continue
		}
		key := r.Method + " " + r.Path
		routes[key] = true
		t.Run(key, func(t *testing.T) {
			_, ok := endpointParams[key]
			require.True(t, ok, "%s has no entry in endpointParams", key)
		})
	}
	for key := range endpointParams {
		require.True(t, routes[key], "endpointParams declares %s, which is not a route", key)
	}
}
