package gates

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/verso-api/verso/versions"
)

// MaxFileSize bounds the size of a timeline file Load accepts.
const MaxFileSize = 8 << 20

// LoadFile reads and loads a YAML timeline file.
func LoadFile(path string, opts *Options) (*Timeline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Load(path, data, opts)
}

// Load parses and validates a YAML timeline. filename is used in error
// positions only. The error, if any, is an ErrorList.
func Load(filename string, data []byte, opts *Options) (*Timeline, error) {
	var funcs *Registry
	if opts != nil {
		funcs = opts.Funcs
	}
	l := &loader{file: filename}
	if len(data) > MaxFileSize {
		l.errs.add(Pos{File: filename}, "", "file is larger than %d bytes", MaxFileSize)
		return nil, l.errs.Err()
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		l.errs.add(Pos{File: filename, Line: 1, Col: 1}, "", "empty file: want a mapping with `versions`")
		return nil, l.errs.Err()
	} else if err != nil {
		l.errs.add(l.yamlErrPos(err), "", "%s", yamlErrMsg(err))
		return nil, l.errs.Err()
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		l.errs.add(l.pos(&extra), "", "more than one YAML document: a timeline is one document")
		return nil, l.errs.Err()
	}
	if len(doc.Content) == 0 {
		l.errs.add(Pos{File: filename, Line: 1, Col: 1}, "", "empty file: want a mapping with `versions`")
		return nil, l.errs.Err()
	}
	spec := l.timeline(doc.Content[0])
	if len(l.errs) > 0 {
		return nil, l.errs.Err()
	}
	var stubbed []string
	if opts != nil && opts.StubMissing {
		funcs, stubbed = withStubs(funcs, spec.Versions)
	}
	t := build(spec, funcs, opts.without(), &l.errs)
	if err := l.errs.Err(); err != nil {
		return nil, err
	}
	t.stubbed = stubbed
	return t, nil
}

type loader struct {
	file string
	errs ErrorList
}

func (l *loader) pos(n *yaml.Node) Pos { return Pos{File: l.file, Line: n.Line, Col: n.Column} }

func (l *loader) yamlErrPos(err error) Pos {
	// yaml.v3 reports "yaml: line N: message".
	msg := err.Error()
	if te, ok := errors.AsType[*yaml.TypeError](err); ok && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	if i := strings.Index(msg, "line "); i >= 0 {
		rest := msg[i+5:]
		j := strings.IndexByte(rest, ':')
		if j > 0 {
			if n, err := strconv.Atoi(rest[:j]); err == nil {
				return Pos{File: l.file, Line: n, Col: 1}
			}
		}
	}
	return Pos{File: l.file}
}

func yamlErrMsg(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if i := strings.Index(msg, "line "); i == 0 {
		if j := strings.Index(msg, ": "); j > 0 {
			msg = msg[j+2:]
		}
	}
	return "malformed YAML: " + msg
}

