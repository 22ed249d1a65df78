package proxy

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestHasLength checks when the upstream's Content-Length is kept for an
// answer read in full: only when it is the answer's length, spelled as
// the proxy would spell it.
func TestHasLength(t *testing.T) {
	for _, c := range []struct {
		name   string
		header http.Header
		n      int64
		want   bool
	}{
		{"same", http.Header{"Content-Length": {"1839"}}, 1839, true},
		{"zero", http.Header{"Content-Length": {"0"}}, 0, true},
		{"other length", http.Header{"Content-Length": {"1839"}}, 1838, false},
		{"leading zero", http.Header{"Content-Length": {"01839"}}, 1839, false},
		{"none", http.Header{}, 1839, false},
		{"two values", http.Header{"Content-Length": {"1839", "1839"}}, 1839, false},
		{"largest", http.Header{"Content-Length": {"9223372036854775807"}}, 1<<63 - 1, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, hasLength(c.header, c.n))
		})
	}
}
