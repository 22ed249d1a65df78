package apierror_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/internal/logtest"
)

// TestWriteLogLevels checks what an answered error logs: nothing for a
// 4xx, a warning for a 503 (an outage answers one to every request),
// an error for any other 5xx.
func TestWriteLogLevels(t *testing.T) {
	tests := []struct {
		name string
		err  error
		logs bool
		want slog.Level
	}{
		{"404", apierror.ErrNotFound, false, 0},
		{"408", apierror.ErrTimeout, false, 0},
		{"429", apierror.New(429, apierror.TypeRateLimit, "rate_limit", "Slow down."), false, 0},
		{"500", apierror.ErrInternal, true, slog.LevelError},
		{"plain error", context.DeadlineExceeded, true, slog.LevelError},
		{"502", apierror.New(502, apierror.TypeAPI, "bad_gateway", "Bad gateway."), true, slog.LevelError},
		{"503", apierror.ErrUnavailable.With("The database is away."), true, slog.LevelWarn},
		{"504", apierror.New(504, apierror.TypeAPI, "gateway_timeout", "Gateway timeout."), true, slog.LevelError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, h := logtest.New()
			write := apierror.NewWriter(logger)
			write(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/v1/x", nil), tt.err)
			got := h.Records("")
			switch {
			case !tt.logs && len(got) != 0:
				t.Errorf("logged %d records, want none", len(got))
			case tt.logs && len(got) != 1:
				t.Errorf("logged %d records, want 1", len(got))
			case tt.logs && got[0].Level != tt.want:
				t.Errorf("logged at %v, want %v", got[0].Level, tt.want)
			}
		})
	}
}

// TestWriteLogsOnDefault checks Write and WriteShape log on slog.Default
// at the same levels.
func TestWriteLogsOnDefault(t *testing.T) {
	logger, h := logtest.New()
	old := slog.Default()
	slog.SetDefault(logger)
	t.Cleanup(func() { slog.SetDefault(old) })
	r := httptest.NewRequest(http.MethodGet, "/v1/x", nil)
	apierror.Write(httptest.NewRecorder(), r, apierror.ErrUnavailable)
	apierror.WriteShape(httptest.NewRecorder(), r, apierror.ErrInternal, apierror.Shape{})
	apierror.Write(httptest.NewRecorder(), r, apierror.ErrNotFound)
	got := h.Records("")
	if len(got) != 2 {
		t.Fatalf("logged %d records, want 2", len(got))
	}
	if got[0].Level != slog.LevelWarn || got[1].Level != slog.LevelError {
		t.Errorf("levels %v, %v; want WARN, ERROR", got[0].Level, got[1].Level)
	}
}
