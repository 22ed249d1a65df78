module github.com/verso-api/verso/sdktest

go 1.26.0

replace github.com/verso-api/verso => ../

require (
	github.com/stretchr/testify v1.12.1
	github.com/stripe/stripe-go/v72 v72.122.0
	github.com/stripe/stripe-go/v74 v74.30.0
	github.com/stripe/stripe-go/v75 v75.11.0
	github.com/stripe/stripe-go/v76 v76.25.0
	github.com/stripe/stripe-go/v78 v78.12.0
	github.com/stripe/stripe-go/v79 v79.12.0
	github.com/stripe/stripe-go/v80 v80.2.1
	github.com/stripe/stripe-go/v81 v81.4.0
	github.com/stripe/stripe-go/v82 v82.5.1
	github.com/stripe/stripe-go/v83 v83.2.1
	github.com/stripe/stripe-go/v84 v84.4.1
	github.com/stripe/stripe-go/v85 v85.0.0
)

require (
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/net v0.61.0 // indirect
)
