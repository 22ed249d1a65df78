package proxy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/verso-api/verso/storage"
)

// LoadSalt returns the key with which the proxy hashes Authorization
// headers into accounts (Config.Salt), kept in db so that accounts keep
// their pins across restarts and every proxy sharing the database agrees.
// The first call on a database creates the table verso_proxy_salt and 32
// random bytes in it; a salt leaks no credential, but whoever holds it and
// a stolen Authorization header can find the header's pin.
func LoadSalt(ctx context.Context, db *storage.DB) ([]byte, error) {
	if _, err := db.Exec(ctx, `CREATE TABLE IF NOT EXISTS verso_proxy_salt (
		id INTEGER PRIMARY KEY,
		salt TEXT NOT NULL
	)`); err != nil {
		return nil, fmt.Errorf("proxy: create verso_proxy_salt: %w", err)
	}
	fresh := make([]byte, 32)
	_, _ = rand.Read(fresh)
	if _, err := db.Exec(ctx, `INSERT INTO verso_proxy_salt (id, salt) VALUES (1, ?) ON CONFLICT (id) DO NOTHING`, hex.EncodeToString(fresh)); err != nil {
		return nil, fmt.Errorf("proxy: store the salt: %w", err)
	}
	var s string
	if err := db.QueryRow(ctx, `SELECT salt FROM verso_proxy_salt WHERE id = 1`).Scan(&s); err != nil {
		return nil, fmt.Errorf("proxy: read the salt: %w", err)
	}
	salt, err := hex.DecodeString(s)
	if err != nil || len(salt) < 16 {
		return nil, fmt.Errorf("proxy: the salt in verso_proxy_salt is not 16 or more hex-encoded bytes")
	}
	return salt, nil
}
