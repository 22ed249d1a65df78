package gates

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Kind is the kind of an operation.
type Kind uint8

// The operation kinds.
const (
	KindRename Kind = iota + 1
	KindAdded
	KindRemoved
	KindRetype
	KindEnum
	KindCustom
	KindBehavior
	KindEndpointAdded
	KindEndpointRemoved
	KindEndpointMoved
	KindStatus
	KindHeaderRename
	KindHeaderAdded
	KindNest
	KindCollapse
)

var kindNames = [...]string{
	KindRename:   "rename",
	KindAdded:    "added",
	KindRemoved:  "removed",
	KindRetype:   "retype",
	KindEnum:     "enum",
	KindCustom:   "custom",
	KindBehavior: "behavior",

	KindEndpointAdded:   "endpoint_added",
	KindEndpointRemoved: "endpoint_removed",
	KindEndpointMoved:   "endpoint_moved",
	KindStatus:          "status",
	KindHeaderRename:    "header_rename",
	KindHeaderAdded:     "header_added",

	KindNest:     "nest",
	KindCollapse: "collapse",
}

// Body reports whether ops of the kind change request or response bodies
// (rename, added, removed, retype, enum, custom, nest, collapse).
// Behaviour, endpoint, status and header ops do not.
func (k Kind) Body() bool {
	return k >= KindRename && k <= KindCustom || k == KindNest || k == KindCollapse
}

// Endpoint reports whether ops of the kind add, remove or move an endpoint.
func (k Kind) Endpoint() bool { return k >= KindEndpointAdded && k <= KindEndpointMoved }

// Response reports whether ops of the kind change a response's status code
// or headers.
func (k Kind) Response() bool { return k >= KindStatus && k <= KindHeaderAdded }

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

func kindByName(s string) (Kind, bool) {
	for k, n := range kindNames {
		if n == s && n != "" {
			return Kind(k), true
		}
	}
	return 0, false
}

// Type is a JSON type a retype converts between.
type Type string

// The types retype converts between. Decimal is a JSON string holding a
// decimal number ("12.50"); String holding an integer is also accepted
// between Integer and String.
const (
	Integer Type = "integer"
	Number  Type = "number"
	String  Type = "string"
	Decimal Type = "decimal"
)

// Noun returns the type as people read it in a message: "an integer",
// "a number", "a decimal string" or "a string".
func (t Type) Noun() string {
	switch t {
	case Integer:
		return "an integer"
	case Number:
		return "a number"
	case Decimal:
		return "a decimal string"
	}
	return "a string"
}

// retypable reports whether retype converts between was and now: any two
// different types but a string and a decimal string.
func retypable(was, now Type) bool {
	known := func(t Type) bool { return t == Integer || t == Number || t == String || t == Decimal }
	text := func(t Type) bool { return t == String || t == Decimal }
	return known(was) && known(now) && was != now && !(text(was) && text(now))
}

// EnumValue maps one enum value of the newer version to the value the
// older version used.
type EnumValue struct {
	Now string
	Was string
}

// Pos is a position in a timeline file. The zero Pos means the declaration
// came from Go code.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	switch {
	case p.File != "" && p.Line > 0:
		return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
	case p.Line > 0:
		return fmt.Sprintf("%d:%d", p.Line, p.Col)
	}
	return p.File
}

