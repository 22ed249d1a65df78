package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/versions"
)

// ErrNotOpenAPI is returned when the input parses but is not an OpenAPI 3
// document.
var ErrNotOpenAPI = errors.New("not an OpenAPI 3 document")

// ErrSyntax is returned when the input is neither JSON nor YAML.
var ErrSyntax = errors.New("not JSON or YAML")

// ErrConflict is returned when a rename would put a property where the
// document already has one of that name: deriving it would silently lose
// one of the two schemas.
var ErrConflict = errors.New("rename onto an existing property")

// Options configures DeriveWithOptions. The zero value is the default.
type Options struct {
	// KeepExisting settles a rename onto a property the document already
	// has (Stripe's newest documents still list some old request
	// parameters, `default_card` beside `default_source`): the existing
	// property is kept and the renamed one dropped. By default such a
	// rename fails with ErrConflict.
	KeepExisting bool
}

// Result is a derived document and what could not be derived.
type Result struct {
	// JSON is the derived OpenAPI document, indented, in the key order of
	// the source document (new keys after the existing ones).
	JSON []byte
	// Warnings name the ops whose schema side could not be derived
	// exactly: a custom op (whose shape only its Go function knows), a
	// put-back field with no schema to copy and no `schema` given.
	Warnings []string
	// Disagreements are the places where the document contradicts the
	// timeline: a field an op names that the schema lacks at that
	// version, a type or enum value that differs, a resource with no
	// schema, an info.version that is not the timeline's newest version.
	Disagreements []Disagreement
}

// Disagreement is one place where the source document and the timeline
// disagree.
type Disagreement struct {
	// Change is the id of the change whose op disagrees ("" for the
	// document as a whole).
	Change string
	// Version is the version at which the document was expected to agree:
	// the change's version.
	Version versions.Version
	// Where is the schema or operation ("charge", "POST /v1/charges
	// (application/x-www-form-urlencoded)", "info.version").
	Where string
	// Msg says what disagrees.
	Msg string
	// Pos is where the op was declared in the timeline file.
	Pos gates.Pos
}

func (d Disagreement) String() string {
	var b strings.Builder
	if p := d.Pos.String(); p != "" {
		b.WriteString(p + ": ")
	}
	if d.Change != "" {
		b.WriteString(d.Change + " (" + d.Version.String() + "): ")
	}
	b.WriteString(d.Where + ": " + d.Msg)
	return b.String()
}

// Derive returns the OpenAPI document (JSON) of version to, derived from
// spec, the newest version's document (JSON or YAML), by applying the
// schema side of each op of the versions newer than to, newest first, as
// the engine walks a response back: renamed properties (in properties,
// required and a request's encoding), removed properties put back (with
// the op's schema, or copied from the from property's schema, or typed
// from the default literal; required when verso always puts them back),
// added properties removed, retyped fields, renamed enum values. A
// resource's schema is the one in components.schemas whose x-resourceId is
// the resource, or else the one named like it. info.version is set to to.
// The ops of a change with endpoints also apply to those operations'
// request body schemas. A rename onto a property the document already has
// is an error (ErrConflict). DeriveResult reports warnings and
// disagreements too.
//
// The endpoint ops shape the paths: operations absent at to are left out,
// an endpoint that moved after to is listed at its old place, and response
// status codes and headers are renamed as to had them. When to is
// deprecated, info carries x-deprecated, x-sunset and x-successor and its
// description says so; operations are not marked deprecated (the version
// is, not them).
func Derive(spec []byte, tl *gates.Timeline, to versions.Version) ([]byte, error) {
	r, err := DeriveResult(spec, tl, to)
	if err != nil {
		return nil, err
	}
	return r.JSON, nil
}

// DeriveResult is Derive, with the warnings and disagreements.
func DeriveResult(spec []byte, tl *gates.Timeline, to versions.Version) (*Result, error) {
	return DeriveWithOptions(spec, tl, to, nil)
}

// Check derives every version of the timeline from spec and returns the
// disagreements between the document and the timeline (see
// Result.Disagreements), found walking back to the base version.
func Check(spec []byte, tl *gates.Timeline, opts *Options) ([]Disagreement, error) {
	if tl == nil {
		return nil, errors.New("openapi: no timeline")
	}
	r, err := DeriveWithOptions(spec, tl, tl.Versions().Base(), opts)
	if err != nil {
		return nil, err
	}
	return r.Disagreements, nil
}

