package accounts_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/verso-api/verso/demo/accounts"
	"github.com/verso-api/verso/storage"
)

func Example() {
	ctx := context.Background()
	db, _ := storage.Open(ctx, ":memory:")
	defer db.Close()
	s, _ := accounts.New(ctx, db, accounts.Options{})

	// A server's first start: no account yet, so make one and its key.
	if n, _ := s.CountAccounts(ctx); n == 0 {
		acct, _ := s.CreateAccount(ctx, "Demo")
		secret, key, _ := s.CreateKey(ctx, acct.ID)
		fmt.Println(strings.HasPrefix(secret, "sk_test_"), len(secret), key.Redacted() == secret[:12]+"..."+secret[36:])

		got, _ := s.Authenticate(ctx, secret)
		fmt.Println(got.Name)
	}
	_, err := s.Authenticate(ctx, "sk_test_not_a_key")
	fmt.Println(errors.Is(err, accounts.ErrUnknownKey))
	// Output:
	// true 40 true
	// Demo
	// true
}
