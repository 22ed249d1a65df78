package apierror

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/verso-api/verso/internal/jsonstr"
)

// Shape is how an API writes its errors. The zero Shape writes Stripe's
// and stands for "not chosen" where a default applies (IsZero).
//
//	stripe   {"error":{"type":"invalid_request_error","code":"resource_missing","message":"...","param":"id"}}
//	problem  {"type":"about:blank","title":"Not Found","status":404,"detail":"...","code":"resource_missing","param":"id"}
//	         (RFC 9457, application/problem+json)
//	flat     {"message":"...","code":"resource_missing","type":"invalid_request_error","param":"id"}
//
// Any other shape is a Template. A Shape is a value, safe for concurrent
// use.
type Shape struct {
	kind        shapeKind
	typeBase    string // problem: the URI prefix of "type", before the code
	contentType string
	tmpl        *template
}

type shapeKind uint8

const (
	kindUnset shapeKind = iota // written as Stripe's
	kindStripe
	kindProblem
	kindFlat
	kindTemplate
)

// Stripe returns Stripe's shape, {"error":{...}}: the default, chosen
// explicitly (it is not IsZero).
func Stripe() Shape { return Shape{kind: kindStripe} }

// IsZero reports whether s is the zero Shape, no shape chosen: it writes
// Stripe's, and a config field holding it takes its default.
func (s Shape) IsZero() bool { return s == Shape{} }

// Flat returns the flat shape, {"message":...,"code":...,"type":...,"param":...}.
func Flat() Shape { return Shape{kind: kindFlat} }

// Problem returns RFC 9457 problem details, served as
// application/problem+json: "type" is typeBase followed by the error's
// code, or "about:blank" when typeBase is empty; "title" the status's
// text, "status", "detail" the message; "code" and "param" are extension
// members.
func Problem(typeBase string) Shape { return Shape{kind: kindProblem, typeBase: typeBase} }

// ParseShape returns the built-in shape named name: "stripe" (or ""),
// "problem" or "flat".
func ParseShape(name string) (Shape, error) {
	switch name {
	case "", "stripe":
		return Stripe(), nil
	case "problem":
		return Problem(""), nil
	case "flat":
		return Flat(), nil
	}
	return Shape{}, fmt.Errorf("apierror: unknown error shape %q (want stripe, problem or flat, or a template)", name)
}

// Name returns "stripe", "problem", "flat" or "template".
func (s Shape) Name() string {
	switch s.kind {
	case kindProblem:
		return "problem"
	case kindFlat:
		return "flat"
	case kindTemplate:
		return "template"
	}
	return "stripe"
}

// ContentType returns the media type of the shape's bodies.
func (s Shape) ContentType() string {
	switch {
	case s.contentType != "":
		return s.contentType
	case s.kind == kindProblem:
		return "application/problem+json"
	}
	return "application/json"
}

// Wrapper returns the member that holds the error's fields, "error" for
// Stripe's shape, or "" when they sit at the top level of the body (and,
// for a template, the member its placeholders sit under when they all sit
// under one object).
func (s Shape) Wrapper() string {
	switch s.kind {
	case kindUnset, kindStripe:
		return "error"
	case kindTemplate:
		return s.tmpl.wrapper
	}
	return ""
}

// Marshal returns the JSON body of e in the shape.
func (s Shape) Marshal(e *Error) []byte { return s.Append(nil, e) }

// Append appends the JSON body of e in the shape to dst.
func (s Shape) Append(dst []byte, e *Error) []byte {
	switch s.kind {
	case kindProblem:
		typ := "about:blank"
		if s.typeBase != "" && e.Code != "" {
			typ = s.typeBase + e.Code
		}
		dst = append(dst, `{"type":`...)
		dst = appendString(dst, typ)
		dst = append(dst, `,"title":`...)
		dst = appendString(dst, http.StatusText(e.Status))
		dst = append(dst, `,"status":`...)
		dst = strconv.AppendInt(dst, int64(e.Status), 10)
		dst = append(dst, `,"detail":`...)
		dst = appendString(dst, e.Message)
		dst = appendMember(dst, "code", e.Code)
		dst = appendMember(dst, "param", e.Param)
		return append(dst, '}')
	case kindFlat:
		dst = append(dst, `{"message":`...)
		dst = appendString(dst, e.Message)
		dst = appendMember(dst, "code", e.Code)
		dst = appendMember(dst, "type", e.Type)
		dst = appendMember(dst, "param", e.Param)
		return append(dst, '}')
	case kindTemplate:
		return s.tmpl.append(dst, e)
	}
	dst = append(dst, `{"error":{"type":`...)
	dst = appendString(dst, e.Type)
	dst = appendMember(dst, "code", e.Code)
	dst = append(dst, `,"message":`...)
	dst = appendString(dst, e.Message)
	dst = appendMember(dst, "param", e.Param)
	return append(dst, "}}"...)
}

// appendMember appends ,"name":value unless value is empty.
func appendMember(dst []byte, name, value string) []byte {
	if value == "" {
		return dst
	}
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return appendString(dst, value)
}

func appendString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return append(dst, b...)
}

// placeholderNames are the placeholders of a Template, sorted.
var placeholderNames = [...]string{"{code}", "{message}", "{param}", "{status}", "{title}", "{type}"}

// isPlaceholder reports whether s is one of placeholderNames.
func isPlaceholder(s string) bool {
	for _, p := range placeholderNames {
		if p == s {
			return true
		}
	}
	return false
}

