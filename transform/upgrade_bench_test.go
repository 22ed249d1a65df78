package transform_test

import (
	"testing"
)

// BenchmarkUpgrade walks a small request at the base version of
// ../testdata/stripe.yaml forward to the newest: on an endpoint no change
// names, on one several changes name (JSON and form), and a query string.
func BenchmarkUpgrade(b *testing.B) {
	e := stripeEngine(b)
	base := e.Timeline().Versions().Base()
	for _, bc := range []struct {
		name, method, path, body string
		form                     bool
	}{
		{"json/unnamed", "POST", "/v1/invoices/in_1", `{"description":"Order 6735","metadata":{"order":"6735","n":"1"}}`, false},
		{"json/named", "POST", "/v1/customers/cus_1", `{"account_balance":500,"email":"a@example.com","cards":["card_1"]}`, false},
		{"form/named", "POST", "/v1/customers/cus_1", `account_balance=500&email=a%40example.com&cards[]=card_1`, true},
		{"query/unnamed", "GET", "/v1/charges", `limit=10&starting_after=ch_1`, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			body := []byte(bc.body)
			run := func() error {
				if bc.form {
					_, err := e.UpgradeForm(bc.body, base, bc.method, bc.path)
					return err
				}
				_, err := e.Upgrade(body, base, bc.method, bc.path)
				return err
			}
			if err := run(); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkResponsePlan is the cost of finding a response's plan on a
// timeline whose changes are scoped by endpoint (../testdata/users.yaml),
// once cached: matching the path against the timeline's templates.
func BenchmarkResponsePlan(b *testing.B) {
	e := usersEngine(b)
	newest, base := e.Timeline().Newest(), e.Timeline().Versions().Base()
	for _, path := range []string{"/v1/users/u_1", "/v1/teams/t_1"} {
		b.Run(path, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.ResponsePlan(newest, base, "GET", path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