// Op is one operation of a change. Build one with Rename, Added,
// RemovedDefault, RemovedFrom, RemovedCustom, RemovedResolved, Retype,
// Enum, Nest, Collapse, Custom, Behavior or an endpoint, status or header
// op's constructor.
type Op struct {
	Kind Kind
	// Field is the path the operation is about, in the newer version's terms
	// (for removed: the field the older version had). Dots step into objects
	// and "[]" into arrays of objects: "items[].price".
	Field string
	// Was is the older path of a rename.
	Was string
	// Default is the JSON literal a removed field is put back with (when
	// From, if set, finds nothing), or that the forward walk gives an
	// added field an older client did not send.
	Default json.RawMessage
	// From is the path a removed field is copied from. Unlike other paths
	// it may pick an array's element by its index: "assignees.0".
	From string
	// Schema is the JSON Schema (an OpenAPI schema object) of the field a
	// removed op puts back, as the older version documented it. It is
	// optional; generated OpenAPI documents use it for the put-back field
	// instead of guessing a schema from Default.
	Schema json.RawMessage
	// Operation is the OpenAPI operation object of the endpoint an
	// endpoint_removed op drops, as the older versions documented it. It
	// is optional; generated OpenAPI documents list it at the versions
	// that still serve the endpoint when the newest document no longer
	// has it.
	Operation json.RawMessage
	// Func names the registered function of a custom op or a removed op
	// with `custom`.
	Func string
	// Resolve names the registered Resolver of a removed op with
	// `resolve`: it fetches the value for every object of a response at
	// once; Default, if set, is put back where it knows none.
	Resolve string
	// WasType and NowType are the types of a retype.
	WasType, NowType Type
	// Values are the renamed values of an enum op.
	Values []EnumValue
	// Endpoint is the endpoint of an endpoint op: the one added or removed,
	// or where the newer version serves a moved one.
	Endpoint Endpoint
	// WasEndpoint is where the older version served a moved endpoint.
	WasEndpoint Endpoint
	// Code and WasCode are the status codes of a status op: the newer
	// version answers Code where the older answered WasCode.
	Code, WasCode int
	// Header and WasHeader are the response header names of a header op:
	// the newer version sends Header; the older called it WasHeader
	// (header_rename) or did not send it (header_added).
	Header, WasHeader string
	// Members are the members a nest op moves into the object at Field;
	// empty means every member of the object holding it.
	Members []string
	// Key is the member holding a collapsed object's id; "id" when empty.
	Key string
	// IDField is, for a collapse op, the member next to Field in which the
	// newer version takes the id on requests ("author_id"); when empty, the
	// forward walk makes the id the object {Key: id} instead.
	IDField string
	// Pos is where the op was declared.
	Pos Pos
}

// Rename declares that the newer version calls a field `field` where the
// older one called it `was`.
func Rename(field, was string) Op { return Op{Kind: KindRename, Field: field, Was: was} }

// Added declares a field the newer version has and the older did not.
func Added(field string) Op { return Op{Kind: KindAdded, Field: field} }

// RemovedDefault declares a field the newer version dropped; walking back
// puts it back as the JSON encoding of def.
func RemovedDefault(field string, def any) Op {
	raw, err := json.Marshal(def)
	if err != nil {
		raw = nil // reported by validation as a missing default
	}
	return Op{Kind: KindRemoved, Field: field, Default: raw}
}

// RemovedFrom declares a field the newer version dropped; walking back
// copies it from the path from. Walking a request forward moves the
// field to from when from names a field by keys alone (no index), as a
// rename does.
func RemovedFrom(field, from string) Op { return Op{Kind: KindRemoved, Field: field, From: from} }

// MovesRequests reports whether walking a request forward moves a removed
// op's field to From: when From names a field by keys alone (no array
// index), an older client's value is the one the newer version takes
// there.
func (op Op) MovesRequests() bool {
	if op.Kind != KindRemoved || op.From == "" || CheckFromPath(op.From) != nil {
		return false
	}
	for _, k := range SplitFromPath(op.From) {
		if isIndex(k) {
			return false
		}
	}
	return true
}

// WithSchema returns op with Schema set to the JSON encoding of schema, the
// OpenAPI schema of the field a removed op puts back.
func (op Op) WithSchema(schema any) Op {
	raw, err := json.Marshal(schema)
	if err != nil {
		raw = []byte("null") // reported by validation: not a mapping
	}
	op.Schema = raw
	return op
}

