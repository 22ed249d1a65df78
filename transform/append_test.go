package transform_test

import (
	"bytes"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/transform"
)

// TestAppendApply checks that AppendApply appends what Apply returns, for
// bodies walked in the walker's own buffer and for bodies too big for it,
// and that a result never shares bytes with a later walk's.
func TestAppendApply(t *testing.T) {
	e := benchTimeline(t, 10)
	p, err := e.Plan(e.Timeline().Newest(), e.Timeline().Versions().Base())
	require.NoError(t, err)
	charge, list := benchBodies(t)
	tests := []struct {
		name string
		body []byte
	}{
		{"charge", charge},
		{"list100", list},
		{"list400", listOf(charge, 400)}, // past the walker's own buffer
		{"untouched", []byte(`{"object":"customer","id":"cus_1"}`)},
		{"scalar", []byte(` 12 `)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, err := p.Apply(tc.body)
			require.NoError(t, err)
			keep := bytes.Clone(want)
			for _, dst := range [][]byte{nil, []byte("prefix:"), make([]byte, 3, 1<<20)} {
				before := bytes.Clone(dst)
				got, err := p.AppendApply(dst, tc.body)
				require.NoError(t, err)
				assert.Equal(t, string(before)+string(want), string(got))
			}
			// Walk other bodies: the first result must not change.
			_, err = p.Apply(charge)
			require.NoError(t, err)
			_, err = p.AppendApply(nil, list)
			require.NoError(t, err)
			assert.Equal(t, string(keep), string(want), "a later walk wrote over a result")
		})
	}
	t.Run("concurrent", func(t *testing.T) {
		want, err := p.Apply(charge)
		require.NoError(t, err)
		var wg sync.WaitGroup
		errs := make(chan string, 8)
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var buf []byte
				for i := 0; i < 50; i++ {
					out, err := p.Apply(charge)
					if err != nil || !bytes.Equal(out, want) {
						errs <- "Apply differs"
						return
					}
					if buf, err = p.AppendApply(buf[:0], charge); err != nil || !bytes.Equal(buf, want) {
						errs <- "AppendApply differs"
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
	})
	t.Run("error", func(t *testing.T) {
		dst := []byte("keep")
		got, err := p.AppendApply(dst, []byte(`{"object":"charge","amount":`))
		require.ErrorIs(t, err, transform.ErrSyntax)
		assert.Equal(t, "keep", string(got))
	})
}
