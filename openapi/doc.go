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
//   - removed: the property is put back with the schema the op carries
//     (`removed: {field: card, default: null, schema: {...}}`), or a copy
//     of the schema of the property it was derived from, or typed from the
//     default literal; in a resource schema it is required when verso
//     always puts it back (a default, or a copy of a required field);
//   - retype: the type changes (integer, number, string; decimal is a string
//     with format decimal), with format, keywords, example and default
//     adjusted to fit;
//   - enum: the enum values are renamed back;
//   - nest: the members of the wrapper's schema move out into the schema
//     holding it (required where they were, in a wrapper that was), and
//     the wrapper goes when it ends empty;
//   - collapse: the embedded object's schema becomes the schema of its id
//     (in a request body whose newer version takes the id in another
//     field, that field is renamed back);
//   - removed with `from` through an array (assignees.0): the put-back
//     field gets the schema of the array's items, nullable when the
//     default is null.
//
// Error bodies follow the version too: the ops of changes to resource
// "error" apply to the schemas of every non-2xx response (and to
// components.schemas.error), a nest to the whole body and any other op
// to its error object (the body's "error" property when it is an object,
// else the body), as the engine walks error responses.
//
// The same ops apply to the request body schemas of the operations a
// change's endpoints name ("POST /v1/customers/:id" matches the path
// /v1/customers/{customer}), and to their encoding map (a renamed form
// field keeps its `style: deepObject`); a request schema given by $ref is
// copied into the operation before it is edited, so the shared component
// is left as it was. A rename onto a property the document already has is
// an error (ErrConflict), unless Options.KeepExisting keeps that property.
//
// Deriving also checks the document against the timeline: every op must
// find the fields it names, with the type and enum values it says they
// have now, and info.version must be the newest version. Each
// disagreement is reported with the change, its version and its line in
// the timeline file (Result.Disagreements, Check).
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
// The input may be JSON or YAML; the output is indented JSON in the
// document's key order (new keys after existing ones), numbers kept exactly
// as written. Custom ops and put-back fields whose schema is only partly
// known are reported by DeriveResult as warnings.
package openapi
