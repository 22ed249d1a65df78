package reports_test

import (
	"context"
	"fmt"
	"log"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/reports"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/versions"
)

// An account pinned to 2023-01-01 read a customer, whose balance the
// walk back renamed: its report says customer_balance affects it, and the
// charge change does not.
func ExampleReporter_Report() {
	v := versions.MustParse
	tl, err := gates.NewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: v("2024-02-01"), Changes: []gates.Change{{ID: "charge_status", Description: "A paid charge's status is `succeeded`.",
			Resources: []string{"charge"}, Ops: []gates.Op{gates.Enum("status", map[string]string{"succeeded": "paid"})}}}},
		{ID: v("2024-01-01"), Changes: []gates.Change{{ID: "customer_balance", Description: "`account_balance` is `balance`.",
			Resources: []string{"customer"}, Ops: []gates.Op{gates.Rename("balance", "account_balance")}}}},
		{ID: v("2023-01-01")},
	}}, nil)
	if err != nil {
		log.Fatal(err)
	}
	store := reports.NewMemoryStore(nil)
	recorder, _ := reports.NewRecorder(tl, store, nil)

	// What the versioning middleware hands the recorder (server.Config.Fired).
	x := &server.Exchange{Account: "acct_1", Version: v("2023-01-01"), Method: "GET", Path: "/v1/customers/cus_1", Status: 200}
	x.Response.Add(tl.ChangeIndex("customer_balance"))
	recorder.Record(x)
	if err := recorder.Flush(context.Background()); err != nil {
		log.Fatal(err)
	}

	reporter, _ := reports.NewReporter(tl, store, nil)
	r, err := reporter.Report(context.Background(), "acct_1", v("2023-01-01"), versions.Version{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Summary)
	for _, it := range r.Items {
		fmt.Println(it.ID, it.AffectsYou, it.Todo)
	}
	// Output:
	// 1 of 2 breaking changes touches your integration.
	// customer_balance true [Read `customer.balance` instead of `customer.account_balance`.]
	// charge_status false [Expect `succeeded` where you handled `paid` in `charge.status`.]
}
