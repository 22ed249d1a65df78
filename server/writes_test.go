package server_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/verso-api/verso/server"
)

// TestHandlerWrites serves the same customer written by handlers in every
// way net/http allows (one Write, with the encoder's newline after it,
// with a Content-Length, in pieces, in pieces whose first looks whole,
// with more JSON after it) at an older version, and checks the body the
// client gets: walked back, with its Content-Length, or a 500 when what
// was written is not one JSON value. A handler reusing its buffer once
// Write returns must not change what the client gets.
func TestHandlerWrites(t *testing.T) {
	const old = "2017-01-27"
	want := func(t *testing.T, body string) {
		t.Helper()
		got := decode(t, []byte(body))
		if got["account_balance"] == nil || got["balance"] != nil {
			t.Errorf("not walked back: %s", body)
		}
	}
	tests := []struct {
		name   string
		writes []string
		length bool // the handler sets Content-Length to the sum of the writes
		status int
		tail   string // what the walked body ends with
	}{
		{"one write", []string{customerJSON}, false, 200, "}"},
		{"encoder newline", []string{customerJSON + "\n"}, false, 200, "}\n"},
		{"newline apart", []string{customerJSON, "\n", " "}, false, 200, "}\n "},
		{"declared length", []string{customerJSON}, true, 200, "}"},
		{"pieces", []string{customerJSON[:20], customerJSON[20:70], customerJSON[70:]}, false, 200, "}"},
		{"pieces declared", []string{customerJSON[:20], customerJSON[20:]}, true, 200, "}"},
		{"first piece looks whole", []string{`{"id":"cus_1","sources":{}`, customerJSON[len(`{"id":"cus_1"`):]}, false, 200, "}"},
		{"leading space", []string{"  ", customerJSON}, false, 200, "}"},
		{"two values", []string{customerJSON, customerJSON}, false, 500, ""},
		{"value and garbage", []string{customerJSON, "\nx"}, false, 500, ""},
		{"cut short", []string{customerJSON[:40]}, false, 500, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if tt.length {
					w.Header().Set("Content-Length", strconv.Itoa(len(strings.Join(tt.writes, ""))))
				}
				for _, s := range tt.writes {
					buf := []byte(s)
					if _, err := w.Write(buf); err != nil {
						t.Error(err)
					}
					// Write must not keep buf.
					for i := range buf {
						buf[i] = 'X'
					}
				}
			})
			srv := server.Middleware(stripe(t))(h)
			req := httptest.NewRequest("GET", "/v1/customers/cus_1", nil)
			req.Header.Set("Stripe-Version", old)
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if got := rec.Header().Get("Content-Length"); got != strconv.Itoa(rec.Body.Len()) {
				t.Errorf("Content-Length %q for %d bytes", got, rec.Body.Len())
			}
			if tt.status != 200 {
				stripeError(t, rec.Body.Bytes())
				return
			}
			want(t, rec.Body.String())
			if !strings.HasSuffix(rec.Body.String(), tt.tail) || strings.Contains(rec.Body.String(), "X") {
				t.Errorf("body %q", rec.Body)
			}
		})
	}
}
