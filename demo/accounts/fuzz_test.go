package accounts_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/verso-api/verso/demo/accounts"
)

// FuzzAuthenticate checks that no string but the one key made gives an
// account, and that none gives an error other than ErrUnknownKey.
func FuzzAuthenticate(f *testing.F) {
	ctx := context.Background()
	s := openStore(f, filepath.Join(f.TempDir(), "accounts.db"), accounts.Options{})
	a, err := s.CreateAccount(ctx, "Demo")
	if err != nil {
		f.Fatal(err)
	}
	secret, _, err := s.CreateKey(ctx, a.ID)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{"", "sk_test_", secret[:len(secret)-1], secret + "0", "sk_test_' OR 1=1 --", "sk_test_aaaaaaaaaaaaaaaaaaaaaaaa"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := s.Authenticate(ctx, in)
		if in == secret {
			if err != nil || got.ID != a.ID {
				t.Fatalf("the real key: %v, %v", got, err)
			}
			return
		}
		if !errors.Is(err, accounts.ErrUnknownKey) {
			t.Fatalf("Authenticate(%q): %v, want ErrUnknownKey", in, err)
		}
	})
}
