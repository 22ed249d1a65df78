package gates_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/gates"
)

func TestFiredSet(t *testing.T) {
	var f gates.Fired
	assert.True(t, f.Empty())
	assert.Equal(t, 0, f.Len())
	for _, i := range []int{0, 63, 64, 255, 256, 1000, 63, -1} {
		f.Add(i)
	}
	assert.False(t, f.Empty())
	assert.Equal(t, 6, f.Len())
	assert.Equal(t, []int{0, 63, 64, 255, 256, 1000}, slices.Collect(f.All()))
	for _, i := range []int{0, 63, 64, 255, 256, 1000} {
		assert.True(t, f.Has(i), "%d", i)
	}
	for _, i := range []int{1, 62, 257, 999, 5000, -1} {
		assert.False(t, f.Has(i), "%d", i)
	}
	var g gates.Fired
	g.Add(2)
	g.Add(700)
	g.Union(&f)
	assert.Equal(t, []int{0, 2, 63, 64, 255, 256, 700, 1000}, slices.Collect(g.All()))
	f.Reset()
	assert.True(t, f.Empty())
	assert.Empty(t, slices.Collect(f.All()))
	// Stopping early.
	for i := range g.All() {
		assert.Equal(t, 0, i)
		break
	}
}

func TestFiredAllocs(t *testing.T) {
	var f gates.Fired
	n := testing.AllocsPerRun(100, func() {
		f.Reset()
		f.Add(3)
		f.Add(200)
		_ = f.Has(3)
	})
	assert.Zero(t, n)
	f.Add(300) // past 256: grows once
	n = testing.AllocsPerRun(100, func() {
		f.Reset()
		f.Add(300)
	})
	assert.Zero(t, n, "Reset keeps what was allocated")
}

func TestChangeIndexes(t *testing.T) {
	tl, err := gates.LoadFile("../testdata/stripe.yaml", nil)
	require.NoError(t, err)
	assert.Equal(t, 12, tl.NumChanges())
	assert.Equal(t, 0, tl.ChangeIndex("amount_as_string"))
	assert.Equal(t, 4, tl.ChangeIndex("charge_refunds_not_expanded"))
	assert.Equal(t, -1, tl.ChangeIndex("nope"))
	for i := 0; i < tl.NumChanges(); i++ {
		assert.Equal(t, i, tl.ChangeIndex(tl.ChangeAt(i).ID))
	}
	assert.Nil(t, tl.ChangeAt(-1))
	assert.Nil(t, tl.ChangeAt(12))
	var f gates.Fired
	f.Add(tl.ChangeIndex("customer_sources"))
	f.Add(tl.ChangeIndex("amount_as_string"))
	f.Add(99)
	assert.Equal(t, []string{"amount_as_string", "customer_sources"}, f.IDs(tl))
}

// TestRouteFiredAllocs checks that routing reports what fired without
// allocating, as Route does.
func TestRouteFiredAllocs(t *testing.T) {
	tl, err := gates.LoadFile("testdata/endpoints.yaml", nil)
	require.NoError(t, err)
	v := tl.Versions().Base()
	var f gates.Fired
	n := testing.AllocsPerRun(100, func() {
		f.Reset()
		d := tl.RouteFired(v, "GET", "/v1/nowhere", &f)
		_ = d.Status(200)
	})
	assert.Zero(t, n)
}

func TestFiredEqual(t *testing.T) {
	var a, b gates.Fired
	assert.True(t, a.Equal(&b))
	a.Add(3)
	assert.False(t, a.Equal(&b))
	b.Add(3)
	assert.True(t, a.Equal(&b))
	a.Add(300)
	assert.False(t, a.Equal(&b))
	assert.False(t, b.Equal(&a))
	b.Add(300)
	assert.True(t, a.Equal(&b))
	a.Reset()
	a.Add(3)
	var c gates.Fired
	c.Add(3)
	assert.True(t, a.Equal(&c), "storage kept by Reset is no difference")
	assert.True(t, c.Equal(&a))
}
