package openapi

// PathMatches is pathMatches, for tests.
var PathMatches = pathMatches