// mapping checks that n is a mapping with only the allowed keys and returns
// its entries by key.
func (l *loader) mapping(n *yaml.Node, what, change string, allowed ...string) map[string]*yaml.Node {
	n = resolveAlias(n)
	if n.Kind != yaml.MappingNode {
		l.errs.add(l.pos(n), change, "%s: want a mapping, got %s", what, kindName(n))
		return nil
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !contains(allowed, k.Value) {
			l.errs.add(l.pos(k), change, "%s: unknown key %q (allowed: %s)", what, k.Value, strings.Join(allowed, ", "))
			continue
		}
		if _, dup := out[k.Value]; dup {
			l.errs.add(l.pos(k), change, "%s: key %q given twice", what, k.Value)
			continue
		}
		out[k.Value] = resolveAlias(v)
	}
	return out
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

func (l *loader) str(n *yaml.Node, what, change string) string {
	if n == nil {
		return ""
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		l.errs.add(l.pos(n), change, "%s: want a string, got %s", what, kindName(n))
		return ""
	}
	return n.Value
}

func (l *loader) strList(n *yaml.Node, what, change string) []string {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		return []string{n.Value}
	}
	if n.Kind != yaml.SequenceNode {
		l.errs.add(l.pos(n), change, "%s: want a list of strings, got %s", what, kindName(n))
		return nil
	}
	var out []string
	for _, c := range n.Content {
		if s := l.str(resolveAlias(c), what, change); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (l *loader) timeline(root *yaml.Node) Spec {
	m := l.mapping(root, "timeline", "", "api", "header", "type_field", "list_field", "after_sunset", "errors", "versions")
	var spec Spec
	if m == nil {
		return spec
	}
	spec.API = l.str(m["api"], "api", "")
	spec.Header = l.str(m["header"], "header", "")
	if n := m["after_sunset"]; n != nil {
		if s := l.str(n, "after_sunset", ""); s != "" {
			p, err := ParseSunsetPolicy(s)
			if err != nil {
				l.errs.add(l.pos(n), "", "after_sunset: %v", err)
			}
			spec.AfterSunset = p
		}
	}
	spec.TypeField = l.key(m["type_field"], "type_field")
	spec.ListField = l.key(m["list_field"], "list_field")
	if n := m["errors"]; n != nil {
		spec.ErrorShape = l.errorShape(n)
	}
	vs := m["versions"]
	if vs == nil {
		l.errs.add(l.pos(root), "", "missing key %q", "versions")
		return spec
	}
	if vs.Kind != yaml.SequenceNode {
		l.errs.add(l.pos(vs), "", "versions: want a list, newest first, got %s", kindName(vs))
		return spec
	}
	for _, vn := range vs.Content {
		spec.Versions = append(spec.Versions, l.version(resolveAlias(vn)))
	}
	return spec
}

// key reads a member name such as type_field; a bad one is reported here,
// with its position, and left out of the spec.
func (l *loader) key(n *yaml.Node, what string) string {
	if n == nil {
		return ""
	}
	s := l.str(n, what, "")
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		if err := CheckKey(s); err != nil {
			l.errs.add(l.pos(n), "", "%s: %v", what, err)
			return ""
		}
	}
	return s
}

func (l *loader) version(n *yaml.Node) Version {
	v := Version{Pos: l.pos(n)}
	m := l.mapping(n, "version", "", "version", "deprecated", "sunset", "changes")
	if m == nil {
		return v
	}
	vn := m["version"]
	if vn == nil {
		l.errs.add(l.pos(n), "", "missing key %q", "version")
		return v
	}
	s := l.str(vn, "version", "")
	if s != "" {
		pv, err := versions.Parse(s)
		if err != nil {
			l.errs.add(l.pos(vn), "", "%v", err)
		}
		v.ID = pv
		v.Pos = l.pos(vn)
	}
	v.Deprecated = l.date(m["deprecated"], "deprecated")
	v.Sunset = l.date(m["sunset"], "sunset")
	cs := m["changes"]
	if cs == nil || (cs.Kind == yaml.ScalarNode && cs.Tag == "!!null") {
		return v
	}
	if cs.Kind != yaml.SequenceNode {
		l.errs.add(l.pos(cs), "", "changes: want a list, got %s", kindName(cs))
		return v
	}
	for _, cn := range cs.Content {
		v.Changes = append(v.Changes, l.change(resolveAlias(cn)))
	}
	return v
}

func (l *loader) change(n *yaml.Node) Change {
	c := Change{Pos: l.pos(n)}
	m := l.mapping(n, "change", "", "id", "description", "resources", "endpoints", "ops", "breaking", "behavior")
	if m == nil {
		return c
	}
	if m["id"] == nil {
		l.errs.add(l.pos(n), "", "change: missing key %q", "id")
	}
	c.ID = l.str(m["id"], "id", "")
	if m["description"] == nil {
		l.errs.add(l.pos(n), c.ID, "missing key %q", "description")
	} else {
		c.Description = strings.TrimSpace(l.str(m["description"], "description", c.ID))
		if c.Description == "" {
			l.errs.add(l.pos(m["description"]), c.ID, "empty description: it is what API users read in the changelog")
		}
	}
	c.Resources = l.strList(m["resources"], "resources", c.ID)
	if en := m["endpoints"]; en != nil {
		items := []*yaml.Node{en}
		if en.Kind == yaml.SequenceNode {
			items = en.Content
		}
		for _, in := range items {
			in = resolveAlias(in)
			for _, e := range l.strList(in, "endpoints", c.ID) {
				ep, err := ParseEndpoint(e)
				if err != nil {
					l.errs.add(l.pos(in), c.ID, "%v", err)
					continue
				}
				c.Endpoints = append(c.Endpoints, ep)
			}
		}
	}
	if b := m["breaking"]; b != nil {
		var v bool
		if err := b.Decode(&v); err != nil || b.Kind != yaml.ScalarNode {
			l.errs.add(l.pos(b), c.ID, "breaking: want true or false")
		} else {
			c.Breaking = &v
		}
	}
	if b := m["behavior"]; b != nil {
		var v bool
		if err := b.Decode(&v); err != nil || b.Kind != yaml.ScalarNode {
			l.errs.add(l.pos(b), c.ID, "behavior: want true or false")
		} else if v {
			c.Ops = append(c.Ops, Op{Kind: KindBehavior, Pos: l.pos(b)})
		}
	}
	if ops := m["ops"]; ops != nil {
		if ops.Kind != yaml.SequenceNode {
			l.errs.add(l.pos(ops), c.ID, "ops: want a list, got %s", kindName(ops))
		} else {
			for _, on := range ops.Content {
				if op, ok := l.op(resolveAlias(on), c.ID); ok {
					c.Ops = append(c.Ops, op)
				}
			}
		}
	} else if len(c.Ops) == 0 {
		l.errs.add(l.pos(n), c.ID, "missing key %q", "ops")
	}
	return c
}

// date reads a deprecation or sunset date.
func (l *loader) date(n *yaml.Node, what string) time.Time {
	if n == nil {
		return time.Time{}
	}
	s := l.str(n, what, "")
	if s == "" {
		return time.Time{}
	}
	d, err := parseDate(s)
	if err != nil {
		l.errs.add(l.pos(n), "", "%s: %v", what, err)
	}
	return d
}

// opKeys are the keys each kind's mapping allows, by kind (an array, not a
// map: it needs no code to build at start-up).
var opKeys = [...][]string{
	KindRename:          {"field", "was"},
	KindAdded:           {"field", "default"},
	KindRemoved:         {"field", "default", "from", "custom", "resolve", "schema"},
	KindRetype:          {"field", "was", "now"},
	KindEnum:            {"field", "was"},
	KindCustom:          {"func"},
	KindBehavior:        {},
	KindEndpointAdded:   {"endpoint"},
	KindEndpointRemoved: {"endpoint", "operation"},
	KindEndpointMoved:   {"endpoint", "was"},
	KindStatus:          {"code", "was"},
	KindHeaderRename:    {"name", "was"},
	KindHeaderAdded:     {"name"},
	KindNest:            {"field", "fields"},
	KindCollapse:        {"field", "key", "id_field"},
}

const opNames = "rename, added, removed, retype, enum, nest, collapse, custom, behavior, endpoint_added, endpoint_removed, endpoint_moved, status, header_rename or header_added"

func (l *loader) op(n *yaml.Node, id string) (Op, bool) {
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
		l.errs.add(l.pos(n), id, "op: want a mapping with one key, the op's kind (%s)", opNames)
		return Op{}, false
	}
	kn, body := n.Content[0], resolveAlias(n.Content[1])
	kind, ok := kindByName(kn.Value)
	if !ok {
		l.errs.add(l.pos(kn), id, "unknown op %q (want %s)", kn.Value, opNames)
		return Op{}, false
	}
	op := Op{Kind: kind, Pos: l.pos(kn)}
	name := kind.String()
	switch {
	case kind == KindBehavior && (body.Kind == yaml.ScalarNode):
		return op, true
	case kind == KindCustom && body.Kind == yaml.ScalarNode && body.Tag != "!!null":
		op.Func = body.Value
		return op, true
	case (kind == KindEndpointAdded || kind == KindEndpointRemoved) && body.Kind == yaml.ScalarNode && body.Tag != "!!null":
		op.Endpoint = l.endpoint(body, name+": endpoint", id)
		return op, true
	case kind == KindHeaderAdded && body.Kind == yaml.ScalarNode && body.Tag != "!!null":
		op.Header = body.Value
		return op, true
	case (kind == KindNest || kind == KindCollapse) && body.Kind == yaml.ScalarNode && body.Tag != "!!null":
		op.Field = body.Value
		return op, true
	}
	m := l.mapping(body, name, id, opKeys[kind]...)
	if m == nil {
		return op, false
	}
	field := func(key string) string {
		v, ok := m[key]
		if !ok {
			l.errs.add(l.pos(kn), id, "%s: missing key %q", name, key)
			return ""
		}
		return l.str(v, name+": "+key, id)
	}
	switch kind {
	case KindRename:
		op.Field, op.Was = field("field"), field("was")
	case KindAdded:
		op.Field = field("field")
		op.Default = l.literal(m, "added", id)
	case KindRemoved:
		op.Field = field("field")
		op.Default = l.literal(m, "removed", id)
		if f, ok := m["from"]; ok {
			op.From = l.str(f, "removed: from", id)
		}
		if f, ok := m["custom"]; ok {
			op.Func = l.str(f, "removed: custom", id)
		}
		if f, ok := m["resolve"]; ok {
			op.Resolve = l.str(f, "removed: resolve", id)
		}
		if sn, ok := m["schema"]; ok {
			if sn.Kind != yaml.MappingNode {
				l.errs.add(l.pos(sn), id, "removed: schema: want a mapping (the field's OpenAPI schema), got %s", kindName(sn))
			} else if raw, err := nodeJSON(sn, 0); err != nil {
				l.errs.add(l.pos(sn), id, "removed: schema: %v", err)
			} else {
				op.Schema = raw
			}
		}
	case KindRetype:
		op.Field = field("field")
		op.WasType, op.NowType = Type(field("was")), Type(field("now"))
	case KindEnum:
		op.Field = field("field")
		if w, ok := m["was"]; !ok {
			l.errs.add(l.pos(kn), id, "enum: missing key %q", "was")
		} else if w.Kind != yaml.MappingNode {
			l.errs.add(l.pos(w), id, "enum: was: want a mapping of new value: old value, got %s", kindName(w))
		} else {
			for i := 0; i+1 < len(w.Content); i += 2 {
				op.Values = append(op.Values, EnumValue{Now: w.Content[i].Value, Was: resolveAlias(w.Content[i+1]).Value})
			}
		}
	case KindCustom:
		op.Func = field("func")
	case KindEndpointAdded, KindEndpointRemoved:
		op.Endpoint = l.endpointKey(m, kn, "endpoint", name, id)
		if on, ok := m["operation"]; ok {
			if on.Kind != yaml.MappingNode {
				l.errs.add(l.pos(on), id, "%s: operation: want a mapping (the endpoint's OpenAPI operation object), got %s", name, kindName(on))
			} else if raw, err := nodeJSON(on, 0); err != nil {
				l.errs.add(l.pos(on), id, "%s: operation: %v", name, err)
			} else {
				op.Operation = raw
			}
		}
	case KindEndpointMoved:
		op.Endpoint = l.endpointKey(m, kn, "endpoint", name, id)
		op.WasEndpoint = l.endpointKey(m, kn, "was", name, id)
	case KindStatus:
		op.Code = l.code(m, kn, "code", id)
		op.WasCode = l.code(m, kn, "was", id)
	case KindHeaderRename:
		op.Header, op.WasHeader = field("name"), field("was")
	case KindHeaderAdded:
		op.Header = field("name")
	case KindNest:
		op.Field = field("field")
		if f, ok := m["fields"]; ok {
			if f.Kind != yaml.SequenceNode {
				l.errs.add(l.pos(f), id, "nest: fields: want a list of member names, got %s", kindName(f))
			} else {
				op.Members = l.strList(f, "nest: fields", id)
				if len(op.Members) == 0 {
					l.errs.add(l.pos(f), id, "nest: fields: empty list (leave the key out to move every member)")
				}
			}
		}
	case KindCollapse:
		op.Field = field("field")
		if k, ok := m["key"]; ok {
			op.Key = l.str(k, "collapse: key", id)
		}
		if k, ok := m["id_field"]; ok {
			op.IDField = l.str(k, "collapse: id_field", id)
		}
	}
	return op, true
}

