package pins_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/pins/pinstest"
	"github.com/verso-api/verso/storage/storagetest"
)

// BenchmarkGet measures the lookup the versioning middleware makes on every
// request that names no version, from parallel goroutines.
func BenchmarkGet(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B) pins.Store
	}{
		{"memory", func(b *testing.B) pins.Store { return pins.NewMemoryStore(nil) }},
		{"sqlite", func(b *testing.B) pins.Store {
			return openSQL(b, filepath.Join(b.TempDir(), "pins.db"), nil)
		}},
		{"postgres", func(b *testing.B) pins.Store {
			return openSQL(b, storagetest.PostgresURL(b), nil)
		}},
	}
	accounts := make([]string, 100)
	for i := range accounts {
		accounts[i] = fmt.Sprintf("acct_%d", i)
	}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			ctx := context.Background()
			s := st.open(b)
			for _, a := range accounts {
				if _, _, err := s.PinIfAbsent(ctx, a, pinstest.V3); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					if _, err := s.Get(ctx, accounts[i%len(accounts)]); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
		})
	}
}

// BenchmarkPinIfAbsent measures a first request's pin (a write) on SQLite.
func BenchmarkPinIfAbsent(b *testing.B) {
	ctx := context.Background()
	s := openSQL(b, filepath.Join(b.TempDir(), "pins.db"), nil)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, _, err := s.PinIfAbsent(ctx, fmt.Sprintf("acct_%d", i), pinstest.V3); err != nil {
			b.Fatal(err)
		}
	}
}
