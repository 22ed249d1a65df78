// Package accounts keeps the accounts of verso's demo API and their secret
// API keys.
//
// A key looks like sk_test_ followed by 32 random base62 characters. It is
// shown once, when CreateKey makes it; the store keeps only its SHA-256 hash
// and, for listings, its first 12 and last 4 characters
// (Key.Redacted: "sk_test_AbCd...wxyz"). Authenticate finds the account of a
// key by its hash; a revoked, unknown, malformed or empty key gives
// ErrUnknownKey.
//
// A Store works on the *storage.DB shared by verso's stores, SQLite or
// PostgreSQL, and creates its tables (verso_accounts, verso_api_keys) when
// constructed:
//
//	db, _ := storage.Open(ctx, "verso.db")
//	s, _ := accounts.New(ctx, db, accounts.Options{})
//	acct, secret, _ := s.EnsureFirst(ctx, "Demo") // one account, however many servers start at once
//	if secret != "" {
//		fmt.Println("test key:", secret)
//	}
//	acct, err := s.Authenticate(ctx, bearerToken)
package accounts
