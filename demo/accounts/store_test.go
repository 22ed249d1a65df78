package accounts_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verso-api/verso/storage/storagetest"

	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/demo/accounts"
	"github.com/verso-api/verso/storage"
)

// backend opens an empty store per test and can reopen one on the same data.
type backend struct {
	open func(t testing.TB, opts accounts.Options) *accounts.Store
	// persistent is false for a private in-memory SQLite database.
	persistent bool
}

func TestSQLite(t *testing.T) {
	run(t, backend{
		open: func(t testing.TB, opts accounts.Options) *accounts.Store {
			return openStore(t, filepath.Join(t.TempDir(), "accounts.db"), opts)
		},
		persistent: true,
	})
}

func TestSQLiteInMemory(t *testing.T) {
	run(t, backend{
		open: func(t testing.TB, opts accounts.Options) *accounts.Store {
			return openStore(t, ":memory:", opts)
		},
	})
}

func TestPostgres(t *testing.T) {
	base := os.Getenv("VERSO_TEST_POSTGRES_URL")
	if base == "" {
		t.Skip("VERSO_TEST_POSTGRES_URL is unset: skipping the PostgreSQL tests (.ci/run sets it)")
	}
	run(t, backend{
		open: func(t testing.TB, opts accounts.Options) *accounts.Store {
			return openStore(t, postgresSchema(t, base), opts)
		},
		persistent: true,
	})
}

var secretRE = regexp.MustCompile(`^sk_test_[0-9A-Za-z]{32}$`)

// clock is a settable clock for accounts.Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var start = time.Date(2026, 3, 1, 9, 30, 0, 987654321, time.UTC)

