package transform_test

import (
	"fmt"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

const timelineYAML = `
versions:
  - version: 2024-09-30.acacia
    changes:
      - id: amount_as_string
        description: Amounts are strings of minor units.
        resources: [charge]
        ops:
          - retype: {field: amount, was: integer, now: string}
  - version: 2019-10-17
    changes:
      - id: customer_balance
        description: "account_balance on Customer is renamed to balance."
        resources: [customer]
        endpoints: ["POST /v1/customers"]
        ops:
          - rename: {field: balance, was: account_balance}
  - version: 2015-02-18
`

func ExampleEngine_Back() {
	tl, err := gates.Load("timeline.yaml", []byte(timelineYAML), nil)
	if err != nil {
		panic(err)
	}
	engine := transform.New(tl, nil)
	newest := []byte(`{"object":"charge","amount":"2000","customer":{"object":"customer","balance":-500}}`)
	old, err := engine.Back(newest, versions.MustParse("2015-02-18"))
	if err != nil {
		panic(err)
	}
	fmt.Println(string(old))
	// Output:
	// {"object":"charge","amount":2000,"customer":{"object":"customer","account_balance":-500}}
}

func ExampleEngine_Upgrade() {
	tl, err := gates.Load("timeline.yaml", []byte(timelineYAML), nil)
	if err != nil {
		panic(err)
	}
	engine := transform.New(tl, nil)
	old := versions.MustParse("2015-02-18")
	body, _ := engine.Upgrade([]byte(`{"account_balance":500,"email":"a@example.com"}`), old, "POST", "/v1/customers")
	fmt.Println(string(body))
	form, _ := engine.UpgradeForm("account_balance=500&metadata[order]=6735", old, "POST", "/v1/customers")
	fmt.Println(form)
	// Output:
	// {"balance":500,"email":"a@example.com"}
	// balance=500&metadata[order]=6735
}

// Example is the README's example.
func Example() {
	tl, _ := gates.Load("gates.yaml", []byte(`
versions:
  - version: 2019-10-17
    changes:
      - id: customer_balance
        description: "account_balance on Customer is renamed to balance."
        resources: [customer]
        ops: [{rename: {field: balance, was: account_balance}}]
  - version: 2015-02-18
`), nil)
	engine := transform.New(tl, nil)
	old, _ := engine.Back([]byte(`{"object":"customer","balance":-500}`), versions.MustParse("2015-02-18"))
	fmt.Println(string(old))
	// Output:
	// {"object":"customer","account_balance":-500}
}

func ExamplePlan_AppendApplyFired() {
	tl, err := gates.Load("timeline.yaml", []byte(timelineYAML), nil)
	if err != nil {
		panic(err)
	}
	engine := transform.New(tl, nil)
	p, err := engine.Plan(tl.Newest(), versions.MustParse("2015-02-18"))
	if err != nil {
		panic(err)
	}
	var fired gates.Fired // reused across walks, it allocates nothing
	for _, body := range []string{
		`{"object":"customer","id":"cus_1"}`,
		`{"object":"charge","amount":"2000","customer":{"object":"customer","balance":-500}}`,
	} {
		fired.Reset()
		out, err := p.AppendApplyFired(nil, []byte(body), &fired)
		if err != nil {
			panic(err)
		}
		fmt.Println(string(out), fired.IDs(tl))
	}
	// Output:
	// {"object":"customer","id":"cus_1"} []
	// {"object":"charge","amount":2000,"customer":{"object":"customer","account_balance":-500}} [amount_as_string customer_balance]
}

func ExampleEngine_Upgrade_nest() {
	tl, err := gates.Load("timeline.yaml", []byte(`
versions:
  - version: 2024-01-01
    changes:
      - id: address_nested
        description: "`+"`city`"+` and `+"`zip`"+` of customers are inside `+"`address`"+`."
        resources: [customer]
        endpoints: ["POST /v1/customers"]
        ops:
          - nest: {field: address, fields: [city, zip]}
  - version: 2023-01-01
`), nil)
	if err != nil {
		panic(err)
	}
	engine := transform.New(tl, nil)
	old := versions.MustParse("2023-01-01")
	body, _ := engine.Upgrade([]byte(`{"name":"Ann","city":"Lyon","zip":"69001"}`), old, "POST", "/v1/customers")
	fmt.Println(string(body))
	_, err = engine.Upgrade([]byte(`{"city":"Lyon","address":{"city":"Paris"}}`), old, "POST", "/v1/customers")
	fmt.Println(err)
	back, _ := engine.Back([]byte(`{"object":"customer","address":{"city":"Lyon","zip":"69001"}}`), old)
	fmt.Println(string(back))
	// Output:
	// {"name":"Ann","address":{"city":"Lyon","zip":"69001"}}
	// city and address[city] are the old and the new name of one field: send one of them
	// {"object":"customer","city":"Lyon","zip":"69001"}
}