// DeriveWithOptions is DeriveResult with options; nil means defaults.
func DeriveWithOptions(spec []byte, tl *gates.Timeline, to versions.Version, opts *Options) (*Result, error) {
	if tl == nil {
		return nil, errors.New("openapi: no timeline")
	}
	if opts == nil {
		opts = &Options{}
	}
	vt := tl.Versions()
	if !vt.Contains(to) {
		return nil, fmt.Errorf("openapi: %w %s; supported versions: %s", versions.ErrUnknownVersion, to, vt.Supported())
	}
	root, err := parse(spec)
	if err != nil {
		return nil, err
	}
	d := &doc{root: root, opts: opts, typeField: tl.TypeField()}
	d.v31 = strings.HasPrefix(root.str("openapi"), "3.1")
	d.schemas = root.child("components").child("schemas")
	info := root.child("info")
	if info == nil {
		info = newObject()
		root.set("info", info)
	}
	if iv := info.str("version"); iv != tl.Newest().String() {
		d.disagreements = append(d.disagreements, Disagreement{Where: "info.version",
			Msg: fmt.Sprintf("the document is of version %q; the timeline's newest version is %s", iv, tl.Newest())})
	}
	for _, v := range tl.Between(to, tl.Newest()) {
		d.version = v.ID
		for ci := len(v.Changes) - 1; ci >= 0; ci-- {
			c := &v.Changes[ci]
			for oi := len(c.Ops) - 1; oi >= 0; oi-- {
				d.op, d.changePos = c.Ops[oi], c.Pos
				if d.op.Pos == (gates.Pos{}) {
					d.op.Pos = c.Pos
				}
				for _, r := range c.Resources {
					d.apply(c.ID, r, c.Ops[oi])
				}
				for _, ep := range c.Endpoints {
					d.applyRequest(c.ID, ep, c.Ops[oi])
				}
			}
		}
	}
	if len(d.conflicts) > 0 {
		return nil, fmt.Errorf("openapi: %w (rename the existing property in the document, or keep it with Options.KeepExisting / --keep-existing):\n  %s", ErrConflict, strings.Join(d.conflicts, "\n  "))
	}
	info.set("version", to.String())
	d.applyLifecycle(tl, to, info)
	d.declareHeaders(tl, to)
	out, err := encode(root)
	if err != nil {
		return nil, fmt.Errorf("openapi: encode: %w", err)
	}
	return &Result{JSON: out, Warnings: d.warnings, Disagreements: d.disagreements}, nil
}

// parse reads JSON (numbers kept exact) or YAML into objects and slices.
func parse(spec []byte) (*object, error) {
	trimmed := bytes.TrimSpace(spec)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("openapi: %w: empty input", ErrSyntax)
	}
	var v any
	if trimmed[0] == '{' || trimmed[0] == '[' {
		var err error
		if v, err = decodeJSON(trimmed); err != nil {
			return nil, fmt.Errorf("openapi: %w: %v", ErrSyntax, err)
		}
	} else {
		var n yaml.Node
		if err := yaml.Unmarshal(trimmed, &n); err != nil {
			return nil, fmt.Errorf("openapi: %w: %v", ErrSyntax, err)
		}
		var err error
		if v, err = (&yamlConv{}).value(&n, 0); err != nil {
			return nil, fmt.Errorf("openapi: %w: %v", ErrSyntax, err)
		}
	}
	m, ok := v.(*object)
	if !ok {
		return nil, fmt.Errorf("openapi: %w: the top level is not a mapping", ErrNotOpenAPI)
	}
	ov, ok := m.get("openapi").(string)
	switch {
	case !ok && m.get("swagger") != nil:
		return nil, fmt.Errorf("openapi: %w: Swagger 2.0 documents are not supported; convert to OpenAPI 3 first", ErrNotOpenAPI)
	case !ok:
		return nil, fmt.Errorf("openapi: %w: no \"openapi\" version key", ErrNotOpenAPI)
	case !strings.HasPrefix(ov, "3."):
		return nil, fmt.Errorf("openapi: %w: openapi version %q", ErrNotOpenAPI, ov)
	}
	return m, nil
}

// maxYAMLNodes bounds the values a YAML document may expand to through
// aliases.
const maxYAMLNodes = 1 << 20

// yamlConv turns a YAML node tree into objects and slices, keeping key
// order and numbers exactly as written.
type yamlConv struct{ nodes int }

