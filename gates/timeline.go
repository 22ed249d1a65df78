package gates

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/versions"
)

// DefaultHeader is the request and response header that carries the
// version when a timeline names none.
const DefaultHeader = "Stripe-Version"

// DefaultTypeField is the member that names an object's type ("object":
// "customer") when a timeline names none.
const DefaultTypeField = "object"

// DefaultListField is the member of a list response that holds its items
// ({"data": [...]}) when a timeline names none.
const DefaultListField = "data"

// ErrorResource is the resource that names error bodies: the ops of a
// change with resources [error] walk the error object of responses whose
// status is not 2xx (the top-level "error" member when it is an object,
// or the member a template error shape wraps its fields in, else the
// top-level object), not objects whose type is "error".
const ErrorResource = "error"

// Change is what one version changed relative to the version before it.
type Change struct {
	// ID names the change; unique in the timeline. Behaviour gates are
	// asked by it.
	ID string
	// Description is written for API users; it is the changelog entry.
	Description string
	// Resources are the object types (the value of the timeline's type
	// field, "object" by default) the response ops apply to, wherever such
	// an object is found in a response or event. ErrorResource names the
	// error object of non-2xx responses instead.
	Resources []string
	// Endpoints scope the request side: a request body is walked forward
	// through the change only on these endpoints. A change with endpoints
	// and no resources also scopes its response ops by endpoint: they
	// apply to the response of those endpoints, to its top-level object,
	// or to each object of its items when it is a list (a top-level array,
	// or an object whose list field, "data" by default, is an array).
	Endpoints []Endpoint
	// Ops are the operations, in declared order.
	Ops []Op
	// Breaking, when set, overrides whether the change is marked breaking
	// in changelogs (by default it is when any op is).
	Breaking *bool
	// Pos is where the change was declared.
	Pos Pos
}

// IsBreaking reports whether the change can break an integration written
// for the older version.
func (c *Change) IsBreaking() bool {
	if c.Breaking != nil {
		return *c.Breaking
	}
	for _, op := range c.Ops {
		if op.Breaking() {
			return true
		}
	}
	return false
}

// IsBehavior reports whether the change has a behaviour op.
func (c *Change) IsBehavior() bool {
	for _, op := range c.Ops {
		if op.Kind == KindBehavior {
			return true
		}
	}
	return false
}

// Version is one version of a timeline and the changes it made.
type Version struct {
	ID      versions.Version
	Changes []Change
	// Deprecated, when set, is the date from which the version is
	// deprecated: responses served in it say so (a Deprecation header),
	// and the changelog and OpenAPI mark it. It may be in the future.
	Deprecated time.Time
	// Sunset, when set, is the date from which the version may stop being
	// served (a Sunset header). What happens after it is the timeline's
	// AfterSunset policy. A version with a sunset is deprecated too.
	Sunset time.Time
	Pos    Pos
}

// Timeline is a validated, immutable list of versions, newest first, with
// the changes each made. The oldest version is the base and has no
// changes. A Timeline is safe for concurrent use.
type Timeline struct {
	api       string
	header    string
	typeField string
	listField string
	list      []Version
	versions  *versions.Timeline
	funcs     *Registry
	changeAt  map[string]versions.Version
	stubbed   []string
	// after is what happens to requests for a version past its sunset.
	after SunsetPolicy
	// errorShape is how the API writes its errors; zero for Stripe's.
	errorShape apierror.Shape
	// index maps each version to its position in list.
	index map[versions.Version]int
	// routes holds, per position in list, the compiled endpoint, status
	// and header ops that apply to requests served at that version.
	routes []routeTable
	// lifecycles holds, per position in list, the version's deprecation.
	lifecycles []Lifecycle
	// changes are the changes of list in order, newest version first; a
	// change's index (ChangeIndex) is its position here.
	changes   []*Change
	changeIdx map[string]int
	// slots are the field slots of the changes' body ops (FieldSlotAt).
	slots   []FieldSlot
	slotIdx map[slotKey]int
}

// Stubbed returns the custom functions and resolvers the timeline names
// that were not registered and were accepted as stubs
// (Options.StubMissing), sorted.
func (t *Timeline) Stubbed() []string { return t.stubbed }

