package shadow_test

import (
	"fmt"
	"os"

	"github.com/verso-api/verso/shadow"
)

func ExampleDiff() {
	before := []byte(`{"object":"list","data":[{"object":"customer","account_balance":-500,"email":"jenny@example.com"}]}`)
	after := []byte(`{"object":"list","data":[{"object":"customer","balance":-500,"email":"ana.sousa@example.com"}]}`)
	diffs := shadow.Diff(before, after)
	if err := shadow.WriteText(os.Stdout, diffs); err != nil {
		fmt.Println(err)
	}
	// Output:
	// - data[0].account_balance: -500
	// ~ data[0].email: "jenny@example.com" -> "ana.sousa@example.com"
	// + data[0].balance: -500
}