func (c *yamlConv) value(n *yaml.Node, depth int) (any, error) {
	c.nodes++
	if depth > maxNesting || c.nodes > maxYAMLNodes {
		return nil, errors.New("document nested or aliased too deeply")
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return c.value(n.Content[0], depth+1)
	case yaml.AliasNode:
		return c.value(n.Alias, depth+1)
	case yaml.MappingNode:
		m := newObject()
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := c.value(n.Content[i+1], depth+1)
			if err != nil {
				return nil, err
			}
			m.set(n.Content[i].Value, v)
		}
		return m, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, x := range n.Content {
			v, err := c.value(x, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, err
		}
		return b, nil
	case "!!int", "!!float":
		v := strings.ReplaceAll(n.Value, "_", "")
		if json.Valid([]byte(v)) && v != "" && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9')) {
			return json.Number(v), nil
		}
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, err
		}
		b, err := json.Marshal(f)
		if err != nil {
			return nil, fmt.Errorf("line %d: %s is not a JSON number", n.Line, n.Value)
		}
		return json.Number(b), nil
	}
	return n.Value, nil
}

type doc struct {
	root          *object
	schemas       *object
	v31           bool
	opts          *Options
	version       versions.Version // the version whose changes are being undone
	op            gates.Op         // the op being applied
	changePos     gates.Pos        // where its change was declared
	warnings      []string
	disagreements []Disagreement
	conflicts     []string
	typeField     string // the timeline's type field, which a nest of every member leaves
	quiet         bool   // applying to a variant of a resource's schema: no disagreements
	// The reference's documented objects: their anchors by schema, and
	// their names.
	anchors map[*object]string
	names   []objectSchema
}

func (d *doc) warnf(id, format string, args ...any) {
	d.warnings = append(d.warnings, id+": "+fmt.Sprintf(format, args...))
}

func (d *doc) disagree(id, where, format string, args ...any) {
	if d.quiet {
		return // a variant lacks what the engine would not find either
	}
	d.disagreeAt(d.op.Pos, id, where, format, args...)
}

// disagreeAt records a disagreement declared at pos (the change's position
// for what concerns the change as a whole).
func (d *doc) disagreeAt(pos gates.Pos, id, where, format string, args ...any) {
	n := Disagreement{Change: id, Version: d.version, Where: where, Msg: fmt.Sprintf(format, args...), Pos: pos}
	for _, x := range d.disagreements {
		if x.Change == n.Change && x.Where == n.Where && x.Msg == n.Msg {
			return // one report per change, place and problem
		}
	}
	d.disagreements = append(d.disagreements, n)
}

// resolve follows $ref within the document.
func (d *doc) resolve(v any) *object {
	for range 32 {
		m, ok := v.(*object)
		if !ok {
			return nil
		}
		ref, ok := m.get("$ref").(string)
		if !ok {
			return m
		}
		v = d.lookup(ref)
	}
	return nil
}

func (d *doc) lookup(ref string) any {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	var cur any = d.root
	for _, part := range strings.Split(p, "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, ok := cur.(*object)
		if !ok {
			return nil
		}
		cur = m.get(part)
	}
	return cur
}

// maxDepth bounds how deeply holder and object look into combined schemas,
// which $ref can make cyclic.
const maxDepth = 16

// holder returns the object schema among s and its allOf, anyOf and oneOf
// members whose properties hold key.
func (d *doc) holder(s *object, key string) *object {
	return d.holderDepth(s, key, 0)
}

func (d *doc) holderDepth(s *object, key string, depth int) *object {
	if s == nil || depth > maxDepth {
		return nil
	}
	if s.child("properties").has(key) {
		return s
	}
	for _, comb := range []string{"allOf", "anyOf", "oneOf"} {
		for _, x := range s.list(comb) {
			if m := d.resolve(x); m != nil {
				if h := d.holderDepth(m, key, depth+1); h != nil {
					return h
				}
			}
		}
	}
	return nil
}

// object returns the object schema inside s: s itself, or the member of
// its anyOf or oneOf that has properties (an expandable field).
func (d *doc) object(s *object) *object {
	return d.objectDepth(s, 0)
}

func (d *doc) objectDepth(s *object, depth int) *object {
	if s == nil || depth > maxDepth {
		return nil
	}
	if s.has("properties") {
		return s
	}
	for _, comb := range []string{"allOf", "anyOf", "oneOf"} {
		for _, x := range s.list(comb) {
			if m := d.objectDepth(d.resolve(x), depth+1); m != nil {
				return m
			}
		}
	}
	return nil
}

type seg struct {
	key  string
	each bool
}

func parsePath(p string) []seg {
	var out []seg
	for _, part := range strings.Split(p, ".") {
		k, each := strings.CutSuffix(part, "[]")
		out = append(out, seg{k, each})
	}
	return out
}