// literal reads the default of an added or removed op as JSON, or nil when
// the op has none.
func (l *loader) literal(m map[string]*yaml.Node, name, id string) json.RawMessage {
	d, ok := m["default"]
	if !ok {
		return nil
	}
	raw, err := nodeJSON(d, 0)
	if err != nil {
		l.errs.add(l.pos(d), id, "%s: default: %v", name, err)
		return json.RawMessage{}
	}
	return raw
}

// endpointKey reads the endpoint under key of an endpoint op's mapping.
func (l *loader) endpointKey(m map[string]*yaml.Node, kn *yaml.Node, key, name, id string) Endpoint {
	n, ok := m[key]
	if !ok {
		l.errs.add(l.pos(kn), id, "%s: missing key %q", name, key)
		return Endpoint{}
	}
	return l.endpoint(n, name+": "+key, id)
}

// endpoint reads "METHOD /path", reporting a malformed one at its node.
func (l *loader) endpoint(n *yaml.Node, what, id string) Endpoint {
	s := l.str(n, what, id)
	if s == "" {
		return Endpoint{}
	}
	e, err := ParseEndpoint(s)
	if err != nil {
		l.errs.add(l.pos(n), id, "%s: %v", what, err)
		return Endpoint{}
	}
	if e.Method == "*" {
		l.errs.add(l.pos(n), id, "%s %q: name one method, not *", what, s)
		return Endpoint{}
	}
	return e
}

