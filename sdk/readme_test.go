package sdk_test

import (
	"context"
	"fmt"

	"github.com/verso-api/verso/sdk/v2014_12_22"
)

// readmeSample holds README.md's sample of a typed client, verbatim, so
// that the compiler checks it (internal/readme checks README.md holds it).
func readmeSample(ctx context.Context, auth v2014_12_22.RequestEditorFn, email string) {
	c, _ := v2014_12_22.NewClientWithResponses("http://127.0.0.1:4242", v2014_12_22.WithRequestEditorFn(auth))
	cus, _ := c.CreateCustomerWithFormdataBodyWithResponse(ctx, nil, v2014_12_22.CreateCustomerFormdataRequestBody{Email: &email})
	fmt.Println(cus.JSON200.AccountBalance) // `balance` from 2019-10-17 on
}

var _ = readmeSample
