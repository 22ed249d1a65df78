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

	// A server's first start: no account yet, so one is made with its key.
	acct, secret, _ := s.EnsureFirst(ctx, "Demo")
	keys, _ := s.ListKeys(ctx, acct.ID)
	fmt.Println(strings.HasPrefix(secret, "sk_test_"), len(secret), keys[0].Redacted() == secret[:12]+"..."+secret[36:])
	got, _ := s.Authenticate(ctx, secret)
	fmt.Println(got.Name)

	// The next start finds it, and shows no key.
	again, secret, _ := s.EnsureFirst(ctx, "Demo")
	fmt.Println(again.ID == acct.ID, secret == "")
	_, err := s.Authenticate(ctx, "sk_test_not_a_key")
	fmt.Println(errors.Is(err, accounts.ErrUnknownKey))
	// Output:
	// true 40 true
	// Demo
	// true true
	// true
}
