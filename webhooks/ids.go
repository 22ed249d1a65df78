package webhooks

import "crypto/rand"

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

// clip shortens s for a message that repeats it.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
