package pins_test

import (
	"testing"

	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/pins/pinstest"
)

func TestMemory(t *testing.T) {
	pinstest.Run(t, pinstest.Backend{
		Open: func(t *testing.T, opts *pins.Options) pins.Store { return pins.NewMemoryStore(opts) },
	})
}