// parent walks segs from s and returns the object schema that holds (or
// would hold) the field after them, and whether every level on the way is
// required in its holder. With create, missing levels are added as object
// schemas.
func (d *doc) parent(s *object, segs []seg, create bool) (*object, bool) {
	cur := s
	required := true
	for _, sg := range segs {
		h := d.holder(cur, sg.key)
		var next *object
		if h != nil {
			next = d.resolve(h.child("properties").get(sg.key))
			required = required && isRequired(h, sg.key)
		} else if create && !sg.each {
			next = obj("type", "object", "properties", newObject())
			props(cur).set(sg.key, next)
			required = false
		}
		if next == nil {
			return nil, false
		}
		if sg.each {
			next = d.resolve(next.get("items"))
			required = false
		}
		if next = d.object(next); next == nil {
			return nil, false
		}
		cur = next
	}
	return cur, required
}

func props(s *object) *object {
	p := s.child("properties")
	if p == nil {
		p = newObject()
		s.set("properties", p)
	}
	return p
}

func isRequired(s *object, key string) bool {
	return slices.Contains(s.list("required"), any(key))
}

func removeRequired(s *object, key string) {
	req := s.list("required")
	if req == nil {
		return
	}
	req = slices.DeleteFunc(req, func(x any) bool { return x == key })
	if len(req) == 0 {
		s.del("required")
		return
	}
	s.set("required", req)
}

func addRequired(s *object, key string) {
	if isRequired(s, key) {
		return
	}
	s.set("required", append(s.list("required"), key))
}

// field finds the schema holding the last segment of path in s; it
// returns the holder, the key and whether the levels above it are
// required.
func (d *doc) field(s *object, path string, create bool) (*object, string, bool) {
	segs := parsePath(path)
	last := segs[len(segs)-1].key
	p, req := d.parent(s, segs[:len(segs)-1], create)
	if p == nil {
		return nil, last, false
	}
	if h := d.holder(p, last); h != nil {
		return h, last, req
	}
	if create {
		return p, last, req
	}
	return nil, last, false
}

// own returns the property schema of key in h, replacing a $ref by a copy
// of its target so that editing it changes only this property.
func (d *doc) own(h *object, key string) *object {
	pr := props(h)
	m, ok := pr.get(key).(*object)
	if !ok {
		return nil
	}
	if m.has("$ref") {
		t := d.resolve(m)
		if t == nil {
			return nil
		}
		m = deepCopy(t).(*object)
		pr.set(key, m)
	}
	return m
}

// apply applies the schema side of one op, walking back, to every schema
// of the resource.
func (d *doc) apply(id, resource string, op gates.Op) {
	if !op.Kind.Body() {
		return
	}
	if op.Kind == gates.KindCustom {
		d.warnf(id, "custom %s: the schema of %s is left as it is", op.Func, resource)
		return
	}
	if resource == gates.ErrorResource {
		d.applyError(id, op)
		return
	}
	schemas, variants := d.resourceSchemas(resource)
	if len(schemas) == 0 {
		d.disagreeAt(d.changePos, id, resource, "no schema for the resource (x-resourceId, components.schemas.%s, or a schema whose %q is %q)", resource, d.typeFieldName(), resource)
		return
	}
	for _, s := range schemas {
		d.applyTo(id, resource, s, op, false)
	}
	// The engine walks every object of the type, a deleted one too: its
	// schema follows, where the op finds what it names.
	d.quiet = true
	for _, s := range variants {
		d.applyTo(id, resource, s, op, false)
	}
	d.quiet = false
}

