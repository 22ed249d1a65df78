// Package sdk holds a typed Go client for each version of verso's demo
// API, generated with oapi-codegen from that version's OpenAPI document,
// which verso derives from the demo's document of its newest version and
// its timeline. An integration pinned at 2019-10-17 imports
// github.com/verso-api/verso/sdk/v2019_10_17 and gets that version's field
// names and types; Clients names the package of each version (versions
// whose document did not change share a newer version's client).
//
// Regenerate with: cd sdk && go run ./internal/gen
package sdk
