package apierror_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/verso-api/verso/apierror"
)

// records is a slog.Handler that keeps what it is given.
type records struct {
	mu  sync.Mutex
	got []slog.Record
}

func (h *records) Enabled(context.Context, slog.Level) bool { return true }
func (h *records) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got = append(h.got, r)
	return nil
}
func (h *records) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *records) WithGroup(string) slog.Handler      { return h }

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
			h := &records{}
			write := apierror.NewWriter(slog.New(h))
			write(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/v1/x", nil), tt.err)
			switch {
			case !tt.logs && len(h.got) != 0:
				t.Errorf("logged %d records, want none", len(h.got))
			case tt.logs && len(h.got) != 1:
				t.Errorf("logged %d records, want 1", len(h.got))
			case tt.logs && h.got[0].Level != tt.want:
				t.Errorf("logged at %v, want %v", h.got[0].Level, tt.want)
			}
		})
	}
}

// TestWriteLogsOnDefault checks Write and WriteShape log on slog.Default
// at the same levels.
func TestWriteLogsOnDefault(t *testing.T) {
	h := &records{}
	old := slog.Default()
	slog.SetDefault(slog.New(h))
	t.Cleanup(func() { slog.SetDefault(old) })
	r := httptest.NewRequest(http.MethodGet, "/v1/x", nil)
	apierror.Write(httptest.NewRecorder(), r, apierror.ErrUnavailable)
	apierror.WriteShape(httptest.NewRecorder(), r, apierror.ErrInternal, apierror.Shape{})
	apierror.Write(httptest.NewRecorder(), r, apierror.ErrNotFound)
	if len(h.got) != 2 {
		t.Fatalf("logged %d records, want 2", len(h.got))
	}
	if h.got[0].Level != slog.LevelWarn || h.got[1].Level != slog.LevelError {
		t.Errorf("levels %v, %v; want WARN, ERROR", h.got[0].Level, h.got[1].Level)
	}
}