// applyTo applies one op to the schema s, of a resource or (request) of a
// request body.
func (d *doc) applyTo(id, where string, s *object, op gates.Op, request bool) {
	missing := func(path string) {
		d.disagree(id, where, "%s: %s is not in the schema", op.Kind, path)
	}
	switch op.Kind {
	case gates.KindRename:
		h, key, _ := d.field(s, op.Field, false)
		if h == nil {
			missing(op.Field)
			return
		}
		if eh, _, _ := d.field(s, op.Was, false); eh != nil {
			if !d.opts.KeepExisting {
				d.conflicts = append(d.conflicts, fmt.Sprintf("%s: %s (%s): rename %s to %s: %s already has %s", d.op.Pos, id, d.version, op.Field, op.Was, where, op.Was))
				return
			}
			delete1(h, key)
			return
		}
		prop := props(h).get(key)
		req := isRequired(h, key)
		dst, dkey, _ := d.field(s, op.Was, true)
		if dst == nil {
			d.warnf(id, "rename: cannot place %s.%s in the schema", where, op.Was)
			return
		}
		if dst == h {
			// The same level: rename in place, keeping the key order of
			// properties and required.
			props(h).rename(key, dkey)
			for i, r := range h.list("required") {
				if r == key {
					h.list("required")[i] = dkey
				}
			}
			return
		}
		delete1(h, key)
		props(dst).set(dkey, prop)
		if req {
			addRequired(dst, dkey)
		}
	case gates.KindAdded:
		h, key, _ := d.field(s, op.Field, false)
		if h == nil {
			missing(op.Field)
			return
		}
		delete1(h, key)
	case gates.KindRemoved:
		d.putBack(id, where, s, op, request)
	case gates.KindNest:
		d.lift(id, where, s, op)
	case gates.KindCollapse:
		d.collapse(id, where, s, op, request)
	case gates.KindRetype:
		h, key, _ := d.field(s, op.Field, false)
		if h == nil {
			missing(op.Field)
			return
		}
		p := d.own(h, key)
		if p == nil {
			return
		}
		if !hasType(p, op.NowType) {
			d.disagree(id, where, "retype: %s is %s in the schema; the timeline says it is now %s", op.Field, typeOf(p), op.NowType)
		}
		retype(p, op.WasType)
	case gates.KindEnum:
		h, key, _ := d.field(s, op.Field, false)
		if h == nil {
			missing(op.Field)
			return
		}
		p := d.own(h, key)
		if p == nil {
			return
		}
		target := p
		if !p.has("enum") && p.get("items") != nil {
			// An array of enum values.
			if it, ok := p.get("items").(*object); ok {
				if it.has("$ref") {
					if r := d.resolve(it); r != nil {
						it = deepCopy(r).(*object)
						p.set("items", it)
					}
				}
				target = it
			}
		}
		was := map[string]string{}
		for _, v := range op.Values {
			was[v.Now] = v.Was
		}
		list, ok := target.get("enum").([]any)
		if !ok {
			d.disagree(id, where, "enum: %s has no enum list in the schema", op.Field)
			break
		}
		for _, v := range op.Values {
			if !slices.Contains(list, any(v.Now)) {
				d.disagree(id, where, "enum: %s has no value %q in the schema", op.Field, v.Now)
			}
		}
		for i, x := range list {
			if s, ok := x.(string); ok {
				if w, ok := was[s]; ok {
					list[i] = w
				}
			}
		}
		if s, ok := target.get("default").(string); ok {
			if w, ok := was[s]; ok {
				target.set("default", w)
			}
		}
	}
}

// delete1 removes key from the properties and required list of h.
func delete1(h *object, key string) {
	props(h).del(key)
	removeRequired(h, key)
}

// putBack applies a removed op: the field goes back into the schema, with
// the op's schema, a copy of the from field's schema or a schema inferred
// from the default. In a response schema it is required when verso always
// puts it back: with a default (or a from field that is itself required),
// at a level that is always there.
func (d *doc) putBack(id, where string, s *object, op gates.Op, request bool) {
	if d.quiet && op.Default == nil && op.Resolve == "" && op.From != "" {
		if fs, _ := d.fromSchema(s, op.From); fs == nil {
			return // the engine finds nothing to copy in such an object
		}
	}
	h, key, levelsRequired := d.field(s, op.Field, true)
	if h == nil {
		if !d.quiet {
			d.warnf(id, "removed: cannot place %s.%s in the schema", where, op.Field)
		}
		return
	}
	always := !request && levelsRequired
	var schema any
	switch {
	case op.Schema != nil:
		v, err := decodeJSON(op.Schema)
		if err != nil {
			d.warnf(id, "removed: schema of %s.%s: %v", where, op.Field, err)
			return
		}
		schema = v
		if op.From != "" {
			fh, fkey, freq := d.field(s, op.From, false)
			always = always && fh != nil && freq && isRequired(fh, fkey)
		}
		always = always && op.Func == ""
	case props(h).has(key):
		// The newest document still describes the field (an expandable
		// one, say): its schema says more than a default would.
		schema = props(h).get(key)
		if op.From != "" || op.Func != "" {
			always = false
		}
	case op.From != "":
		fs, freq := d.fromSchema(s, op.From)
		if fs == nil {
			d.disagree(id, where, "removed: %s (to copy %s from) is not in the schema", op.From, op.Field)
			schema = newObject()
			always = false
			break
		}
		schema = deepCopy(fs)
		if op.Default != nil {
			// What from does not find is put back as the default.
			always = always && op.Func == ""
			if string(op.Default) == "null" {
				schema = d.nullable(schema.(*object))
			}
		} else {
			always = always && freq
		}
	case op.Func != "":
		d.warnf(id, "removed: %s.%s is put back by custom %s; its schema is left open (give the op a schema)", where, op.Field, op.Func)
		schema = newObject()
		always = false
	case op.Resolve != "" && op.Default == nil:
		d.warnf(id, "removed: %s.%s is put back by resolver %s; its schema is left open (give the op a schema)", where, op.Field, op.Resolve)
		schema = newObject()
	default:
		lit, err := decodeJSON(op.Default)
		if err != nil {
			d.warnf(id, "removed: default of %s.%s: %v", where, op.Field, err)
			schema = newObject()
			break
		}
		inf, exact := d.infer(lit)
		if !exact {
			d.warnf(id, "removed: %s.%s is put back with %s; its schema is only partly known from that (give the op a schema)", where, op.Field, string(op.Default))
		}
		schema = inf
	}
	props(h).set(key, schema)
	if always {
		addRequired(h, key)
	}
}

