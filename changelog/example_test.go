package changelog_test

import (
	"fmt"
	"os"

	"github.com/verso-api/verso/changelog"
	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/versions"
)

func ExampleNewLog() {
	tl, err := gates.NewTimeline(gates.Spec{
		API: "Acme Payments",
		Versions: []gates.Version{
			{ID: versions.MustParse("2019-10-17"), Changes: []gates.Change{{
				ID:          "customer_balance",
				Description: "`account_balance` on Customer is renamed to `balance`.",
				Resources:   []string{"customer"},
				Ops:         []gates.Op{gates.Rename("balance", "account_balance")},
			}}},
			{ID: versions.MustParse("2015-02-18")},
		},
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	log, err := changelog.NewLog(tl, changelog.Options{From: versions.MustParse("2015-02-18")})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := log.Markdown(os.Stdout); err != nil {
		fmt.Println(err)
	}
	// Output:
	// # Acme Payments: Changelog
	//
	// Versions 2015-02-18 to 2019-10-17, newest first. Each entry says what the version changed relative to the one before it.
	//
	// ## 2019-10-17 **Breaking**
	//
	// ### `customer_balance` **Breaking**
	//
	// `account_balance` on Customer is renamed to `balance`.
	//
	// Resources: `customer`.
	//
	// - `customer.account_balance` is now `customer.balance`.
}
