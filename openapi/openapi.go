package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
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

// Result is a derived document and what could not be derived.
type Result struct {
	// JSON is the derived OpenAPI document, indented, keys sorted.
	JSON []byte
	// Warnings name the ops whose schema side could not be applied: a
	// resource with no schema, a field the schema does not have, a custom
	// op (whose shape only its Go function knows).
	Warnings []string
}

// Derive returns the OpenAPI document (JSON) of version to, derived from
// spec, the newest version's document (JSON or YAML), by applying the
// schema side of each op of the versions newer than to, newest first, as
// the engine walks a response back: renamed properties (in properties and
// required), removed properties put back (typed from the default literal or
// copied from the from property's schema), added properties removed,
// retyped fields, renamed enum values. A resource's schema is the one in
// components.schemas whose x-resourceId is the resource, or else the one
// named like it. info.version is set to to. Ops that cannot be applied are
// left out silently; DeriveResult reports them. The ops of a change with
// endpoints also apply to those operations' request body schemas.
func Derive(spec []byte, tl *gates.Timeline, to versions.Version) ([]byte, error) {
	r, err := DeriveResult(spec, tl, to)
	if err != nil {
		return nil, err
	}
	return r.JSON, nil
}

// DeriveResult is Derive, with the warnings.
func DeriveResult(spec []byte, tl *gates.Timeline, to versions.Version) (*Result, error) {
	if tl == nil {
		return nil, errors.New("openapi: no timeline")
	}
	vt := tl.Versions()
	if !vt.Contains(to) {
		return nil, fmt.Errorf("openapi: %w %s; supported versions: %s", versions.ErrUnknownVersion, to, vt.Supported())
	}
	root, err := parse(spec)
	if err != nil {
		return nil, err
	}
	d := &doc{root: root}
	ov, _ := root["openapi"].(string)
	d.v31 = strings.HasPrefix(ov, "3.1")
	if c, ok := root["components"].(map[string]any); ok {
		d.schemas, _ = c["schemas"].(map[string]any)
	}
	for _, v := range tl.Between(to, tl.Newest()) {
		for ci := len(v.Changes) - 1; ci >= 0; ci-- {
			c := &v.Changes[ci]
			for oi := len(c.Ops) - 1; oi >= 0; oi-- {
				for _, r := range c.Resources {
					d.apply(c.ID, r, c.Ops[oi])
				}
				for _, ep := range c.Endpoints {
					d.applyRequest(c.ID, ep, c.Ops[oi])
				}
			}
		}
	}
	info, ok := root["info"].(map[string]any)
	if !ok {
		info = map[string]any{}
		root["info"] = info
	}
	info["version"] = to.String()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("openapi: encode: %w", err)
	}
	return &Result{JSON: buf.Bytes(), Warnings: d.warnings}, nil
}