// infer returns a schema for a default literal, and whether it says all
// there is (a null or an empty array says little).
func (d *doc) infer(v any) (*object, bool) {
	switch v := v.(type) {
	case nil:
		if d.v31 {
			return obj("type", "null"), false
		}
		return obj("nullable", true), false
	case bool:
		return obj("type", "boolean"), true
	case string:
		return obj("type", "string"), true
	case json.Number:
		if !strings.ContainsAny(string(v), ".eE") {
			return obj("type", "integer"), true
		}
		return obj("type", "number"), true
	case []any:
		items, exact := newObject(), false
		if len(v) > 0 {
			items, exact = d.infer(v[0])
		}
		return obj("type", "array", "items", items), exact
	case *object:
		p := newObject()
		exact := true
		for _, k := range v.keys {
			s, e := d.infer(v.vals[k])
			p.set(k, s)
			exact = exact && e
		}
		return obj("type", "object", "properties", p), exact
	}
	return newObject(), false
}

// applyRequest applies the schema side of one op to the request body
// schemas of the operations an endpoint names, and to their encoding.
func (d *doc) applyRequest(id string, ep gates.Endpoint, op gates.Op) {
	if !op.Kind.Body() || op.Kind == gates.KindCustom {
		return
	}
	paths := d.root.child("paths")
	var names []string
	if paths != nil {
		for _, p := range paths.keys {
			if pathMatches(ep.Path, p) {
				names = append(names, p)
			}
		}
	}
	sort.Strings(names)
	found := false
	for _, p := range names {
		item := paths.child(p)
		for _, method := range []string{"get", "put", "post", "delete", "patch"} {
			if ep.Method != "*" && !strings.EqualFold(ep.Method, method) {
				continue
			}
			body := d.resolve(item.child(method).get("requestBody"))
			content := body.child("content")
			if content == nil {
				continue
			}
			for _, ct := range sortedKeys(content) {
				media := content.child(ct)
				schema := media.child("schema")
				if schema == nil {
					continue
				}
				if schema.has("$ref") {
					// The request schema may be shared, with a resource
					// schema say: edit a copy of it.
					r := d.resolve(schema)
					if r == nil {
						continue
					}
					schema = deepCopy(r).(*object)
					media.set("schema", schema)
				}
				found = true
				d.applyTo(id, strings.ToUpper(method)+" "+p+" ("+ct+")", schema, op, true)
				d.applyEncoding(media, d.resolve(schema), op)
			}
		}
	}
	if !found {
		d.disagreeAt(d.changePos, id, "endpoint "+ep.String(), "no request body for the endpoint in the document")
	}
}

