package accounts

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// KeyPrefix starts every secret key.
const KeyPrefix = "sk_test_"

const (
	keyRandLen    = 32 // random characters in a new key: about 190 bits
	minKeyRandLen = 24 // shortest random part Authenticate accepts
	maxKeyRandLen = 64 // longest random part Authenticate accepts
	shownPrefix   = len(KeyPrefix) + 4
	shownLast     = 4
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Key describes a secret API key without the secret.
type Key struct {
	ID        string // "key_" and random characters
	AccountID string
	// Prefix is the key's first 12 characters ("sk_test_AbCd") and Last4 its
	// last 4: enough to tell keys apart in a listing, far too little to use.
	Prefix string
	Last4  string
	// Created is when the key was made; Revoked when it was revoked, zero
	// while it works.
	Created time.Time
	Revoked time.Time
}

// Redacted returns the key as listings show it: "sk_test_AbCd...wxyz".
func (k Key) Redacted() string { return k.Prefix + "..." + k.Last4 }

// Active reports whether the key still authenticates.
func (k Key) Active() bool { return k.Revoked.IsZero() }

// randomString returns n characters drawn uniformly from base62 using
// crypto/rand. Bytes of 248 and above are rejected so that every character
// is equally likely (248 = 4*62).
func randomString(n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/4+8)
	for len(out) < n {
		rand.Read(buf) // never returns an error (crypto/rand, Go 1.24+)
		for _, b := range buf {
			if b < 248 && len(out) < n {
				out = append(out, base62[b%62])
			}
		}
	}
	return string(out)
}

// newSecret returns a new secret key.
func newSecret() string { return KeyPrefix + randomString(keyRandLen) }

// wellFormed reports whether s has the shape of a secret key, so that
// Authenticate can refuse anything else without asking the database.
func wellFormed(s string) bool {
	if len(s) < len(KeyPrefix)+minKeyRandLen || len(s) > len(KeyPrefix)+maxKeyRandLen || s[:len(KeyPrefix)] != KeyPrefix {
		return false
	}
	for i := len(KeyPrefix); i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

// hashKey returns the hex SHA-256 of a secret key, the form in which keys
// are stored and looked up. A fast unsalted hash is enough here, unlike for
// passwords: a key holds about 190 random bits, so no dictionary or
// brute-force search can find a key from its hash, while a slow KDF would
// cost every authenticated request and a salt would prevent finding the key
// by its hash with an index.
func hashKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
