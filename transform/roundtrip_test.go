package transform_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// roundTripTimeline covers every reversible op on two types over four
// versions, including renames that move between nesting levels, fields
// moved into a nested object, an object collapsed to its id, a default and
// a field put back from an array's element.
func roundTripTimeline(t testing.TB) *transform.Engine {
	tl, err := gates.NewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: versions.MustParse("2025-03-01"), Changes: []gates.Change{{
			ID: "c4", Description: "d", Resources: []string{"charge", "customer"},
			Ops: []gates.Op{
				gates.Nest("location", "town", "region"),
				gates.Collapse("author", ""),
				gates.Added("visibility").WithDefault("public"),
				gates.RemovedFrom("first_price", "items.0.price").WithDefault(nil),
			},
		}}},
		{ID: versions.MustParse("2024-03-01"), Changes: []gates.Change{{
			ID: "c3", Description: "d", Resources: []string{"charge"},
			Ops: []gates.Op{
				gates.Retype("amount", gates.Integer, gates.String),
				gates.Rename("billing.city", "city"),
				gates.Enum("status", map[string]string{"succeeded": "paid", "canceled": "voided"}),
			},
		}}},
		{ID: versions.MustParse("2023-03-01"), Changes: []gates.Change{{
			ID: "c2", Description: "d", Resources: []string{"charge", "customer"},
			Ops: []gates.Op{
				gates.Rename("balance", "account_balance"),
				gates.RemovedDefault("legacy", map[string]any{"object": "list", "data": []any{}}),
				gates.Rename("items[].price", "items[].plan"),
			},
		}}},
		{ID: versions.MustParse("2022-03-01"), Changes: []gates.Change{{
			ID: "c1", Description: "d", Resources: []string{"customer"},
			Ops: []gates.Op{
				gates.Retype("rate", gates.Number, gates.Decimal),
				gates.Rename("source", "card"),
			},
		}}},
		{ID: versions.MustParse("2021-03-01")},
	}}, nil)
	require.NoError(t, err)
	return transform.New(tl, nil)
}

// genObject builds a random newest-schema object of a random type, with
// random nesting of typed objects, lists and untouched fields.
func genObject(r *rand.Rand, depth int) map[string]any {
	types := []string{"charge", "customer", "other"}
	typ := types[r.IntN(len(types))]
	m := map[string]any{"object": typ, "id": fmt.Sprintf("%s_%d", typ[:2], r.IntN(1000))}
	if r.IntN(2) == 0 {
		m["amount"] = fmt.Sprintf("%d%d", r.Int64(), r.Int64()) // beyond float64
	}
	if r.IntN(2) == 0 {
		m["balance"] = r.IntN(10000) - 5000
	}
	if r.IntN(2) == 0 {
		m["billing"] = map[string]any{"city": "Lisbon", "zip": "1100"}
	}
	if r.IntN(2) == 0 {
		m["status"] = []string{"succeeded", "canceled", "pending"}[r.IntN(3)]
	}
	if r.IntN(2) == 0 {
		m["rate"] = fmt.Sprintf("0.%d", r.Int64())
	}
	if r.IntN(2) == 0 {
		m["items"] = []any{map[string]any{"price": "p1"}, map[string]any{"price": "p2", "q": 2}}
	}
	if r.IntN(2) == 0 {
		loc := map[string]any{"town": "Porto"}
		if r.IntN(2) == 0 {
			loc["region"] = "PT"
		}
		if r.IntN(2) == 0 {
			loc["geo"] = map[string]any{"lat": 41.1}
		}
		m["location"] = loc
	}
	if r.IntN(2) == 0 {
		m["author"] = map[string]any{"id": fmt.Sprintf("u_%d", r.IntN(100))}
	}
	// A field with a default is one the newest schema requires: forward
	// gives it its default, so x has it with that value.
	m["visibility"] = "public"
	if depth > 0 && r.IntN(2) == 0 {
		m["source"] = genObject(r, depth-1)
	}
	if depth > 0 && r.IntN(3) == 0 {
		m["children"] = map[string]any{"object": "list", "data": []any{genObject(r, depth-1), genObject(r, depth-1)}}
	}
	return m
}

// TestRoundTrip checks forward(back(x)) == x for every version, on random
// objects made only of fields the ops cover (and fields none touches).
func TestRoundTrip(t *testing.T) {
	e := roundTripTimeline(t)
	newest := e.Timeline().Newest()
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 500; i++ {
		x, err := json.Marshal(genObject(r, 3))
		require.NoError(t, err)
		for _, v := range e.Timeline().Versions().List() {
			old, err := e.Back(x, v)
			require.NoError(t, err)
			again, err := e.Render(old, v, newest)
			require.NoError(t, err)
			// Removed fields put back are dropped again; everything else
			// must come back, with the same bytes where no rename moved a
			// key between objects and no member a nest moves came after
			// one it leaves in the wrapper (moved members go back in
			// front).
			require.JSONEq(t, string(x), string(again), "at %s:\n x=%s\nold=%s", v, x, old)
			if !strings.Contains(string(x), `"billing"`) && !strings.Contains(string(x), `"geo"`) {
				require.Equal(t, string(x), string(again), "key order at %s", v)
			}
		}
	}
}
