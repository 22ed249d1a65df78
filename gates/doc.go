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
//	added    the new version has `field`; the old one did not. With a
//	         `default`, the forward walk gives it that value when an old
//	         client does not send it
//	removed  the new version dropped `field`; walking back puts it back from a
//	         `default` literal, `from` another path (which may pick an
//	         array's element by index, "assignees.0", and falls back to
//	         `default` when it finds nothing), a `custom` function, or a
//	         `resolve`r: a Go function (RegisterResolver) that fetches the
//	         value for every object of a response at once, such as the
//	         refunds of every charge of a list in one query (`default`
//	         backs it up too). Walking a request forward drops it, unless
//	         `from` names a field by keys alone: the value moves there
//	         (an old client's `card` is the newer `source`)
//	retype   the field changed JSON type (integer <-> string, number <-> decimal string)
//	enum     enum values were renamed (`was: {new: old}`)
//	nest     the new version holds `fields` (every member when omitted)
//	         inside the object `field`; the old one had them beside it.
//	         Walking back lifts them out and drops the wrapper when it ends
//	         empty; walking forward moves them in
//	collapse the new version embeds an object at `field` where the old one
//	         had its id (member `key`, "id" by default). Walking back, the
//	         object becomes its id; forward, the id becomes {"id": ...}, or
//	         moves to `id_field`, a member next to `field`
//	custom   a Go function registered by name, one per direction
//	behavior no body change; handler code asks Active(ctx, id)
//
// Paths step into objects with dots and into every element of an array
// with "[]" ("items[].price"). Only `from` may pick one element by its
// index ("assignees.0.login" or "assignees[0].login"): a path the walk
// could not follow is refused when the timeline is loaded.
//
// Walking a request forward, a field sent under both its old and its new
// name (across a rename, a nest or a collapse's id_field) is refused
// rather than one value dropped (transform.ConflictError).
//
// Ops that change no body say what exists at each version and how its
// responses look:
//
//	endpoint_added    the new version has the endpoint; older versions answer 404
//	endpoint_removed  the new version dropped it: served to older versions, 404 from it on.
//	         The mapping form may carry the endpoint's OpenAPI `operation`, so
//	         that older versions' documents list it when the newest lacks it
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
//	                        "error" member (or the member an errors template
//	                        wraps its fields in) when it is an object, else the body
//	                        (in a change of its own, with no other scope). A
//	                        nest op there applies to the whole body, so that
//	                        nest: {field: error} says older versions answered
//	                        errors flat
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
// The timeline's errors key declares how the API writes its errors, for
// the versioning middleware's own as for handlers' (Timeline.ErrorShape,
// Spec.ErrorShape in Go): stripe ({"error":{...}}, also when the key is
// absent), problem (RFC 9457; {shape: problem, type_base: URI} makes each
// type the URI followed by the code), flat, or a template, a JSON object
// whose strings "{type}", "{code}", "{message}", "{param}", "{title}" and
// "{status}" stand for the error's fields:
//
//	errors:
//	  template: {error: {code: "{code}", message: "{message}"}}
//	  content_type: application/json
//
// A version can be deprecated from a date and given a sunset date; the
// timeline's after_sunset policy says whether it is still served after that.
// Timeline.Route and Timeline.Lifecycle give the middleware what applies to
// a request at a version, compiled once: Route does not allocate unless the
// endpoint moved.
//
// Each change has an index, its position in the timeline counting from the
// newest version's first change (ChangeIndex, ChangeAt). A Fired is a set
// of changes by index: the walks of package transform and RouteFired
// report in one which changes altered something, and Fired.IDs names them.
//
// A timeline is loaded from YAML with Load (see the README for the format)
// or declared in Go with NewTimeline. Either way the whole timeline is
// validated, and a wrong one is refused with an ErrorList whose entries
// print as "file:line:col: change: message".
package gates
