package storage

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the length of a Sealer key in bytes (AES-256).
const KeySize = 32

// sealedPrefix marks a value Seal wrote; values without it are plain text
// written before encryption was turned on.
const sealedPrefix = "sealed1:"

// ErrSealed is returned by Open for a sealed value that does not open
// with the key (another key, or a value that was tampered with), and for
// a sealed value read by a nil Sealer.
var ErrSealed = errors.New("storage: sealed value does not open with this key")

// Sealer encrypts values at rest with AES-256-GCM, each with a random
// nonce. A nil *Sealer stores values in plain text. It is safe for
// concurrent use.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer with a KeySize-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("storage: a sealing key is %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("storage: sealing key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("storage: sealing key: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plain; additional names what the value is for (an
// endpoint id, say), so that a sealed value copied onto another row does
// not open there. A nil Sealer returns plain unchanged.
func (s *Sealer) Seal(plain, additional []byte) []byte {
	if s == nil {
		return plain
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // crypto/rand does not fail on supported systems
	}
	ct := s.aead.Seal(nonce, nonce, plain, additional)
	out := make([]byte, len(sealedPrefix)+base64.RawStdEncoding.EncodedLen(len(ct)))
	copy(out, sealedPrefix)
	base64.RawStdEncoding.Encode(out[len(sealedPrefix):], ct)
	return out
}

// Open decrypts a value Seal wrote with the same additional data. A value
// without the sealed prefix is plain text and is returned as it is.
func (s *Sealer) Open(value, additional []byte) ([]byte, error) {
	rest, ok := strings.CutPrefix(string(value), sealedPrefix)
	if !ok {
		return value, nil
	}
	if s == nil {
		return nil, ErrSealed
	}
	ct, err := base64.RawStdEncoding.DecodeString(rest)
	if err != nil || len(ct) < s.aead.NonceSize() {
		return nil, ErrSealed
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, ct[:n], ct[n:], additional)
	if err != nil {
		return nil, ErrSealed
	}
	return plain, nil
}

// IsSealed reports whether value was written by Seal.
func IsSealed(value []byte) bool { return strings.HasPrefix(string(value), sealedPrefix) }

// ParseKey reads a sealing key written as 64 hex digits or as base64 of
// KeySize bytes, surrounding space ignored.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if k, err := hex.DecodeString(s); err == nil && len(k) == KeySize {
		return k, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == KeySize {
			return k, nil
		}
	}
	return nil, fmt.Errorf("storage: a sealing key is %d bytes written as 64 hex digits or base64", KeySize)
}

// LoadOrCreateKeyFile reads the sealing key in path, or creates the file
// with a new random key, readable by its owner only (mode 0600), when it
// does not exist. A key file that others can read or write is refused.
func LoadOrCreateKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, KeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("storage: new key: %w", err)
		}
		// The key is written whole to a file of its own, then linked to
		// path, which fails if path exists: a process starting at the same
		// time never reads a key file half written, and every process ends
		// with the one key that was linked first.
		f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
		if err != nil {
			return nil, fmt.Errorf("storage: create key file: %w", err)
		}
		defer os.Remove(f.Name())
		werr := f.Chmod(0o600)
		if werr == nil {
			_, werr = f.WriteString(hex.EncodeToString(key) + "\n")
		}
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return nil, fmt.Errorf("storage: write key file: %w", werr)
		}
		err = os.Link(f.Name(), path)
		if errors.Is(err, fs.ErrExist) {
			return LoadOrCreateKeyFile(path) // another process created it first
		}
		if err != nil {
			return nil, fmt.Errorf("storage: create key file: %w", err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("storage: read key file: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("storage: key file %s has mode %v: others may read it; chmod 600 it", path, fi.Mode().Perm())
	}
	key, err := ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("storage: key file %s: %w", path, err)
	}
	return key, nil
}
