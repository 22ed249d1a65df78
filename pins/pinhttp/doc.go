// Package pinhttp serves an account's version pin over HTTP: what the
// account is pinned to and its history, an upgrade to a newer version, and
// a rollback to the previous one within the rollback window. The demo API
// (verso serve) and the versioning proxy (verso proxy) both mount it.
//
// The handler answers three requests under Config.Path
// ("/v1/account/api_version" by default):
//
//	GET  /v1/account/api_version           the pin, pinning the account to the newest stable version first if it has none
//	POST /v1/account/api_version           version=2019-10-17: upgrade to a newer version
//	POST /v1/account/api_version/rollback  back to the previous version, within 72 hours of the upgrade
//
// Each answers with the pin:
//
//	{"object":"api_version_pin","version":"2019-10-17","previous_version":"2015-02-18",
//	 "pinned_at":1700000000,"moved_at":1700000500,"rollback_until":1700259700,
//	 "supported_versions":["2024-09-30.acacia",...],
//	 "history":[{"kind":"pin","from":null,"to":"2015-02-18","at":1700000000},...]}
//
// The version parameter comes from a JSON or form body, or the query
// string; any other parameter but expand is refused (parameter_unknown),
// as are a missing version (parameter_missing) and one the timeline does
// not have (parameter_invalid). A new account is pinned to the newest
// version that is not a preview (versions.Timeline.NewestStable). Errors
// are *apierror.Error values written in the API's shape (apierror.Write by
// default); a store that fails is 503 with Retry-After (ErrStore).
// The account comes from Config.Account, which reads what authentication
// established; a request with no account gets 401.
package pinhttp
