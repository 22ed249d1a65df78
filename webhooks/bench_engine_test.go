package webhooks

import (
	"context"
	"strconv"
	"testing"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
	"github.com/verso-api/verso/webhooks/signature"
)

// BenchmarkRenderAndSignEngine is BenchmarkRenderAndSign with verso's own
// engine over the ten-version Stripe-like timeline: one endpoint on the
// oldest version, and ten endpoints, one on each version.
func BenchmarkRenderAndSignEngine(b *testing.B) {
	tl, err := gates.LoadFile("../testdata/stripe.yaml", nil)
	if err != nil {
		b.Fatal(err)
	}
	eng := transform.New(tl, nil)
	s := newStore(b, openDB(b, ":memory:"), nil)
	w, err := NewWorker(Config{Store: s, Renderer: back(eng)})
	if err != nil {
		b.Fatal(err)
	}
	all := tl.Versions().List()
	for _, n := range []int{1, 10} {
		b.Run(strconv.Itoa(n)+"_endpoints", func(b *testing.B) {
			eps := make([]Endpoint, n)
			for i := range eps {
				eps[i] = Endpoint{ID: "we_" + strconv.Itoa(i), APIVersion: all[len(all)-1-i], Secret: signature.NewSecret()}
			}
			benchRenderAndSign(b, w, eps)
		})
	}
}

// back renders with the engine, as a program whose timeline names no
// resolvers does.
func back(e *transform.Engine) Renderer {
	return func(_ context.Context, _ string, event []byte, to versions.Version) ([]byte, error) {
		return e.Back(event, to)
	}
}
