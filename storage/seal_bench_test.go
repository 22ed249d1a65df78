package storage_test

import (
	"bytes"
	"testing"

	"github.com/verso-api/verso/storage"
)

// BenchmarkSeal seals and opens a 2 KiB saved response, as the idempotency
// middleware does for each saved and each replayed response.
func BenchmarkSeal(b *testing.B) {
	s, err := storage.NewSealer(bytes.Repeat([]byte{9}, storage.KeySize))
	if err != nil {
		b.Fatal(err)
	}
	body := bytes.Repeat([]byte(`{"id":"ch_123","object":"charge"}`), 62)
	ad := []byte("acct_1\x00key-1")
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for i := 0; i < b.N; i++ {
		sealed := s.Seal(body, ad)
		if _, err := s.Open(sealed, ad); err != nil {
			b.Fatal(err)
		}
	}
}
