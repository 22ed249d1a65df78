package pins_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/versions"
)

func TestStable(t *testing.T) {
	stable := versions.MustParse("2026-10-28")
	s := pins.Stable(pins.NewMemory(pins.Options{}), stable)
	for _, tt := range []struct{ name, ask, want string }{
		{"a preview pins to the stable version", "2026-11-18.preview", "2026-10-28"},
		{"a stable version is kept", "2024-01-01", "2024-01-01"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, created, err := s.PinIfAbsent(t.Context(), tt.name, versions.MustParse(tt.ask))
			require.NoError(t, err)
			assert.True(t, created)
			assert.Equal(t, tt.want, p.Version.String())
			got, err := s.Get(t.Context(), tt.name)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.Version.String())
		})
	}
}