// applyEncoding keeps a request media type's encoding map (keyed by
// top-level property) in step with the op: a renamed property's entry
// follows it, an added one's goes, and a put-back object or array gets the
// style its siblings use.
func (d *doc) applyEncoding(media, schema *object, op gates.Op) {
	enc := media.child("encoding")
	if enc == nil {
		return
	}
	top := func(p string) (string, bool) {
		k, rest, nested := strings.Cut(p, ".")
		return strings.TrimSuffix(k, "[]"), !nested && !strings.HasSuffix(k, "[]") && rest == ""
	}
	switch op.Kind {
	case gates.KindRename:
		f, fTop := top(op.Field)
		w, wTop := top(op.Was)
		if f == w || !fTop || !enc.has(f) {
			return
		}
		if wTop && !enc.has(w) {
			enc.rename(f, w)
		} else if !props(schema).has(f) {
			enc.del(f)
		}
	case gates.KindAdded:
		if f, fTop := top(op.Field); fTop && !props(schema).has(f) {
			enc.del(f)
		}
	case gates.KindRemoved:
		f, fTop := top(op.Field)
		if !fTop || enc.has(f) {
			return
		}
		p := d.resolve(props(schema).get(f))
		if p == nil {
			return
		}
		t := typeOf(p)
		if t != "object" && t != "array" && d.object(p) == nil {
			return
		}
		// Use the style the document gives its other structured fields.
		for _, k := range enc.keys {
			if e := enc.child(k); e != nil && e.has("style") {
				enc.set(f, deepCopy(e))
				return
			}
		}
	}
}

// typeOf returns a schema's type ("" when it has none), the non-null one
// of an OpenAPI 3.1 type list.
func typeOf(p *object) string {
	switch t := p.get("type").(type) {
	case string:
		return t
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok && s != "null" {
				return s
			}
		}
	}
	return ""
}

// hasType reports whether the schema p fits the timeline type t (a schema
// with no type, or a combined one, fits anything).
func hasType(p *object, t gates.Type) bool {
	have := typeOf(p)
	switch {
	case have == "":
		return true
	case t == gates.Decimal:
		return have == "string"
	case t == gates.Number:
		return have == "number" || have == "integer"
	}
	return have == string(t)
}

// pathMatches reports whether an endpoint path ("/v1/customers/:id" or
// "/v1/customers/{id}") matches a path template of the document
// ("/v1/customers/{customer}"): parameters match parameters, whatever
// their names.
func pathMatches(pattern, template string) bool {
	ps := strings.Split(strings.Trim(pattern, "/"), "/")
	ts := strings.Split(strings.Trim(template, "/"), "/")
	if len(ps) != len(ts) {
		return false
	}
	for i, p := range ps {
		param := strings.HasPrefix(ts[i], "{") && strings.HasSuffix(ts[i], "}")
		switch {
		case gates.IsParam(p):
			if !param {
				return false
			}
		case p != ts[i]:
			return false
		}
	}
	return true
}

func sortedKeys(m *object) []string {
	out := slices.Clone(m.keys)
	sort.Strings(out)
	return out
}

// fromSchema returns the schema of the value a removed op's from path
// reaches (an index steps into an array's items) and whether it is always
// there.
func (d *doc) fromSchema(s *object, from string) (*object, bool) {
	cur, always := s, true
	var at *object
	for i, step := range gates.SplitFromPath(from) {
		if i > 0 {
			if at = d.resolve(at); at == nil {
				return nil, false
			}
			if strings.Trim(step, "0123456789") == "" && typeOf(at) == "array" {
				at, always = d.resolve(at.get("items")), false
				continue
			}
			if cur = d.object(at); cur == nil {
				return nil, false
			}
		}
		h := d.holder(cur, step)
		if h == nil {
			return nil, false
		}
		always = always && isRequired(h, step)
		at, _ = h.child("properties").get(step).(*object)
		if at == nil {
			return nil, false
		}
	}
	return d.resolve(at), always
}

// nullable returns s, or a copy of it, that also allows null.
func (d *doc) nullable(s *object) *object {
	s = deepCopy(s).(*object)
	if d.v31 {
		switch t := s.get("type").(type) {
		case string:
			s.set("type", []any{t, "null"})
		case []any:
			if !slices.Contains(t, any("null")) {
				s.set("type", append(t, "null"))
			}
		}
		return s
	}
	s.set("nullable", true)
	return s
}

// lift applies a nest op walking back: the members of the object schema
// at op.Field move out into the schema holding it, which drops the
// wrapper when it ends empty. A member stays required when it was, in a
// wrapper that was.
func (d *doc) lift(id, where string, s *object, op gates.Op) {
	h, key, _ := d.field(s, op.Field, false)
	if h == nil {
		d.disagree(id, where, "nest: %s is not in the schema", op.Field)
		return
	}
	w := d.object(d.own(h, key))
	if w == nil {
		d.disagree(id, where, "nest: %s is not an object in the schema", op.Field)
		return
	}
	wreq := isRequired(h, key)
	members := op.Members
	if len(members) == 0 {
		members = slices.Clone(props(w).keys)
		if where != gates.ErrorResource {
			members = slices.DeleteFunc(members, func(k string) bool { return k == d.typeField })
		}
	}
	for _, m := range members {
		p := props(w).get(m)
		if p == nil {
			d.disagree(id, where, "nest: %s.%s is not in the schema", op.Field, m)
			continue
		}
		props(h).set(m, p)
		if wreq && isRequired(w, m) {
			addRequired(h, m)
		} else {
			removeRequired(h, m)
		}
		delete1(w, m)
	}
	if len(props(w).keys) == 0 {
		delete1(h, key)
	}
}

