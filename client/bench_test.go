package client_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/verso-api/verso/client"
)

// BenchmarkPost measures one form POST round trip to a server on
// 127.0.0.1 that answers a small charge, decoded into a struct.
func BenchmarkPost(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, `{"id":"ch_1","object":"charge","amount":2000,"currency":"usd"}`)
	}))
	defer srv.Close()
	c, err := client.New(client.Config{BaseURL: srv.URL, APIKey: "sk_test_bench", Version: "2019-10-17"})
	if err != nil {
		b.Fatal(err)
	}
	params := map[string]any{"amount": 2000, "currency": "usd", "metadata": map[string]string{"order": "6735"}}
	var ch struct {
		ID     string `json:"id"`
		Amount int    `json:"amount"`
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Post(context.Background(), "/v1/charges", params, &ch); err != nil {
			b.Fatal(err)
		}
	}
}