// parse reads JSON (numbers kept exact) or YAML into maps and slices.
func parse(spec []byte) (map[string]any, error) {
	trimmed := bytes.TrimSpace(spec)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("openapi: %w: empty input", ErrSyntax)
	}
	var v any
	if trimmed[0] == '{' || trimmed[0] == '[' {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("openapi: %w: %v", ErrSyntax, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("openapi: %w: data after the document", ErrSyntax)
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
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("openapi: %w: the top level is not a mapping", ErrNotOpenAPI)
	}
	ov, ok := m["openapi"].(string)
	switch {
	case !ok && m["swagger"] != nil:
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

// yamlConv turns a YAML node tree into what encoding/json would decode,
// keeping numbers exactly as written.
type yamlConv struct{ nodes int }

func (c *yamlConv) value(n *yaml.Node, depth int) (any, error) {
	c.nodes++
	if depth > 10000 || c.nodes > maxYAMLNodes {
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
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := c.value(n.Content[i+1], depth+1)
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = v
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
	root     map[string]any
	schemas  map[string]any
	v31      bool
	warnings []string
}

func (d *doc) warnf(id, format string, args ...any) {
	d.warnings = append(d.warnings, id+": "+fmt.Sprintf(format, args...))
}

// resourceSchemas returns the schemas of a resource, by x-resourceId or
// name, in name order.
func (d *doc) resourceSchemas(resource string) []map[string]any {
	names := make([]string, 0, len(d.schemas))
	for n := range d.schemas {
		names = append(names, n)
	}
	sort.Strings(names)
	var byID, byName []map[string]any
	for _, n := range names {
		s, ok := d.schemas[n].(map[string]any)
		if !ok {
			continue
		}
		if id, _ := s["x-resourceId"].(string); id == resource {
			byID = append(byID, s)
		} else if n == resource && id == "" {
			byName = append(byName, s)
		}
	}
	if len(byID) > 0 {
		return byID
	}
	return byName
}

// resolve follows $ref within the document.
func (d *doc) resolve(v any) map[string]any {
	for range 32 {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		ref, ok := m["$ref"].(string)
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
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// holder returns the object schema among s and its allOf, anyOf and oneOf
// members whose properties hold key.
func (d *doc) holder(s map[string]any, key string) map[string]any {
	return d.holderDepth(s, key, 0)
}

// maxDepth bounds how deeply holder and object look into combined schemas,
// which $ref can make cyclic.
const maxDepth = 16

func (d *doc) holderDepth(s map[string]any, key string, depth int) map[string]any {
	if depth > maxDepth {
		return nil
	}
	if props, ok := s["properties"].(map[string]any); ok {
		if _, ok := props[key]; ok {
			return s
		}
	}
	for _, comb := range []string{"allOf", "anyOf", "oneOf"} {
		list, _ := s[comb].([]any)
		for _, x := range list {
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
func (d *doc) object(s map[string]any) map[string]any {
	return d.objectDepth(s, 0)
}

func (d *doc) objectDepth(s map[string]any, depth int) map[string]any {
	if s == nil || depth > maxDepth {
		return nil
	}
	if _, ok := s["properties"]; ok {
		return s
	}
	for _, comb := range []string{"allOf", "anyOf", "oneOf"} {
		list, _ := s[comb].([]any)
		for _, x := range list {
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
// would hold) the field after them. With create, missing levels are added
// as object schemas.
func (d *doc) parent(s map[string]any, segs []seg, create bool) map[string]any {
	cur := s
	for _, sg := range segs {
		h := d.holder(cur, sg.key)
		var next map[string]any
		if h != nil {
			next = d.resolve(h["properties"].(map[string]any)[sg.key])
		} else if create && !sg.each {
			next = map[string]any{"type": "object", "properties": map[string]any{}}
			props(cur)[sg.key] = next
		}
		if next == nil {
			return nil
		}
		if sg.each {
			next = d.resolve(next["items"])
		}
		if next = d.object(next); next == nil {
			return nil
		}
		cur = next
	}
	return cur
}

func sameMap(a, b map[string]any) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

func props(s map[string]any) map[string]any {
	p, ok := s["properties"].(map[string]any)
	if !ok {
		p = map[string]any{}
		s["properties"] = p
	}
	return p
}

func isRequired(s map[string]any, key string) bool {
	req, _ := s["required"].([]any)
	return slices.Contains(req, any(key))
}

func removeRequired(s map[string]any, key string) {
	req, ok := s["required"].([]any)
	if !ok {
		return
	}
	req = slices.DeleteFunc(req, func(x any) bool { return x == key })
	if len(req) == 0 {
		delete(s, "required")
		return
	}
	s["required"] = req
}

func addRequired(s map[string]any, key string) {
	if isRequired(s, key) {
		return
	}
	req, _ := s["required"].([]any)
	s["required"] = append(req, key)
}

// field finds the schema holding the last segment of path in s; it
// returns the holder and the key.
func (d *doc) field(s map[string]any, path string, create bool) (map[string]any, string) {
	segs := parsePath(path)
	last := segs[len(segs)-1].key
	p := d.parent(s, segs[:len(segs)-1], create)
	if p == nil {
		return nil, last
	}
	if h := d.holder(p, last); h != nil {
		return h, last
	}
	if create {
		return p, last
	}
	return nil, last
}

// own returns the property schema of key in h, replacing a $ref by a copy
// of its target so that editing it changes only this property.
func (d *doc) own(h map[string]any, key string) map[string]any {
	pr := props(h)
	m, ok := pr[key].(map[string]any)
	if !ok {
		return nil
	}
	if _, isRef := m["$ref"]; isRef {
		t := d.resolve(m)
		if t == nil {
			return nil
		}
		m = deepCopy(t).(map[string]any)
		pr[key] = m
	}
	return m
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, x := range v {
			s[i] = deepCopy(x)
		}
		return s
	}
	return v
}

// apply applies the schema side of one op, walking back, to every schema
// of the resource.
func (d *doc) apply(id, resource string, op gates.Op) {
	if op.Kind == gates.KindBehavior {
		return
	}
	if op.Kind == gates.KindCustom {
		d.warnf(id, "custom %s: the schema of %s is left as it is", op.Func, resource)
		return
	}
	schemas := d.resourceSchemas(resource)
	if len(schemas) == 0 {
		d.warnf(id, "no schema for resource %s (x-resourceId or components.schemas.%s)", resource, resource)
		return
	}
	for _, s := range schemas {
		d.applyTo(id, resource, s, op)
	}
}

func (d *doc) applyTo(id, resource string, s map[string]any, op gates.Op) {
	missing := func(path string) { d.warnf(id, "%s: %s is not in the schema of %s", op.Kind, path, resource) }
	switch op.Kind {
	case gates.KindRename:
		h, key := d.field(s, op.Field, false)
		if h == nil {
			missing(op.Field)
			return
		}
		prop := props(h)[key]
		req := isRequired(h, key)
		dst, dkey := d.field(s, op.Was, true)
		if dst == nil {
			d.warnf(id, "rename: cannot place %s.%s in the schema", resource, op.Was)
			return
		}
		delete(props(h), key)
		if sameMap(dst, h) && req {
			// Keep the required list's order: rename in place.
			reqs := h["required"].([]any)
			for i, r := range reqs {
				if r == key {
					reqs[i] = dkey
				}
			}
		} else if req {
			removeRequired(h, key)
			addRequired(dst, dkey)
		}
		props(dst)[dkey] = prop
	case gates.KindAdded:
		h, key := d.field(s, op.Field, false)
		if h == nil {
			missing(op.Field)
			return
		}
		delete(props(h), key)
		removeRequired(h, key)
	case gates.KindRemoved:
		h, key := d.field(s, op.Field, true)
		if h == nil {
			d.warnf(id, "removed: cannot place %s.%s in the schema", resource, op.Field)
			return
		}
		if _, ok := props(h)[key]; ok {
			// The newest document still describes the field (an
			// expandable one, say): its schema says more than a default.
			return
		}
		var schema any
		switch {
		case op.From != "":
			fh, fkey := d.field(s, op.From, false)
			if fh == nil {
				d.warnf(id, "removed: %s.%s (to copy %s from) is not in the schema", resource, op.From, op.Field)
				schema = map[string]any{}
			} else {
				schema = deepCopy(props(fh)[fkey])
			}
		case op.Func != "":
			d.warnf(id, "removed: %s.%s is put back by custom %s; its schema is left open", resource, op.Field, op.Func)
			schema = map[string]any{}
		default:
			dec := json.NewDecoder(bytes.NewReader(op.Default))
			dec.UseNumber()
			var lit any
			if err := dec.Decode(&lit); err != nil {
				d.warnf(id, "removed: default of %s.%s: %v", resource, op.Field, err)
				schema = map[string]any{}
			} else {
				schema = d.infer(lit)
			}
		}
		props(h)[key] = schema
	case gates.KindRetype:
		h, key := d.field(s, op.Field, false)
		if h == nil {
			missing(op.Field)
			return
		}
		if p := d.own(h, key); p != nil {
			retype(p, op.WasType)
		}
	case gates.KindEnum:
		h, key := d.field(s, op.Field, false)
		if h == nil {
			missing(op.Field)
			return
		}
		p := d.own(h, key)
		if p == nil {
			return
		}
		target := p
		if _, ok := p["enum"]; !ok && p["items"] != nil {
			// An array of enum values.
			if it, ok := p["items"].(map[string]any); ok {
				if _, isRef := it["$ref"]; isRef {
					if r := d.resolve(it); r != nil {
						it = deepCopy(r).(map[string]any)
						p["items"] = it
					}
				}
				target = it
			}
		}
		was := map[string]string{}
		for _, v := range op.Values {
			was[v.Now] = v.Was
		}
		if list, ok := target["enum"].([]any); ok {
			for i, x := range list {
				if s, ok := x.(string); ok {
					if w, ok := was[s]; ok {
						list[i] = w
					}
				}
			}
		} else {
			d.warnf(id, "enum: %s.%s has no enum list in the schema", resource, op.Field)
		}
		if s, ok := target["default"].(string); ok {
			if w, ok := was[s]; ok {
				target["default"] = w
			}
		}
	}
}

// infer returns a schema for a default literal.
func (d *doc) infer(v any) map[string]any {
	switch v := v.(type) {
	case nil:
		if d.v31 {
			return map[string]any{"type": "null"}
		}
		return map[string]any{"nullable": true}
	case bool:
		return map[string]any{"type": "boolean"}
	case string:
		return map[string]any{"type": "string"}
	case json.Number:
		if !strings.ContainsAny(string(v), ".eE") {
			return map[string]any{"type": "integer"}
		}
		return map[string]any{"type": "number"}
	case []any:
		items := map[string]any{}
		if len(v) > 0 {
			items = d.infer(v[0])
		}
		return map[string]any{"type": "array", "items": items}
	case map[string]any:
		p := make(map[string]any, len(v))
		for k, x := range v {
			p[k] = d.infer(x)
		}
		return map[string]any{"type": "object", "properties": p}
	}
	return map[string]any{}
}

// applyRequest applies the schema side of one op to the request body
// schemas of the operations an endpoint names.
func (d *doc) applyRequest(id string, ep gates.Endpoint, op gates.Op) {
	if op.Kind == gates.KindBehavior || op.Kind == gates.KindCustom {
		return
	}
	paths, _ := d.root["paths"].(map[string]any)
	names := make([]string, 0, len(paths))
	for p := range paths {
		if pathMatches(ep.Path, p) {
			names = append(names, p)
		}
	}
	sort.Strings(names)
	found := false
	for _, p := range names {
		item, _ := paths[p].(map[string]any)
		for _, method := range []string{"get", "put", "post", "delete", "patch"} {
			if ep.Method != "*" && !strings.EqualFold(ep.Method, method) {
				continue
			}
			operation, _ := item[method].(map[string]any)
			body := d.resolve(operation["requestBody"])
			content, _ := body["content"].(map[string]any)
			for _, ct := range sortedKeys(content) {
				media, _ := content[ct].(map[string]any)
				schema, ok := media["schema"].(map[string]any)
				if !ok {
					continue
				}
				if _, isRef := schema["$ref"]; isRef {
					// The request schema may be shared, with a resource
					// schema say: edit a copy of it.
					r := d.resolve(schema)
					if r == nil {
						continue
					}
					schema = deepCopy(r).(map[string]any)
					media["schema"] = schema
				}
				found = true
				d.applyTo(id, strings.ToUpper(method)+" "+p+" ("+ct+")", schema, op)
			}
		}
	}
	if !found {
		d.warnf(id, "no request body for endpoint %s in the document", ep)
	}
}

// pathMatches reports whether an endpoint path ("/v1/customers/:id")
// matches a path template of the document ("/v1/customers/{customer}").
func pathMatches(pattern, template string) bool {
	ps := strings.Split(strings.Trim(pattern, "/"), "/")
	ts := strings.Split(strings.Trim(template, "/"), "/")
	if len(ps) != len(ts) {
		return false
	}
	for i, p := range ps {
		param := strings.HasPrefix(ts[i], "{") && strings.HasSuffix(ts[i], "}")
		switch {
		case strings.HasPrefix(p, ":"):
			if !param {
				return false
			}
		case p != ts[i]:
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
