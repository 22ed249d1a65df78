package server

import (
	"net/http/httptest"
	"testing"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// TestBackWriterWalksAWholeWrite checks that a body written whole in one
// Write is walked there and then, never copied into the buffer, and that a
// body written in pieces, or needed as written (raw), is buffered.
func TestBackWriterWalksAWholeWrite(t *testing.T) {
	v := versions.MustParse
	tl, err := gates.NewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: v("2025-01-01"), Changes: []gates.Change{{ID: "receipt", Description: "Receipt.", Resources: []string{"charge"},
			Ops: []gates.Op{gates.Rename("receipt_email", "email_receipt")}}}},
		{ID: v("2024-01-01")},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := transform.New(tl, nil).Plan(v("2025-01-01"), v("2024-01-01"))
	if err != nil {
		t.Fatal(err)
	}
	const body = `{"object":"charge","receipt_email":"a@example.com"}`
	const walked = `{"object":"charge","email_receipt":"a@example.com"}`
	tests := []struct {
		name     string
		writes   []string
		raw      bool
		buffered int // bytes in the buffer after the writes
	}{
		{"whole", []string{body}, false, 0},
		{"whole and newline", []string{body, "\n"}, false, 0},
		{"pieces", []string{body[:10], body[10:]}, false, len(body)},
		{"raw", []string{body}, true, len(body)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			rec.Header().Set("Content-Type", "application/json")
			bw := getBackWriter(rec, httptest.NewRequest("GET", "/", nil), plan, 1<<20, tt.raw, false, nil)
			defer putBackWriter(bw)
			for _, s := range tt.writes {
				if _, err := bw.Write([]byte(s)); err != nil {
					t.Fatal(err)
				}
			}
			if bw.buf.Len() != tt.buffered {
				t.Errorf("%d bytes buffered, want %d", bw.buf.Len(), tt.buffered)
			}
			if bw.walked != (tt.buffered == 0) {
				t.Errorf("walked = %v", bw.walked)
			}
			if bw.walked && string(bw.out[:len(walked)]) != walked {
				t.Errorf("walked to %s", bw.out)
			}
		})
	}
}