// WithDefault returns op with Default set to the JSON encoding of def:
// on an added op, the value the forward walk gives the field when an
// older client's request (or body) lacks it; on a removed op with From
// or Resolve, the value put back when From finds nothing or the resolver
// knows no value.
func (op Op) WithDefault(def any) Op {
	raw, err := json.Marshal(def)
	if err != nil {
		raw = nil // reported by validation
	}
	op.Default = raw
	if raw == nil {
		op.Default = json.RawMessage{}
	}
	return op
}

// RemovedCustom declares a field the newer version dropped; the registered
// function fn puts it back (and, if it has a forward half, maps it on
// requests).
func RemovedCustom(field, fn string) Op { return Op{Kind: KindRemoved, Field: field, Func: fn} }

// Retype declares that a field changed JSON type from was to now.
func Retype(field string, was, now Type) Op {
	return Op{Kind: KindRetype, Field: field, WasType: was, NowType: now}
}

// Enum declares renamed enum values of a field; wasByNow maps each value of
// the newer version to the older version's value.
func Enum(field string, wasByNow map[string]string) Op {
	vals := make([]EnumValue, 0, len(wasByNow))
	for now, was := range wasByNow {
		vals = append(vals, EnumValue{Now: now, Was: was})
	}
	slices.SortFunc(vals, func(a, b EnumValue) int { return strings.Compare(a.Now, b.Now) })
	return Op{Kind: KindEnum, Field: field, Values: vals}
}

// Custom declares an operation done by the function registered as name.
func Custom(name string) Op { return Op{Kind: KindCustom, Func: name} }

// Behavior declares a change of behaviour with no body change. Handler
// code asks Active(ctx, id).
func Behavior() Op { return Op{Kind: KindBehavior} }

// EndpointAdded declares an endpoint the newer version has and the older
// did not: older versions answer 404 on it, as if it did not exist.
// endpoint is "METHOD /path", with ':name' for a path parameter.
func EndpointAdded(endpoint string) Op {
	return Op{Kind: KindEndpointAdded, Endpoint: parseLoose(endpoint)}
}

// EndpointRemoved declares an endpoint the newer version dropped: its
// handler still serves older versions; the newer version and later answer
// 404 on it.
func EndpointRemoved(endpoint string) Op {
	return Op{Kind: KindEndpointRemoved, Endpoint: parseLoose(endpoint)}
}

// WithOperation returns op with Operation set to the JSON encoding of
// operation, the OpenAPI operation object of the endpoint an
// endpoint_removed op drops.
func (op Op) WithOperation(operation any) Op {
	raw, err := json.Marshal(operation)
	if err != nil {
		raw = []byte("null") // reported by validation: not a mapping
	}
	op.Operation = raw
	return op
}

// EndpointMoved declares that the newer version serves at endpoint what the
// older served at was. Older versions are still served at was: the request
// is sent on to endpoint, path parameters carried by name.
func EndpointMoved(endpoint, was string) Op {
	return Op{Kind: KindEndpointMoved, Endpoint: parseLoose(endpoint), WasEndpoint: parseLoose(was)}
}

// Status declares that the newer version answers code where the older
// answered was (on the change's endpoints, or on every endpoint when the
// change names none).
func Status(code, was int) Op { return Op{Kind: KindStatus, Code: code, WasCode: was} }

// HeaderRename declares that the newer version sends the response header
// name where the older sent was.
func HeaderRename(name, was string) Op {
	return Op{Kind: KindHeaderRename, Header: name, WasHeader: was}
}

// HeaderAdded declares a response header the newer version sends and the
// older did not: it is dropped from responses to older versions.
func HeaderAdded(name string) Op { return Op{Kind: KindHeaderAdded, Header: name} }

// parseLoose parses an endpoint for the Go constructors; what does not
// parse is kept as a path with no method, which validation refuses with the
// parse error.
func parseLoose(s string) Endpoint {
	e, err := ParseEndpoint(s)
	if err != nil {
		return Endpoint{Path: s}
	}
	return e
}