// code reads the status code under key of a status op's mapping.
func (l *loader) code(m map[string]*yaml.Node, kn *yaml.Node, key, id string) int {
	n, ok := m[key]
	if !ok {
		l.errs.add(l.pos(kn), id, "status: missing key %q", key)
		return 0
	}
	c, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil || c < 100 || c > 599 {
		l.errs.add(l.pos(n), id, "status: %s: want an HTTP status code (100 to 599), got %s", key, kindName(n))
		return 0
	}
	return c
}

// nodeJSON converts a YAML node to JSON, keeping the key order of mappings
// and the exact digits of numbers.
func nodeJSON(n *yaml.Node, depth int) (json.RawMessage, error) {
	if depth > 64 {
		return nil, errors.New("nested too deep")
	}
	n = resolveAlias(n)
	var b bytes.Buffer
	switch n.Kind {
	case yaml.MappingNode:
		b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(n.Content[i].Value)
			b.Write(k)
			b.WriteByte(':')
			v, err := nodeJSON(n.Content[i+1], depth+1)
			if err != nil {
				return nil, err
			}
			b.Write(v)
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			v, err := nodeJSON(c, depth+1)
			if err != nil {
				return nil, err
			}
			b.Write(v)
		}
		b.WriteByte(']')
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			b.WriteString("null")
		case "!!bool":
			var v bool
			if err := n.Decode(&v); err != nil {
				return nil, err
			}
			b.WriteString(strconv.FormatBool(v))
		case "!!int", "!!float":
			if json.Valid([]byte(n.Value)) {
				b.WriteString(n.Value)
				break
			}
			var f float64
			if err := n.Decode(&f); err != nil {
				return nil, err
			}
			v, err := json.Marshal(f)
			if err != nil {
				return nil, fmt.Errorf("number %q has no JSON form", n.Value)
			}
			b.Write(v)
		default:
			v, _ := json.Marshal(n.Value)
			b.Write(v)
		}
	default:
		return nil, errors.New("unsupported YAML node")
	}
	return b.Bytes(), nil
}
