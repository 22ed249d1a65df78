package storage_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/storage"
)

func TestSealer(t *testing.T) {
	key := bytes.Repeat([]byte{7}, storage.KeySize)
	s, err := storage.NewSealer(key)
	require.NoError(t, err)
	secret := []byte("whsec_abcdef0123456789")
	a := s.Seal(secret, []byte("we_1"))
	b := s.Seal(secret, []byte("we_1"))
	assert.True(t, storage.IsSealed(a))
	assert.NotContains(t, string(a), "whsec_", "the sealed value shows the secret")
	assert.NotEqual(t, a, b, "two seals of one value are the same: the nonce is not random")
	got, err := s.Open(a, []byte("we_1"))
	require.NoError(t, err)
	assert.Equal(t, secret, got)

	tests := []struct {
		name       string
		sealer     *storage.Sealer
		value, add []byte
	}{
		{"another row", s, a, []byte("we_2")},
		{"tampered", s, append(append([]byte(nil), a[:len(a)-2]...), 'A', 'A'), []byte("we_1")},
		{"truncated", s, a[:12], []byte("we_1")},
		{"no key", nil, a, []byte("we_1")},
		{"another key", mustSealer(t, bytes.Repeat([]byte{8}, storage.KeySize)), a, []byte("we_1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.sealer.Open(tt.value, tt.add)
			assert.ErrorIs(t, err, storage.ErrSealed)
		})
	}
	// Plain text written before sealing was turned on still reads.
	plain, err := s.Open([]byte("whsec_old"), nil)
	require.NoError(t, err)
	assert.Equal(t, "whsec_old", string(plain))
	var none *storage.Sealer
	assert.Equal(t, secret, none.Seal(secret, nil))

	_, err = storage.NewSealer([]byte("short"))
	assert.Error(t, err)
}

func mustSealer(t *testing.T, key []byte) *storage.Sealer {
	s, err := storage.NewSealer(key)
	require.NoError(t, err)
	return s
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "verso.db.key")
	k1, err := storage.LoadOrCreateKeyFile(path)
	require.NoError(t, err)
	require.Len(t, k1, storage.KeySize)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	k2, err := storage.LoadOrCreateKeyFile(path)
	require.NoError(t, err)
	assert.Equal(t, k1, k2, "the key changed on the second start")

	require.NoError(t, os.Chmod(path, 0o644))
	_, err = storage.LoadOrCreateKeyFile(path)
	assert.ErrorContains(t, err, "chmod 600")

	bad := filepath.Join(t.TempDir(), "bad.key")
	require.NoError(t, os.WriteFile(bad, []byte("not a key"), 0o600))
	_, err = storage.LoadOrCreateKeyFile(bad)
	assert.Error(t, err)

	for _, s := range []string{"0707070707070707070707070707070707070707070707070707070707070707", "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc="} {
		k, err := storage.ParseKey(s + "\n")
		require.NoError(t, err, s)
		assert.Equal(t, bytes.Repeat([]byte{7}, storage.KeySize), k)
	}
}
