package gates_test

import (
	"fmt"

	"github.com/verso-api/verso/gates"
)

func ExampleLoad() {
	_, err := gates.Load("gates.yaml", []byte(`
versions:
  - version: 2019-10-17
    changes:
      - id: customer_balance
        description: "account_balance is renamed to balance."
        resources: [customer]
        ops:
          - rename: {field: balance}
  - version: 2015-02-18
`), nil)
	fmt.Println(err)
	// Output:
	// gates.yaml:9:13: customer_balance: rename: missing key "was"
}

func ExampleNewTimeline() {
	tl, err := gates.NewTimeline(gates.Spec{
		API: "Acme Payments",
		Versions: []gates.Version{
			{ID: mustVersion("2019-10-17"), Changes: []gates.Change{{
				ID:          "customer_balance",
				Description: "`account_balance` on Customer is renamed to `balance`.",
				Resources:   []string{"customer"},
				Ops:         []gates.Op{gates.Rename("balance", "account_balance")},
			}}},
			{ID: mustVersion("2015-02-18")},
		},
	}, nil)
	if err != nil {
		panic(err)
	}
	c, _ := tl.Change("customer_balance")
	fmt.Println(tl.Newest(), c.Ops[0].Describe("customer"))
	// Output:
	// 2019-10-17 `customer.account_balance` is now `customer.balance`.
}