// Options configures NewTimeline and Load. The zero value is valid.
type Options struct {
	// Funcs holds the custom functions the timeline may name.
	Funcs *Registry
	// StubMissing accepts custom functions and resolvers the timeline
	// names but Funcs lacks, as stubs that change nothing (a stub resolver
	// knows no value, so the op's default is put back), instead of
	// refusing the timeline; Timeline.Stubbed lists them. It is for tools that check,
	// document or diff a timeline without its Go code (verso check
	// --stub-custom); a server must register the real functions.
	StubMissing bool
	// WithoutGo names the program loading the timeline when it cannot run
	// Go functions at all ("verso proxy", in front of an API in another
	// language): a custom function the timeline names is then refused
	// with a message saying so and naming the declarative ops that may do
	// instead, rather than one about registering it in Go.
	WithoutGo string
}

// without returns opts.WithoutGo, or "" for nil options.
func (opts *Options) without() string {
	if opts == nil {
		return ""
	}
	return opts.WithoutGo
}

// withStubs returns funcs, or a copy of it with an identity stub for every
// function the versions name that it lacks, and the stubbed names.
func withStubs(funcs *Registry, vs []Version) (*Registry, []string) {
	var missing, missingRes []string
	seen, seenRes := map[string]bool{}, map[string]bool{}
	for _, v := range vs {
		for _, c := range v.Changes {
			for _, op := range c.Ops {
				if op.Resolve != "" && !seenRes[op.Resolve] {
					seenRes[op.Resolve] = true
					if _, ok := funcs.LookupResolver(op.Resolve); !ok {
						missingRes = append(missingRes, op.Resolve)
					}
				}
				if op.Func == "" || seen[op.Func] {
					continue
				}
				seen[op.Func] = true
				if _, ok := funcs.Lookup(op.Func); !ok {
					missing = append(missing, op.Func)
				}
			}
		}
	}
	if len(missing) == 0 && len(missingRes) == 0 {
		return funcs, nil
	}
	out := NewRegistry()
	if funcs != nil {
		for n, f := range funcs.funcs {
			out.funcs[n] = f
		}
		for n, f := range funcs.resolvers {
			out.resolvers[n] = f
		}
	}
	same := func(obj []byte) ([]byte, error) { return obj, nil }
	for _, n := range missing {
		out.funcs[n] = CustomFunc{Back: same, Forward: same}
	}
	for _, n := range missingRes {
		out.resolvers[n] = stubResolver
		if !slices.Contains(missing, n) {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	return out, missing
}

// Spec is a timeline declared in Go, the counterpart of the YAML file.
type Spec struct {
	API    string
	Header string // DefaultHeader when empty
	// TypeField is the member naming an object's type; DefaultTypeField
	// when empty.
	TypeField string
	// ListField is the member of a list response holding its items, for
	// changes scoped by endpoint; DefaultListField when empty.
	ListField string
	Versions  []Version // newest first
	// AfterSunset is what happens to requests for a version past its
	// sunset date. The zero value keeps serving them.
	AfterSunset SunsetPolicy
	// ErrorShape is how the API writes its errors (the YAML's errors
	// key): apierror.Problem(typeBase), apierror.Flat(), an
	// apierror.Template. The zero Shape is Stripe's.
	ErrorShape apierror.Shape
}

// NewTimeline validates a timeline declared in Go.
func NewTimeline(spec Spec, opts *Options) (*Timeline, error) {
	var funcs *Registry
	var stubbed []string
	if opts != nil {
		funcs = opts.Funcs
		if opts.StubMissing {
			funcs, stubbed = withStubs(funcs, spec.Versions)
		}
	}
	var errs ErrorList
	t := build(spec, funcs, opts.without(), &errs)
	t.stubbed = stubbed
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return t, nil
}

// MustNewTimeline is like NewTimeline but panics on an invalid timeline.
// It is meant for tests and package-level declarations.
func MustNewTimeline(spec Spec, opts *Options) *Timeline {
	t, err := NewTimeline(spec, opts)
	if err != nil {
		panic(err)
	}
	return t
}

var (
	idPattern       = regexp.MustCompile(`^[a-z][a-z0-9_.-]*$`)
	resourcePattern = regexp.MustCompile(`^[a-z][a-z0-9_.]*$`)
	headerPattern   = regexp.MustCompile(`^[A-Za-z0-9-]+$`)
)

func build(spec Spec, funcs *Registry, withoutGo string, errs *ErrorList) *Timeline {
	t := &Timeline{api: spec.API, header: spec.Header, typeField: spec.TypeField, listField: spec.ListField,
		funcs: funcs, changeAt: map[string]versions.Version{}, after: spec.AfterSunset, errorShape: spec.ErrorShape}
	if spec.AfterSunset != SunsetServe && spec.AfterSunset != SunsetRefuse {
		errs.add(Pos{}, "", "after_sunset: unknown policy %d", spec.AfterSunset)
	}
	if t.header == "" {
		t.header = DefaultHeader
	} else if !headerPattern.MatchString(t.header) {
		errs.add(Pos{}, "", "header %q is not a valid HTTP header name", t.header)
	}
	if t.typeField == "" {
		t.typeField = DefaultTypeField
	} else if err := CheckKey(t.typeField); err != nil {
		errs.add(Pos{}, "", "type_field: %v", err)
	}
	if t.listField == "" {
		t.listField = DefaultListField
	} else if err := CheckKey(t.listField); err != nil {
		errs.add(Pos{}, "", "list_field: %v", err)
	}
	if len(spec.Versions) == 0 {
		errs.add(Pos{}, "", "no versions: a timeline needs at least its base version")
		return t
	}
	seenVersion := map[versions.Version]Pos{}
	seenChange := map[string]Pos{}
	var vs []versions.Version
	for i, v := range spec.Versions {
		switch {
		case v.ID.IsZero():
			errs.add(v.Pos, "", "version %d has no version", i+1)
			continue
		case seenVersion[v.ID] != (Pos{}) || containsVersion(vs, v.ID):
			errs.add(v.Pos, "", "version %s is listed twice (first at %s)", v.ID, seenVersion[v.ID])
			continue
		case len(vs) > 0 && !v.ID.Before(vs[len(vs)-1]):
			errs.add(v.Pos, "", "version %s is listed after %s but is not older: list versions newest first", v.ID, vs[len(vs)-1])
			continue
		}
		seenVersion[v.ID] = v.Pos
		vs = append(vs, v.ID)
		if i == len(spec.Versions)-1 && len(v.Changes) > 0 {
			errs.add(v.Pos, "", "version %s is the base (the oldest) and cannot have changes; add an older version below it", v.ID)
		}
		for ci := range v.Changes {
			c := &v.Changes[ci]
			if c.ID == "" {
				errs.add(c.Pos, "", "change %d of %s has no id", ci+1, v.ID)
			} else if !idPattern.MatchString(c.ID) {
				errs.add(c.Pos, c.ID, "id must be lower-case letters, digits, '_', '-' or '.', starting with a letter")
			} else if first, dup := seenChange[c.ID]; dup {
				errs.add(c.Pos, c.ID, "duplicate change id (first at %s)", first)
			} else {
				seenChange[c.ID] = c.Pos
				t.changeAt[c.ID] = v.ID
			}
			checkChange(c, funcs, withoutGo, errs)
		}
		checkCollisions(v, errs)
		checkLifecycle(v, i == 0, errs)
	}
	if len(*errs) > 0 {
		return t
	}
	checkEndpointHistory(spec.Versions, errs)
	checkResolvedFields(spec.Versions, errs)
	if len(*errs) > 0 {
		return t
	}
	tl, err := versions.NewTimeline(vs...)
	if err != nil {
		errs.add(Pos{}, "", "%v", err)
		return t
	}
	t.versions = tl
	t.list = spec.Versions
	t.changeIdx = map[string]int{}
	for i := range t.list {
		for j := range t.list[i].Changes {
			c := &t.list[i].Changes[j]
			t.changeIdx[c.ID] = len(t.changes)
			t.changes = append(t.changes, c)
		}
	}
	t.compileSlots()
	t.compileRoutes()
	t.compileLifecycles()
	return t
}

func containsVersion(vs []versions.Version, v versions.Version) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

func checkChange(c *Change, funcs *Registry, withoutGo string, errs *ErrorList) {
	if strings.TrimSpace(c.Description) == "" {
		errs.add(c.Pos, c.ID, "missing description: it is what API users read in the changelog")
	}
	for _, r := range c.Resources {
		if !resourcePattern.MatchString(r) {
			errs.add(c.Pos, c.ID, "resource %q is not an object type (lower-case letters, digits, '_' and '.')", r)
		}
	}
	if len(c.Ops) == 0 {
		errs.add(c.Pos, c.ID, "no ops: declare what changed (or `behavior` for a change of behaviour)")
	}
	bodyOps := false
	for i := range c.Ops {
		op := &c.Ops[i]
		pos := op.Pos
		if pos == (Pos{}) {
			pos = c.Pos
		}
		if op.Kind.Body() {
			bodyOps = true
		}
		checkOp(op, pos, c.ID, funcs, withoutGo, errs)
	}
	if bodyOps && len(c.Resources) == 0 && len(c.Endpoints) == 0 {
		errs.add(c.Pos, c.ID, "no resources and no endpoints: the ops would apply to nothing")
	}
	if slices.Contains(c.Resources, ErrorResource) && (len(c.Resources) > 1 || len(c.Endpoints) > 0) {
		errs.add(c.Pos, c.ID, "resource %q walks error bodies: declare it in a change of its own, with no other resources and no endpoints", ErrorResource)
	}
}

// CheckKey reports whether k can name a member, such as the type field:
// not empty, and no dots, brackets, quotes, backslashes or spaces.
func CheckKey(k string) error {
	if k == "" {
		return fmt.Errorf("empty key")
	}
	if strings.ContainsAny(k, ".[]\"\\ ") {
		return fmt.Errorf("key %q has a character keys do not allow (dots, brackets, quotes, backslashes, spaces)", k)
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 {
			return fmt.Errorf("key %q has a control character", k)
		}
	}
	return nil
}

func checkOp(op *Op, pos Pos, id string, funcs *Registry, withoutGo string, errs *ErrorList) {
	name := op.Kind.String()
	needPath := func(key, p string) {
		if p == "" {
			errs.add(pos, id, "%s: missing key %q", name, key)
		} else if err := CheckPath(p); err != nil {
			errs.add(pos, id, "%s: %s %q: %v", name, key, p, err)
		}
	}
	needFunc := func(fn string) {
		_, ok := funcs.Lookup(fn)
		switch {
		case ok:
		case withoutGo != "":
			errs.add(pos, id, "%s: %s cannot run Go functions (the timeline names %q); %s", name, withoutGo, fn, declarativeInstead(op.Kind))
		default:
			errs.add(pos, id, "%s: no Go function is registered as %q (register it on the Registry passed to the loader)", name, fn)
		}
	}
	if op.Schema != nil && op.Kind != KindRemoved {
		errs.add(pos, id, "%s: schema belongs to removed ops only", name)
	}
	if op.Operation != nil && op.Kind != KindEndpointRemoved {
		errs.add(pos, id, "%s: operation belongs to endpoint_removed ops only", name)
	}
	switch op.Kind {
	case KindRename:
		needPath("field", op.Field)
		needPath("was", op.Was)
		if op.Field != "" && op.Field == op.Was {
			errs.add(pos, id, "rename: field and was are both %q", op.Field)
		} else if op.Field != "" && op.Was != "" && crossesArray(op.Field, op.Was) {
			errs.add(pos, id, "rename: %q and %q must step into the same arrays: moving a field into or out of an array needs a custom op", op.Was, op.Field)
		}
	case KindAdded:
		needPath("field", op.Field)
		checkLiteral(op, pos, id, errs)
	case KindRemoved:
		needPath("field", op.Field)
		checkLiteral(op, pos, id, errs)
		if op.From != "" {
			if err := CheckFromPath(op.From); err != nil {
				errs.add(pos, id, "removed: from %q: %v", op.From, err)
			}
		}
		if op.Func != "" {
			needFunc(op.Func)
		}
		if op.Resolve != "" {
			checkResolve(op, pos, id, funcs, errs)
		}
		switch {
		case op.Default == nil && op.From == "" && op.Func == "" && op.Resolve == "",
			op.Func != "" && (op.Default != nil || op.From != "" || op.Resolve != ""),
			op.Resolve != "" && op.From != "":
			errs.add(pos, id, "removed: give one of default, from or resolve (a default may back either up) or custom (how older versions get %q back)", op.Field)
		}
		if op.Schema != nil && !isJSONObject(op.Schema) {
			errs.add(pos, id, "removed: schema of %q: want a mapping (the field's OpenAPI schema)", op.Field)
		}
	case KindNest:
		needPath("field", op.Field)
		checkNest(op, pos, id, errs)
	case KindCollapse:
		needPath("field", op.Field)
		last := op.Field[strings.LastIndexByte(op.Field, '.')+1:]
		if op.Key != "" {
			if err := CheckKey(op.Key); err != nil {
				errs.add(pos, id, "collapse: key: %v", err)
			}
		}
		if op.IDField != "" {
			if err := CheckKey(op.IDField); err != nil {
				errs.add(pos, id, "collapse: id_field: %v (it names a member next to %q)", err, op.Field)
			} else if op.IDField == last {
				errs.add(pos, id, "collapse: id_field and field are both %q", last)
			}
		}
	case KindRetype:
		needPath("field", op.Field)
		if op.WasType == "" || op.NowType == "" {
			errs.add(pos, id, "retype: missing key %q", map[bool]string{true: "was", false: "now"}[op.WasType == ""])
		} else if !retypable(op.WasType, op.NowType) {
			errs.add(pos, id, "retype: cannot convert between %s and %s (supported: integer, number, string, decimal)", op.WasType, op.NowType)
		}
	case KindEnum:
		needPath("field", op.Field)
		if len(op.Values) == 0 {
			errs.add(pos, id, "enum: missing key %q (a map of new value: old value)", "was")
		}
		seen := map[string]bool{}
		for _, v := range op.Values {
			if seen[v.Now] {
				errs.add(pos, id, "enum: value %q mapped twice", v.Now)
			}
			seen[v.Now] = true
		}
	case KindCustom:
		if op.Func == "" {
			errs.add(pos, id, "custom: missing key %q", "func")
		} else {
			needFunc(op.Func)
		}
	case KindBehavior:
	case KindEndpointAdded, KindEndpointRemoved:
		checkOpEndpoint(pos, id, name, "endpoint", op.Endpoint, errs)
		if op.Operation != nil && !isJSONObject(op.Operation) {
			errs.add(pos, id, "%s: operation of %q: want a mapping (the endpoint's OpenAPI operation object)", name, op.Endpoint)
		}
	case KindEndpointMoved:
		okNew := checkOpEndpoint(pos, id, name, "endpoint", op.Endpoint, errs)
		okOld := checkOpEndpoint(pos, id, name, "was", op.WasEndpoint, errs)
		switch {
		case !okNew || !okOld:
		case endpointKey(op.Endpoint) == endpointKey(op.WasEndpoint):
			errs.add(pos, id, "%s: endpoint and was are both %q", name, op.Endpoint)
		case !sameParams(op.Endpoint.Path, op.WasEndpoint.Path):
			errs.add(pos, id, "%s: %q and %q must have the same path parameters, so that a request at the old place can be sent on to the new one", name, op.WasEndpoint, op.Endpoint)
		}
	case KindStatus:
		for _, c := range [...]struct {
			key  string
			code int
		}{{"code", op.Code}, {"was", op.WasCode}} {
			if c.code < 100 || c.code > 599 {
				errs.add(pos, id, "status: %s %d is not an HTTP status code (100 to 599)", c.key, c.code)
			}
		}
		if op.Code == op.WasCode {
			errs.add(pos, id, "status: code and was are both %d", op.Code)
		}
	case KindHeaderRename, KindHeaderAdded:
		if !headerPattern.MatchString(op.Header) {
			errs.add(pos, id, "%s: name %q is not a valid HTTP header name", name, op.Header)
		}
		if op.Kind == KindHeaderRename {
			if !headerPattern.MatchString(op.WasHeader) {
				errs.add(pos, id, "%s: was %q is not a valid HTTP header name", name, op.WasHeader)
			} else if strings.EqualFold(op.Header, op.WasHeader) {
				errs.add(pos, id, "%s: name and was are both %q", name, op.Header)
			}
		}
	default:
		errs.add(pos, id, "unknown op kind %d", op.Kind)
	}
}

// CheckPath reports whether p is a valid field path: keys separated by
// dots, each optionally followed by "[]" to step into an array of objects.
// A step of digits alone is refused: it reads as an array index, which
// only a removed op's `from` can follow (CheckFromPath).
func CheckPath(p string) error {
	if p == "" {
		return fmt.Errorf("empty path")
	}
	for _, seg := range strings.Split(p, ".") {
		key := strings.TrimSuffix(seg, "[]")
		if key == "" {
			return fmt.Errorf("empty key in path")
		}
		if strings.ContainsAny(key, "[]\"\\ ") {
			return fmt.Errorf("key %q has a character paths do not allow", key)
		}
		if isIndex(key) {
			return fmt.Errorf("step %q is an array index, which the walk follows only in a removed op's `from`; write [] to step into every element of an array", key)
		}
	}
	if strings.HasSuffix(p, "[]") {
		return fmt.Errorf("path ends in []: name a field inside the array's objects")
	}
	return nil
}

// CheckFromPath reports whether p is a valid `from` path of a removed op:
// keys and array indexes separated by dots ("assignees.0.login"); an
// index may also be written in brackets ("assignees[0].login"). It cannot
// step into every element of an array ("[]"): the value copied is one.
func CheckFromPath(p string) error {
	if p == "" {
		return fmt.Errorf("empty path")
	}
	if strings.Contains(p, "[]") {
		return fmt.Errorf("a path into every element of an array cannot be copied; pick one element by its index (items.0) or use custom")
	}
	for _, step := range SplitFromPath(p) {
		if step == "" {
			return fmt.Errorf("empty step in path")
		}
		if strings.ContainsAny(step, "[]\"\\ ") {
			return fmt.Errorf("step %q has a character paths do not allow (write an index as .0 or [0])", step)
		}
		if len(step) > 1 && step[0] == '0' && isIndex(step) {
			return fmt.Errorf("index %q has a leading zero", step)
		}
	}
	return nil
}

// SplitFromPath splits a `from` path into its steps, keys and indexes
// alike: "assignees[0].login" and "assignees.0.login" are both
// [assignees 0 login]. A segment whose brackets do not hold an index is
// kept whole (CheckFromPath refuses it).
func SplitFromPath(p string) []string {
	var out []string
	for _, seg := range strings.Split(p, ".") {
		i := strings.IndexByte(seg, '[')
		if i <= 0 {
			out = append(out, seg)
			continue
		}
		steps := []string{seg[:i]}
		rest, ok := seg[i:], true
		for rest != "" && ok {
			j := strings.IndexByte(rest, ']')
			if rest[0] != '[' || j < 0 || !isIndex(rest[1:j]) {
				ok = false
				break
			}
			steps = append(steps, rest[1:j])
			rest = rest[j+1:]
		}
		if !ok {
			out = append(out, seg)
			continue
		}
		out = append(out, steps...)
	}
	return out
}

// isIndex reports whether s is an array index: digits only.
func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// checkLiteral refuses a default that is not one JSON value.
func checkLiteral(op *Op, pos Pos, id string, errs *ErrorList) {
	if op.Default != nil && !json.Valid(op.Default) {
		errs.add(pos, id, "%s: default of %q is not a JSON value", op.Kind, op.Field)
	}
}

// checkCollisions refuses two ops of one version that write the same field
// of the same resource (or one inside the other).
func checkCollisions(v Version, errs *ErrorList) {
	type claim struct {
		change string
		op     string
	}
	claims := map[string]claim{} // scope + "\x00" + path
	for _, c := range v.Changes {
		// An endpoint's scope is compared by endpointKey, so that
		// "GET /v1/users/{id}" and "GET /v1/users/:id" are one.
		scopes := append([]string{}, c.Resources...)
		names := append([]string{}, c.Resources...)
		for _, e := range c.Endpoints {
			scopes = append(scopes, "endpoint "+endpointKey(e))
			names = append(names, "endpoint "+e.String())
		}
		for _, op := range c.Ops {
			pos := op.Pos
			if pos == (Pos{}) {
				pos = c.Pos
			}
			for _, f := range op.Fields() {
				for si, s := range scopes {
					for key, cl := range claims {
						cs, cp, _ := strings.Cut(key, "\x00")
						if cs == s && pathsOverlap(cp, f) {
							errs.add(pos, c.ID, "%s: %s.%s collides with %s of change %s in the same version", op.Kind, names[si], f, cl.op, cl.change)
						}
					}
				}
			}
			for _, f := range op.Fields() {
				for _, s := range scopes {
					claims[s+"\x00"+f] = claim{change: c.ID, op: op.Kind.String() + " " + f}
				}
			}
		}
	}
}

func pathsOverlap(a, b string) bool {
	a, b = strings.ReplaceAll(a, "[]", ""), strings.ReplaceAll(b, "[]", "")
	return a == b || strings.HasPrefix(a, b+".") || strings.HasPrefix(b, a+".")
}

// API returns the API's name, used in titles of generated docs.
func (t *Timeline) API() string { return t.api }

// Header returns the version header (DefaultHeader unless the timeline
// names another).
func (t *Timeline) Header() string { return t.header }

// TypeField returns the member that names an object's type
// (DefaultTypeField unless the timeline names another).
func (t *Timeline) TypeField() string { return t.typeField }

// ListField returns the member of a list response that holds its items
// (DefaultListField unless the timeline names another).
func (t *Timeline) ListField() string { return t.listField }

// Versions returns the ordered versions.
func (t *Timeline) Versions() *versions.Timeline { return t.versions }

// Newest returns the newest version.
func (t *Timeline) Newest() versions.Version { return t.versions.Newest() }

// NewestStable returns the newest version that is not a preview
// (versions.Version.IsPreview): the version new accounts are pinned to.
func (t *Timeline) NewestStable() versions.Version { return t.versions.NewestStable() }

// List returns the versions with their changes, newest first. The caller
// must not modify it.
func (t *Timeline) List() []Version { return t.list }

// Funcs returns the registry of custom functions.
func (t *Timeline) Funcs() *Registry { return t.funcs }

// Resolve parses s and checks that the timeline supports it.
func (t *Timeline) Resolve(s string) (versions.Version, error) { return t.versions.Resolve(s) }

// ResolveNearest parses s and returns the version it names, or, for a
// well-formed version the timeline does not list, the nearest older one
// that is not a preview (versions.Timeline.ResolveNearest).
func (t *Timeline) ResolveNearest(s string) (versions.Version, error) {
	return t.versions.ResolveNearest(s)
}

// ChangeVersion returns the version that introduced the change id.
func (t *Timeline) ChangeVersion(id string) (versions.Version, bool) {
	v, ok := t.changeAt[id]
	return v, ok
}

// Change returns the change with the given id.
func (t *Timeline) Change(id string) (*Change, bool) {
	v, ok := t.changeAt[id]
	if !ok {
		return nil, false
	}
	for i := range t.list {
		if t.list[i].ID != v {
			continue
		}
		for j := range t.list[i].Changes {
			if t.list[i].Changes[j].ID == id {
				return &t.list[i].Changes[j], true
			}
		}
	}
	return nil, false
}

// Active reports whether the change id is in effect at version v: v is the
// change's version or newer. An unknown id is an error.
func (t *Timeline) Active(v versions.Version, id string) (bool, error) {
	at, ok := t.changeAt[id]
	if !ok {
		return false, fmt.Errorf("gates: no change %q in the timeline", id)
	}
	return !v.Before(at), nil
}

// Between returns the versions strictly newer than older and at most
// newer, newest first: the versions whose changes separate the two.
func (t *Timeline) Between(older, newer versions.Version) []Version {
	var out []Version
	for _, v := range t.list {
		if v.ID.After(older) && !v.ID.After(newer) {
			out = append(out, v)
		}
	}
	return out
}

// crossesArray reports whether a rename between paths a and b would move a
// value into or out of an array: past their common prefix, neither path may
// step into an array.
func crossesArray(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	n := 0
	for n < len(as)-1 && n < len(bs)-1 && as[n] == bs[n] {
		n++
	}
	for _, s := range append(as[n:], bs[n:]...) {
		if strings.HasSuffix(s, "[]") {
			return true
		}
	}
	return false
}

// isJSONObject reports whether raw is one JSON object.
func isJSONObject(raw []byte) bool {
	t := bytes.TrimLeft(raw, " \t\r\n")
	return len(t) > 0 && t[0] == '{' && json.Valid(raw)
}

// declarativeInstead says which declarative ops may do what a custom
// function of an op of kind k does, for programs that cannot run Go.
func declarativeInstead(k Kind) string {
	if k == KindRemoved {
		return "put the field back with a default, or from another path (an array's element too, from: items.0, with a default for when it finds nothing)"
	}
	return "declare the change with declarative ops instead: rename (a field renamed, or moved between objects), added and removed (with a default, or from another path, an array's element too), retype, enum, nest (fields moved into or out of an object), collapse (an embedded object that older versions had as its id)"
}
