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
// A timeline is loaded from YAML with Load (see the README for the format)
// or declared in Go with NewTimeline. Either way the whole timeline is
// validated, and a wrong one is refused with an ErrorList whose entries
// print as "file:line:col: change: message".
package gates
