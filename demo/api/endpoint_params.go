package api

// endpointParams declares, for each endpoint of the demo API (the method
// and echo's route path), the top-level parameters it accepts in the
// newest schema, from the body or the query string. expand is accepted
// everywhere, its paths checked by one rule on every endpoint
// (expandPaths). A request naming any other parameter is refused with 400
// parameter_unknown naming it, before any store is read. To teach an
// endpoint a parameter, add it here and read it in the handler;
// TestEndpointParamsDeclared fails for a route missing from this table.
//
// The table is read, never written, after the package is initialised.
var endpointParams = map[string][]string{
	"GET /v1/customers":        listParams("ending_before", "email"),
	"GET /v1/customers/:id":    nil,
	"POST /v1/customers":       customerParams,
	"POST /v1/customers/:id":   customerParams,
	"DELETE /v1/customers/:id": nil,

	// A customer's sources; before 2015-02-18 its cards (sources.go).
	"GET /v1/customers/:id/sources":  nil,
	"POST /v1/customers/:id/sources": {"source"},
	"GET /v1/customers/:id/cards":    nil,
	"POST /v1/customers/:id/cards":   {"source"},

	"GET /v1/charges":      listParams("ending_before", "customer"),
	"GET /v1/charges/:id":  nil,
	"POST /v1/charges":     {"amount", "currency", "customer", "source", "description", "metadata"},
	"POST /v1/charges/:id": {"description", "metadata"},

	"GET /v1/payment_intents":              listParams("ending_before", "customer"),
	"GET /v1/payment_intents/:id":          nil,
	"POST /v1/payment_intents":             {"amount", "currency", "customer", "payment_method_types", "payment_method", "confirm", "description", "metadata"},
	"POST /v1/payment_intents/:id":         {"amount", "description", "metadata"},
	"POST /v1/payment_intents/:id/confirm": {"payment_method"},

	"GET /v1/refunds":      listParams("ending_before", "charge", "payment_intent"),
	"GET /v1/refunds/:id":  nil,
	"POST /v1/refunds":     {"charge", "payment_intent", "amount", "reason", "metadata"},
	"POST /v1/refunds/:id": {"metadata"},

	"GET /v1/events":     listParams("type"),
	"GET /v1/events/:id": nil,

	"GET /v1/account/api_version":                nil,
	"POST /v1/account/api_version":               {"version"},
	"POST /v1/account/api_version/rollback":      nil,
	"GET /v1/account/api_version/upgrade_report": {"to", "format"},
}

var customerParams = []string{"email", "name", "description", "phone", "default_source", "currency", "balance", "metadata"}

// listParams returns the parameters of a list endpoint: its filters and
// the pagination parameters every list takes.
func listParams(filters ...string) []string {
	return append([]string{"limit", "starting_after"}, filters...)
}
