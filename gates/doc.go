// Package gates declares what each API version changed: its changes
// (compatibility gates) and their operations.
//
// A change is declared once, from the point of view of what the older
// version had, and verso derives everything else from it: the response
// downgrade, the request upgrade, the changelog and upgrade-guide text, and
// each version's OpenAPI schema.
//
// The operations are:
//
//	rename   the new version calls the field `field`; the old one called it `was`
//	added    the new version has `field`; the old one did not
//	removed  the new version dropped `field`; walking back puts it back from a
//	         `default` literal, `from` another path, or a `custom` function
//	retype   the field changed JSON type (integer <-> string, number <-> decimal string)
//	enum     enum values were renamed (`was: {new: old}`)
//	custom   a Go function registered by name, one per direction
//	behavior no body change; handler code asks Active(ctx, id)
//
// Ops that change no body say what exists at each version and how its
// responses look:
//
//	endpoint_added    the new version has the endpoint; older versions answer 404
//	endpoint_removed  the new version dropped it: served to older versions, 404 from it on
//	endpoint_moved    the new version serves at `endpoint` what older versions had at `was`
//	status            the new version answers `code` where older ones answered `was`
//	header_rename     the new version sends response header `name`; older ones called it `was`
//	header_added      the new version sends response header `name`; older ones did not
//
// What a change's body ops apply to is its scope:
//
//	resources: [customer]   objects whose type field names the type, at any depth
//	                        of responses and events (type_field: at the top of the
//	                        timeline names the field; "object" by default)
//	resources: [error]      the error object of non-2xx responses: the top-level
//	                        "error" member when it is an object, else the body
//	                        (in a change of its own, with no other scope)
//	endpoints: [...]        request bodies and query strings on those endpoints,
//	                        walked forward; with no resources, also the responses
//	                        of those endpoints: their top-level object, or each
//	                        object of their items when the body is a list (a
//	                        top-level array, or an object whose list_field,
//	                        "data" by default, is an array)
//
// An endpoint is "METHOD /path", where a segment written :id or {id} matches
// any one segment ("GET /v1/users/{id}") and the method * any method.
//
// A version can be deprecated from a date and given a sunset date; the
// timeline's after_sunset policy says whether it is still served after that.
// Timeline.Route and Timeline.Lifecycle give the middleware what applies to
// a request at a version, compiled once: Route does not allocate unless the
// endpoint moved.
//
// A timeline is loaded from YAML with Load (see the README for the format)
// or declared in Go with NewTimeline. Either way the whole timeline is
// validated, and a wrong one is refused with an ErrorList whose entries
// print as "file:line:col: change: message".
package gates
