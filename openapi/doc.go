// Package openapi derives the OpenAPI 3 document of any version of an API
// from the newest version's document and the version timeline, so SDKs and
// reference docs can be generated for the version a client is pinned to
// with existing OpenAPI tools.
//
// Each op of the versions newer than the target is applied, newest first,
// to the schema of its resources, as the transform engine walks a response
// back:
//
//   - rename: the property is renamed in properties and required, and moved
//     between nesting levels when the old path is elsewhere;
//   - added: the property is removed (and dropped from required);
//   - removed: the property is put back, typed from the default literal or
//     copied from the schema of the property it was derived from;
//   - retype: the type changes (integer, number, string; decimal is a string
//     with format decimal), with format, keywords, example and default
//     adjusted to fit;
//   - enum: the enum values are renamed back.
//
// The same ops apply to the request body schemas of the operations a
// change's endpoints name ("POST /v1/customers/:id" matches the path
// /v1/customers/{customer}); a request schema given by $ref is copied into
// the operation before it is edited, so the shared component is left as it
// was.
//
// A resource's schema is the one in components.schemas whose x-resourceId
// extension names it, or else the one named like it. Paths inside an
// object (billing_details.address.city, items[].price) walk properties and
// items, following $ref within the document and into allOf, anyOf and
// oneOf members. An op that reaches through a $ref edits the referenced
// component, which other schemas may share.
//
//	spec, _ := os.ReadFile("openapi.json")
//	old, err := openapi.Derive(spec, tl, versions.MustParse("2019-10-17"))
//
// The input may be JSON or YAML; the output is indented JSON with sorted
// keys and numbers kept exactly as written. Custom ops and fields the
// document does not describe are reported by DeriveResult as warnings.
package openapi
