package accounts_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/verso-api/verso/demo/accounts"
)

// BenchmarkAuthenticate measures the key lookup made on every request, on
// SQLite, from parallel goroutines.
func BenchmarkAuthenticate(b *testing.B) {
	ctx := context.Background()
	s := openStore(b, filepath.Join(b.TempDir(), "accounts.db"), accounts.Options{})
	a, err := s.CreateAccount(ctx, "Demo")
	if err != nil {
		b.Fatal(err)
	}
	secret, _, err := s.CreateKey(ctx, a.ID)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Authenticate(ctx, secret); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
