package transform

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// scanFind is find by a plain scan of the members, to check find against.
func scanFind(o *object, key string) int {
	for i := range o.members {
		if m := &o.members[i]; !m.dead && keyIs(o.keyOf(m), key) {
			return i
		}
	}
	return -1
}

// TestFindFingerprints checks that find, which compares key fingerprints
// first, agrees with a plain scan through random removals, renames and
// additions, duplicate keys and keys alike in length and ends included.
func TestFindFingerprints(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	keys := []string{"", "a", "b", "ab", "ba", "aab", "abb", "id", "object", "amount", "amount_refunded", "amount_captured", "x1", "x2", "x10", "y", "card", "brand", "status", "s\\u0074atus"}
	for _, n := range []int{0, 1, 5, 17, 45, 300} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			for round := 0; round < 20; round++ {
				var b strings.Builder
				b.WriteByte('{')
				for i := 0; i < n; i++ {
					if i > 0 {
						b.WriteByte(',')
					}
					fmt.Fprintf(&b, "%q:%d", keys[r.IntN(len(keys))], i)
				}
				b.WriteByte('}')
				var d domPool
				o := d.parseObject([]byte(b.String()))
				for op := 0; op < 200; op++ {
					k := keys[r.IntN(len(keys))]
					if got, want := o.find(k), scanFind(o, k); got != want {
						t.Fatalf("find(%q) = %d, want %d in %s", k, got, want, d.appendObject(nil, o))
					}
					switch live := len(o.members); r.IntN(4) {
					case 0:
						if live > 0 {
							o.kill(r.IntN(live))
						}
					case 1:
						if i := r.IntN(live + 1); i < live && !o.members[i].dead {
							o.setKey(i, quoteKey(keys[r.IntN(len(keys))]))
						}
					case 2:
						o.add(quoteKey(keys[r.IntN(len(keys))]), []byte("0"))
					}
				}
			}
		})
	}
}
