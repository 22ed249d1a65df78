package webhooks

import (
	"crypto/rand"
	"encoding/base64"
)

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newID returns prefix followed by 24 random base62 characters.
func newID(prefix string) string {
	var raw [24]byte
	rand.Read(raw[:])
	b := make([]byte, len(prefix), len(prefix)+len(raw))
	copy(b, prefix)
	for _, c := range raw {
		b = append(b, alphabet[int(c)%len(alphabet)])
	}
	return string(b)
}

// NewSecret returns a fresh signing secret: "whsec_" followed by the
// standard base64 of 24 random bytes. It serves both signature schemes.
func NewSecret() string {
	var raw [24]byte
	rand.Read(raw[:])
	return SecretPrefix + base64.StdEncoding.EncodeToString(raw[:])
}