// field returns the field of e that placeholder stands for, and whether
// it is written as a string ({status} is a number).
func field(e *Error, placeholder string) (string, bool) {
	switch placeholder {
	case "{type}":
		return e.Type, true
	case "{code}":
		return e.Code, true
	case "{message}":
		return e.Message, true
	case "{param}":
		return e.Param, true
	case "{title}":
		return http.StatusText(e.Status), true
	}
	return strconv.Itoa(e.Status), false
}

// Placeholders lists the placeholders a Template may use.
func Placeholders() []string { return append([]string(nil), placeholderNames[:]...) }

// ErrTemplate is wrapped by every error of Template.
var ErrTemplate = errors.New("apierror: invalid error template")

// Template returns the shape of an API whose errors look like tmpl, a JSON
// object in which string values that are exactly a placeholder ({type},
// {code}, {message}, {param}, {title}, or {status}, written as a number)
// stand for the error's fields. A member whose placeholder is empty for an
// error is left out; every other member is written as it is, in the
// template's order. contentType "" means application/json.
//
//	apierror.Template([]byte(`{"error":{"message":"{message}","kind":"{code}"}}`), "")
func Template(tmpl []byte, contentType string) (Shape, error) {
	t, err := parseTemplate(tmpl)
	if err != nil {
		return Shape{}, err
	}
	return Shape{kind: kindTemplate, tmpl: t, contentType: contentType}, nil
}

// template is a JSON object compiled into literal chunks and placeholders.
type template struct {
	root    *tnode
	wrapper string
}

// tnode is one value of the template: a literal, a placeholder or an object.
type tnode struct {
	literal json.RawMessage // set for a literal value
	field   string          // set for a placeholder
	keys    []string        // an object's members, in order
	members []*tnode
}

func parseTemplate(src []byte) (*template, error) {
	if !json.Valid(src) {
		return nil, fmt.Errorf("%w: not one JSON value", ErrTemplate)
	}
	p := &tparser{src: src}
	root, err := p.value(0)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTemplate, err)
	}
	if root.keys == nil {
		return nil, fmt.Errorf("%w: the template must be a JSON object", ErrTemplate)
	}
	n := root.count()
	if n == 0 {
		return nil, fmt.Errorf("%w: no placeholder (one of %s)", ErrTemplate, strings.Join(Placeholders(), ", "))
	}
	t := &template{root: root}
	// The wrapper: the one member of the root that holds every placeholder.
	for i, m := range root.members {
		if m.keys != nil && m.count() == n {
			t.wrapper = root.keys[i]
		}
	}
	return t, nil
}

const maxTemplateDepth = 16

// tparser reads a template that json.Valid accepted: a small recursive
// descent, so that apierror needs no reflection-based JSON decoder.
type tparser struct {
	src []byte
	i   int
}

func (p *tparser) space() {
	for p.i < len(p.src) && (p.src[p.i] == ' ' || p.src[p.i] == '\t' || p.src[p.i] == '\n' || p.src[p.i] == '\r') {
		p.i++
	}
}

// str reads the JSON string at p.i.
func (p *tparser) str() (string, error) {
	start := p.i
	p.i++
	for p.src[p.i] != '"' {
		if p.src[p.i] == '\\' {
			p.i++
		}
		p.i++
	}
	p.i++
	s, ok := jsonstr.Unquote(p.src[start:p.i])
	if !ok {
		return "", errors.New("invalid string")
	}
	return string(s), nil
}

func (p *tparser) value(depth int) (*tnode, error) {
	if depth > maxTemplateDepth {
		return nil, errors.New("nested too deeply")
	}
	p.space()
	switch c := p.src[p.i]; c {
	case '{':
		p.i++
		n := &tnode{keys: []string{}}
		for {
			p.space()
			if p.src[p.i] == '}' {
				p.i++
				return n, nil
			}
			if p.src[p.i] == ',' {
				p.i++
				p.space()
			}
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			p.space()
			p.i++ // ':'
			m, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			n.keys = append(n.keys, k)
			n.members = append(n.members, m)
		}
	case '[':
		return nil, errors.New("arrays are not supported in an error template")
	case '"':
		v, err := p.str()
		if err != nil {
			return nil, err
		}
		if isPlaceholder(v) {
			return &tnode{field: v}, nil
		}
		if strings.HasPrefix(v, "{") && strings.HasSuffix(v, "}") && !strings.ContainsAny(v[1:len(v)-1], "{} ") {
			return nil, fmt.Errorf("unknown placeholder %s (want one of %s)", v, strings.Join(Placeholders(), ", "))
		}
		return &tnode{literal: appendString(nil, v)}, nil
	default:
		// A number, true, false or null, kept as written.
		start := p.i
		for p.i < len(p.src) && !strings.ContainsRune(",}] \t\n\r", rune(p.src[p.i])) {
			p.i++
		}
		return &tnode{literal: json.RawMessage(p.src[start:p.i])}, nil
	}
}

func (n *tnode) count() int {
	if n.field != "" {
		return 1
	}
	c := 0
	for _, m := range n.members {
		c += m.count()
	}
	return c
}

func (t *template) append(dst []byte, e *Error) []byte {
	return t.root.append(dst, e)
}

func (n *tnode) append(dst []byte, e *Error) []byte {
	if n.literal != nil {
		return append(dst, n.literal...)
	}
	if n.field != "" {
		v, quoted := field(e, n.field)
		if !quoted {
			return append(dst, v...)
		}
		return appendString(dst, v)
	}
	dst = append(dst, '{')
	first := true
	for i, m := range n.members {
		if m.field != "" {
			if v, _ := field(e, m.field); v == "" {
				continue
			}
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendString(dst, n.keys[i])
		dst = append(dst, ':')
		dst = m.append(dst, e)
	}
	return append(dst, '}')
}
