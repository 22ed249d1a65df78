package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/verso-api/verso/client"
)

func Example() {
	// A stand-in for the demo API: it creates a customer from the form.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusNotFound)
			json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{
				"type": "invalid_request_error", "code": "resource_missing", "message": "No such customer: 'cus_404'"}})
			return
		}
		r.ParseForm()
		json.NewEncoder(w).Encode(map[string]any{
			"id": "cus_1", "object": "customer",
			"email":    r.PostForm.Get("email"),
			"metadata": map[string]string{"order": r.PostForm.Get("metadata[order]")},
			"version":  r.Header.Get("Stripe-Version"),
		})
	}))
	defer srv.Close()

	c, err := client.New(client.Config{BaseURL: srv.URL, APIKey: "sk_test_123", Version: "2019-10-17"})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	var cus struct {
		ID       string            `json:"id"`
		Email    string            `json:"email"`
		Metadata map[string]string `json:"metadata"`
		Version  string            `json:"version"`
	}
	err = c.Post(ctx, "/v1/customers", map[string]any{
		"email":    "ada@example.com",
		"metadata": map[string]any{"order": 6735},
	}, &cus)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cus.ID, cus.Email, cus.Metadata["order"], cus.Version)

	err = c.Get(ctx, "/v1/customers/cus_404", nil, &cus)
	var e *client.Error
	if errors.As(err, &e) {
		fmt.Println(e.StatusCode, e.Code)
	}
	// Output:
	// cus_1 ada@example.com 6735 2019-10-17
	// 404 resource_missing
}

func ExampleEncodeForm() {
	form, err := client.EncodeForm(map[string]any{
		"amount":   2000,
		"metadata": map[string]string{"order": "6735"},
		"expand":   []string{"customer"},
		"items":    []map[string]any{{"price": "price_1", "quantity": 2}},
	})
	if err != nil {
		log.Fatal(err)
	}
	s, _ := url.QueryUnescape(form.Encode())
	fmt.Println(s)
	// Output:
	// amount=2000&expand[]=customer&items[0][price]=price_1&items[0][quantity]=2&metadata[order]=6735
}