// run is the suite every backend passes.
func run(t *testing.T, b backend) {
	ctx := context.Background()
	open := func(t *testing.T) (*accounts.Store, *clock) {
		c := &clock{t: start}
		return b.open(t, accounts.Options{Now: c.Now}), c
	}

	t.Run("Accounts", func(t *testing.T) {
		s, c := open(t)
		n, err := s.CountAccounts(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
		list, err := s.Accounts(ctx)
		require.NoError(t, err)
		require.Empty(t, list)

		var made []accounts.Account
		for i, name := range []string{"Demo", "Acme, Inc.", ""} {
			a, err := s.CreateAccount(ctx, name)
			require.NoError(t, err)
			require.Regexp(t, `^acct_[0-9A-Za-z]{16}$`, a.ID)
			require.Equal(t, name, a.Name)
			require.True(t, a.Created.Equal(c.Now()), "Created: %v", a.Created)
			made = append(made, a)
			n, err := s.CountAccounts(ctx)
			require.NoError(t, err)
			require.Equal(t, i+1, n)
			c.Advance(time.Second)
		}
		list, err = s.Accounts(ctx)
		require.NoError(t, err)
		require.Equal(t, made, list, "oldest first")
		for _, a := range made {
			got, err := s.Account(ctx, a.ID)
			require.NoError(t, err)
			require.Equal(t, a, got)
		}
		_, err = s.Account(ctx, "acct_missing")
		require.ErrorIs(t, err, accounts.ErrAccountNotFound)
		_, err = s.CreateAccount(ctx, strings.Repeat("x", 257))
		require.ErrorContains(t, err, "name longer than 256 bytes")
	})

	t.Run("CreateKey", func(t *testing.T) {
		s, c := open(t)
		a, err := s.CreateAccount(ctx, "Demo")
		require.NoError(t, err)
		c.Advance(time.Minute)
		secret, k, err := s.CreateKey(ctx, a.ID)
		require.NoError(t, err)
		require.Regexp(t, secretRE, secret)
		require.Regexp(t, `^key_[0-9A-Za-z]{16}$`, k.ID)
		require.Equal(t, a.ID, k.AccountID)
		require.Equal(t, secret[:12], k.Prefix)
		require.Equal(t, secret[len(secret)-4:], k.Last4)
		require.Equal(t, secret[:12]+"..."+secret[len(secret)-4:], k.Redacted())
		require.True(t, k.Created.Equal(c.Now()))
		require.True(t, k.Active())

		keys, err := s.ListKeys(ctx, a.ID)
		require.NoError(t, err)
		require.Equal(t, []accounts.Key{k}, keys)

		_, _, err = s.CreateKey(ctx, "acct_missing")
		require.ErrorIs(t, err, accounts.ErrAccountNotFound)
		_, err = s.ListKeys(ctx, "acct_missing")
		require.ErrorIs(t, err, accounts.ErrAccountNotFound)
	})

	t.Run("SecretNotStoredInClear", func(t *testing.T) {
		s, _ := open(t)
		a, err := s.CreateAccount(ctx, "Demo")
		require.NoError(t, err)
		secret, _, err := s.CreateKey(ctx, a.ID)
		require.NoError(t, err)
		middle := secret[12 : len(secret)-4] // the part no listing shows
		rows, err := s.DB().Query(ctx, `SELECT id, account_id, hash, prefix, last4 FROM verso_api_keys`)
		require.NoError(t, err)
		defer rows.Close()
		n := 0
		for rows.Next() {
			n++
			cols := make([]string, 5)
			require.NoError(t, rows.Scan(&cols[0], &cols[1], &cols[2], &cols[3], &cols[4]))
			for _, v := range cols {
				require.NotContains(t, v, middle)
			}
			sum := sha256.Sum256([]byte(secret))
			require.Equal(t, hex.EncodeToString(sum[:]), cols[2])
		}
		require.NoError(t, rows.Err())
		require.Equal(t, 1, n)
	})

	t.Run("Authenticate", func(t *testing.T) {
		s, _ := open(t)
		a1, err := s.CreateAccount(ctx, "One")
		require.NoError(t, err)
		a2, err := s.CreateAccount(ctx, "Two")
		require.NoError(t, err)
		s1, k1, err := s.CreateKey(ctx, a1.ID)
		require.NoError(t, err)
		s1b, _, err := s.CreateKey(ctx, a1.ID)
		require.NoError(t, err)
		s2, _, err := s.CreateKey(ctx, a2.ID)
		require.NoError(t, err)

		for _, tt := range []struct {
			secret string
			want   accounts.Account
		}{{s1, a1}, {s1b, a1}, {s2, a2}} {
			got, err := s.Authenticate(ctx, tt.secret)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		}
		got, key, err := s.AuthenticateKey(ctx, s1)
		require.NoError(t, err)
		require.Equal(t, a1, got)
		require.Equal(t, k1, key)

		flip := []byte(s1)
		if flip[20] == 'a' {
			flip[20] = 'b'
		} else {
			flip[20] = 'a'
		}
		tests := []struct {
			name, secret string
		}{
			{"empty", ""},
			{"prefix only", "sk_test_"},
			{"live prefix", "sk_live_" + s1[len("sk_test_"):]},
			{"one character changed", string(flip)},
			{"too long by one", s1 + "x"},
			{"truncated", s1[:len(s1)-1]},
			{"well formed but unknown", "sk_test_" + strings.Repeat("A", 32)},
			{"shortest well formed", "sk_test_" + strings.Repeat("z", 24)},
			{"too short", "sk_test_" + strings.Repeat("z", 23)},
			{"longest well formed", "sk_test_" + strings.Repeat("z", 64)},
			{"too long", "sk_test_" + strings.Repeat("z", 65)},
			{"bearer included", "Bearer " + s1},
			{"surrounding space", " " + s1 + " "},
			{"sql", "sk_test_' OR '1'='1' --"},
			{"sql after a valid key", s1 + "' OR 1=1 --"},
			{"nul byte", "sk_test_\x00" + strings.Repeat("a", 31)},
			{"invalid utf-8", "sk_test_\xff\xfe" + strings.Repeat("a", 30)},
			{"non-ascii letters", "sk_test_" + strings.Repeat("é", 16)},
			{"a megabyte", strings.Repeat("k", 1<<20)},
			{"the hash", "sk_test_" + hex.EncodeToString(make([]byte, 16))},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.Authenticate(ctx, tt.secret)
				require.ErrorIs(t, err, accounts.ErrUnknownKey)
				require.Equal(t, accounts.Account{}, got)
			})
		}
	})

	t.Run("RevokeKey", func(t *testing.T) {
		s, c := open(t)
		a, err := s.CreateAccount(ctx, "Demo")
		require.NoError(t, err)
		old, kOld, err := s.CreateKey(ctx, a.ID)
		require.NoError(t, err)
		c.Advance(time.Second)
		fresh, kNew, err := s.CreateKey(ctx, a.ID)
		require.NoError(t, err)

		c.Advance(time.Hour)
		revokedAt := c.Now()
		require.NoError(t, s.RevokeKey(ctx, kOld.ID))
		_, err = s.Authenticate(ctx, old)
		require.ErrorIs(t, err, accounts.ErrUnknownKey)
		got, err := s.Authenticate(ctx, fresh)
		require.NoError(t, err, "the account's other key still works")
		require.Equal(t, a, got)

		c.Advance(time.Hour)
		require.NoError(t, s.RevokeKey(ctx, kOld.ID), "revoking twice is fine")
		keys, err := s.ListKeys(ctx, a.ID)
		require.NoError(t, err)
		require.Len(t, keys, 2)
		require.Equal(t, kOld.ID, keys[0].ID)
		require.True(t, keys[0].Revoked.Equal(revokedAt), "the first revocation time stays: %v", keys[0].Revoked)
		require.False(t, keys[0].Active())
		require.Equal(t, kNew, keys[1])

		require.ErrorIs(t, s.RevokeKey(ctx, "key_missing"), accounts.ErrKeyNotFound)
	})

	t.Run("KeysAreDistinct", func(t *testing.T) {
		s, _ := open(t)
		a, err := s.CreateAccount(ctx, "Demo")
		require.NoError(t, err)
		seen := map[string]bool{}
		for range 200 {
			secret, _, err := s.CreateKey(ctx, a.ID)
			require.NoError(t, err)
			require.Regexp(t, secretRE, secret)
			require.False(t, seen[secret], "duplicate key %s", secret)
			seen[secret] = true
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		s, _ := open(t)
		a, err := s.CreateAccount(ctx, "Demo")
		require.NoError(t, err)
		secret, _, err := s.CreateKey(ctx, a.ID)
		require.NoError(t, err)
		const n = 20
		var wg sync.WaitGroup
		errs := make([]error, 2*n)
		made := make([]string, n)
		for i := range n {
			wg.Add(2)
			go func() {
				defer wg.Done()
				made[i], _, errs[i] = s.CreateKey(ctx, a.ID)
			}()
			go func() {
				defer wg.Done()
				got, err := s.Authenticate(ctx, secret)
				if err == nil && got.ID != a.ID {
					err = fmt.Errorf("authenticated as %s", got.ID)
				}
				errs[n+i] = err
			}()
		}
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "goroutine %d", i)
		}
		for _, m := range made {
			got, err := s.Authenticate(ctx, m)
			require.NoError(t, err)
			require.Equal(t, a.ID, got.ID)
		}
		keys, err := s.ListKeys(ctx, a.ID)
		require.NoError(t, err)
		require.Len(t, keys, n+1)
	})

	t.Run("EnsureFirst", func(t *testing.T) {
		s, c := open(t)
		a, secret, err := s.EnsureFirst(ctx, "Demo")
		require.NoError(t, err)
		require.Regexp(t, secretRE, secret)
		require.Equal(t, "Demo", a.Name)
		got, err := s.Authenticate(ctx, secret)
		require.NoError(t, err)
		require.Equal(t, a, got)
		c.Advance(time.Second)
		_, err = s.CreateAccount(ctx, "Later")
		require.NoError(t, err)
		again, secret, err := s.EnsureFirst(ctx, "Other")
		require.NoError(t, err)
		require.Equal(t, a, again, "the oldest account")
		require.Empty(t, secret, "no key is made for an account that exists")
		keys, err := s.ListKeys(ctx, a.ID)
		require.NoError(t, err)
		require.Len(t, keys, 1)
		_, _, err = s.EnsureFirst(ctx, strings.Repeat("x", 257))
		require.ErrorContains(t, err, "name longer than 256 bytes")
	})

	t.Run("EnsureFirstConcurrent", func(t *testing.T) {
		// Stores with pools of their own, as separate servers have, when
		// the database persists; one store's pool otherwise.
		first, _ := open(t)
		const n = 8
		stores := make([]*accounts.Store, n)
		for i := range stores {
			stores[i] = first
			if b.persistent && i > 0 {
				stores[i] = openStore(t, first.DB().URL, accounts.Options{})
			}
		}
		var wg sync.WaitGroup
		ids, secrets, errs := make([]string, n), make([]string, n), make([]error, n)
		ready := make(chan struct{})
		for i, s := range stores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-ready
				var a accounts.Account
				a, secrets[i], errs[i] = s.EnsureFirst(ctx, "Demo")
				ids[i] = a.ID
			}()
		}
		close(ready)
		wg.Wait()
		made := 0
		for i := range n {
			require.NoError(t, errs[i], "store %d", i)
			require.Equal(t, ids[0], ids[i], "store %d found another account", i)
			if secrets[i] != "" {
				made++
			}
		}
		require.Equal(t, 1, made, "one store made the account and its key")
		all, err := first.Accounts(ctx)
		require.NoError(t, err)
		require.Len(t, all, 1)
	})

	t.Run("Reopen", func(t *testing.T) {
		if !b.persistent {
			t.Skip("the database does not persist")
		}
		s, _ := open(t)
		a, err := s.CreateAccount(ctx, "Demo")
		require.NoError(t, err)
		secret, _, err := s.CreateKey(ctx, a.ID)
		require.NoError(t, err)
		db := s.DB()
		require.NoError(t, db.Close())

		s = openStore(t, db.URL, accounts.Options{})
		n, err := s.CountAccounts(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		got, err := s.Authenticate(ctx, secret)
		require.NoError(t, err)
		require.Equal(t, a, got)
	})
}

func TestNewNilDatabase(t *testing.T) {
	_, err := accounts.New(context.Background(), nil, accounts.Options{})
	require.ErrorContains(t, err, "nil database")
}

// openStore opens the database at u and a store on it, both closed at the
// end of the test.
func openStore(t testing.TB, u string, opts accounts.Options) *accounts.Store {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, u)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	s, err := accounts.New(ctx, db, opts)
	require.NoError(t, err)
	return s
}

// postgresSchema gives the test a PostgreSQL schema of its own.
func postgresSchema(t testing.TB, base string) string { return storagetest.Schema(t, base) }