// Breaking reports whether the op can break an integration written for the
// older version: everything but added fields, added endpoints and added
// headers. A behaviour change counts as breaking, as it does in the upgrade
// guide; a change that breaks nothing says `breaking: false`. The
// changelog, the guide and the OpenAPI documents share this one rule.
func (op Op) Breaking() bool {
	switch op.Kind {
	case KindAdded, KindEndpointAdded, KindHeaderAdded:
		return false
	}
	return true
}

// Fields returns the paths the op writes in a body (the field, and the old
// name of a rename, the members a nest moves out, the id field of a
// collapse); none for ops that change no body.
func (op Op) Fields() []string {
	switch {
	case op.Kind == KindRename:
		return []string{op.Field, op.Was}
	case op.Kind == KindNest:
		out := []string{op.Field}
		for _, m := range op.Members {
			out = append(out, sibling(op.Field, m))
		}
		return out
	case op.Kind == KindCollapse && op.IDField != "":
		return []string{op.Field, sibling(op.Field, op.IDField)}
	case op.Kind == KindCustom || !op.Kind.Body():
		return nil
	}
	return []string{op.Field}
}

// Describe returns one precise sentence about the op, for changelogs, with
// field paths prefixed by the resource (which may be empty).
func (op Op) Describe(resource string) string {
	q := func(p string) string {
		if resource != "" {
			p = resource + "." + p
		}
		return "`" + p + "`"
	}
	switch op.Kind {
	case KindRename:
		return fmt.Sprintf("%s is now %s.", q(op.Was), q(op.Field))
	case KindAdded:
		if op.Default != nil {
			return fmt.Sprintf("%s is new (requests from older versions get `%s`).", q(op.Field), string(op.Default))
		}
		return fmt.Sprintf("%s is new.", q(op.Field))
	case KindRemoved:
		switch {
		case op.From != "" && op.Default != nil:
			return fmt.Sprintf("%s is removed; use %s (older versions return `%s` when there is none).", q(op.Field), q(op.From), string(op.Default))
		case op.From != "":
			return fmt.Sprintf("%s is removed; use %s.", q(op.Field), q(op.From))
		case op.Func != "" || op.Resolve != "":
			return fmt.Sprintf("%s is removed.", q(op.Field))
		}
		return fmt.Sprintf("%s is removed (older versions return `%s`).", q(op.Field), string(op.Default))
	case KindRetype:
		return fmt.Sprintf("%s is now %s (was %s).", q(op.Field), op.NowType.Noun(), op.WasType.Noun())
	case KindEnum:
		parts := make([]string, len(op.Values))
		for i, v := range op.Values {
			parts[i] = fmt.Sprintf("`%s` is now `%s`", v.Was, v.Now)
		}
		return fmt.Sprintf("Values of %s renamed: %s.", q(op.Field), strings.Join(parts, ", "))
	case KindNest:
		return describeNest(op, resource)
	case KindCollapse:
		key := op.CollapseKey()
		s := fmt.Sprintf("%s is now the embedded object; older versions have its `%s` there.", q(op.Field), key)
		if op.IDField != "" {
			s += fmt.Sprintf(" Requests send the id as %s.", q(sibling(op.Field, op.IDField)))
		}
		return s
	case KindCustom:
		return fmt.Sprintf("Transformed by `%s`.", op.Func)
	case KindBehavior:
		return "Behaviour change; no change to request or response bodies."
	case KindEndpointAdded:
		return fmt.Sprintf("`%s` is new; older versions answer 404.", op.Endpoint)
	case KindEndpointRemoved:
		return fmt.Sprintf("`%s` is removed; it answers 404 from this version on.", op.Endpoint)
	case KindEndpointMoved:
		return fmt.Sprintf("`%s` is now `%s`.", op.WasEndpoint, op.Endpoint)
	case KindStatus:
		return fmt.Sprintf("Responds with status %d where older versions responded %d.", op.Code, op.WasCode)
	case KindHeaderRename:
		return fmt.Sprintf("The `%s` response header is now `%s`.", op.WasHeader, op.Header)
	case KindHeaderAdded:
		return fmt.Sprintf("The `%s` response header is new.", op.Header)
	}
	return ""
}
