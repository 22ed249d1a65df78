package importcost

import (
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/server"
)

// The middleware knows a pin as versions.Pin so that the core imports no
// store (TestCoreImports); every store of package pins must still be a
// server.PinStore, which this declaration checks at compile time.
var _ server.PinStore = pins.Store(nil)