// collapse applies a collapse op walking back: the embedded object's
// schema at op.Field becomes the schema of its id. In a request schema
// whose newer version takes the id in op.IDField, that field is renamed
// back to op.Field instead.
func (d *doc) collapse(id, where string, s *object, op gates.Op, request bool) {
	if request && op.IDField != "" {
		alt := op.IDField
		if i := strings.LastIndexByte(op.Field, '.'); i >= 0 {
			alt = op.Field[:i+1] + op.IDField
		}
		h, key, _ := d.field(s, alt, false)
		if h == nil {
			d.disagree(id, where, "collapse: %s is not in the schema", alt)
			return
		}
		_, last, _ := d.field(s, op.Field, false)
		props(h).del(last)
		props(h).rename(key, last)
		for i, r := range h.list("required") {
			if r == key {
				h.list("required")[i] = last
			}
		}
		return
	}
	h, key, _ := d.field(s, op.Field, false)
	if h == nil {
		d.disagree(id, where, "collapse: %s is not in the schema", op.Field)
		return
	}
	o := d.object(d.resolve(props(h).get(key)))
	var idSchema *object
	if o != nil {
		if ih := d.holder(o, op.CollapseKey()); ih != nil {
			idSchema = d.resolve(ih.child("properties").get(op.CollapseKey()))
		}
	}
	if idSchema == nil {
		d.disagree(id, where, "collapse: %s has no %s in the schema", op.Field, op.CollapseKey())
		idSchema = obj("type", "string")
	}
	n := deepCopy(idSchema).(*object)
	if p, ok := props(h).get(key).(*object); ok && p.str("description") != "" && !n.has("description") {
		n.set("description", p.str("description"))
	}
	props(h).set(key, n)
}

// errorSchemas returns the schemas of error bodies, each once: the
// resource schemas of "error" (x-resourceId or components.schemas.error)
// and the JSON schemas of every response that is not 2xx, in the paths'
// operations and in components.responses, with $ref followed.
func (d *doc) errorSchemas() []*object {
	var out []*object
	add := func(s *object) {
		if s != nil && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	primary, _ := d.resourceSchemas(gates.ErrorResource)
	for _, s := range primary {
		add(s)
	}
	responses := func(rs *object) {
		for _, code := range sortedKeys(rs) {
			if strings.HasPrefix(code, "2") {
				continue
			}
			content := d.resolve(rs.get(code)).child("content")
			for _, ct := range sortedKeys(content) {
				if strings.Contains(ct, "json") {
					add(d.resolve(content.child(ct).get("schema")))
				}
			}
		}
	}
	if paths := d.root.child("paths"); paths != nil {
		for _, p := range sortedKeys(paths) {
			item := paths.child(p)
			for _, method := range []string{"get", "put", "post", "delete", "patch"} {
				if rs := item.child(method).child("responses"); rs != nil {
					responses(rs)
				}
			}
		}
	}
	if rs := d.root.child("components").child("responses"); rs != nil {
		for _, name := range sortedKeys(rs) {
			r := d.resolve(rs.get(name))
			for _, ct := range sortedKeys(r.child("content")) {
				if strings.Contains(ct, "json") {
					add(d.resolve(r.child("content").child(ct).get("schema")))
				}
			}
		}
	}
	return out
}

// applyError applies an op of a change to resource "error" to the schemas
// of error bodies, as the engine walks them: a nest to the whole body,
// any other op to its error object (the body's "error" property when it
// is an object, else the body).
func (d *doc) applyError(id string, op gates.Op) {
	schemas := d.errorSchemas()
	if len(schemas) == 0 {
		d.disagreeAt(d.changePos, id, gates.ErrorResource, "no schema for error bodies (a non-2xx response, x-resourceId: error or components.schemas.error)")
		return
	}
	for _, s := range schemas {
		target := s
		if op.Kind != gates.KindNest {
			if h := d.holder(s, gates.ErrorResource); h != nil {
				if e := d.object(d.resolve(h.child("properties").get(gates.ErrorResource))); e != nil {
					target = e
				}
			}
		}
		d.applyTo(id, gates.ErrorResource, target, op, false)
	}
}
