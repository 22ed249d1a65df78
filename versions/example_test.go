package versions_test

import (
	"fmt"

	"github.com/verso-api/verso/versions"
)

func ExampleParse() {
	v, err := versions.Parse("2024-09-30.acacia")
	if err != nil {
		panic(err)
	}
	y, m, d := v.Date()
	fmt.Println(v, y, m, d, v.Name())
	fmt.Println(v.After(versions.MustParse("2019-10-17")))
	_, err = versions.Parse("2019-02-29")
	fmt.Println(err)
	// Output:
	// 2024-09-30.acacia 2024 9 30 acacia
	// true
	// malformed version "2019-02-29": day out of range
}
