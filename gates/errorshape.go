package gates

import (
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/verso-api/verso/apierror"
)

// ErrorShape returns how the API writes its errors: the timeline's errors
// key (Spec.ErrorShape), Stripe's {"error":{...}} when it has none. The
// versioning middleware writes its own errors in it, at the newest
// version, and walks them back like any error body.
func (t *Timeline) ErrorShape() apierror.Shape {
	if t.errorShape.IsZero() {
		return apierror.Stripe()
	}
	return t.errorShape
}

// errorShape reads the timeline's errors key:
//
//	errors: problem                      # stripe, problem or flat
//	errors: {shape: problem, type_base: "https://example.com/errors/"}
//	errors:
//	  template: {error: {message: "{message}", kind: "{code}"}}
//	  content_type: application/json
func (l *loader) errorShape(n *yaml.Node) apierror.Shape {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		s, err := apierror.ParseShape(n.Value)
		if err != nil || n.Value == "" {
			l.errs.add(l.pos(n), "", "errors: unknown error shape %q (want stripe, problem or flat, or a mapping with a template)", n.Value)
		}
		return s
	}
	m := l.mapping(n, "errors", "", "shape", "type_base", "template", "content_type")
	if m == nil {
		return apierror.Shape{}
	}
	tn, sn := m["template"], m["shape"]
	switch {
	case tn != nil && sn != nil:
		l.errs.add(l.pos(sn), "", "errors: give shape or template, not both")
		return apierror.Shape{}
	case tn == nil && sn == nil:
		l.errs.add(l.pos(n), "", "errors: want shape (stripe, problem or flat) or template")
		return apierror.Shape{}
	case tn != nil:
		if bn := m["type_base"]; bn != nil {
			l.errs.add(l.pos(bn), "", "errors: type_base is for the problem shape, not a template")
		}
		if tn.Kind != yaml.MappingNode {
			l.errs.add(l.pos(tn), "", "errors: template: want a mapping (the error body, with placeholders such as \"{message}\"), got %s", kindName(tn))
			return apierror.Shape{}
		}
		if p := unquotedPlaceholder(tn); p != nil {
			l.errs.add(l.pos(p), "", "errors: template: put {%s} in quotes, \"{%s}\": unquoted, YAML reads it as a mapping", p.Content[0].Value, p.Content[0].Value)
			return apierror.Shape{}
		}
		raw, err := nodeJSON(tn, 0)
		if err != nil {
			l.errs.add(l.pos(tn), "", "errors: template: %v", err)
			return apierror.Shape{}
		}
		ct := ""
		if cn := m["content_type"]; cn != nil {
			ct = l.str(cn, "errors: content_type", "")
			if ct != "" && !jsonMediaType(ct) {
				l.errs.add(l.pos(cn), "", "errors: content_type %q is not JSON (want application/json or application/*+json)", ct)
			}
		}
		s, err := apierror.Template(raw, ct)
		if err != nil {
			l.errs.add(l.pos(tn), "", "errors: %s", strings.TrimPrefix(err.Error(), "apierror: "))
		}
		return s
	}
	if cn := m["content_type"]; cn != nil {
		l.errs.add(l.pos(cn), "", "errors: content_type is for a template; the built-in shapes have their own")
	}
	name := l.str(sn, "errors: shape", "")
	s, err := apierror.ParseShape(name)
	if err != nil || name == "" {
		l.errs.add(l.pos(sn), "", "errors: unknown error shape %q (want stripe, problem or flat)", name)
		return apierror.Shape{}
	}
	if bn := m["type_base"]; bn != nil {
		base := l.str(bn, "errors: type_base", "")
		if name != "problem" {
			l.errs.add(l.pos(bn), "", "errors: type_base is for the problem shape, not %s", name)
		} else if !strings.Contains(base, ":") {
			l.errs.add(l.pos(bn), "", "errors: type_base %q is not a URI (the type of a problem is type_base followed by its code)", base)
		} else {
			s = apierror.Problem(base)
		}
	}
	return s
}

// unquotedPlaceholder returns the mapping node that an unquoted
// placeholder such as {message} became in a template, or nil.
func unquotedPlaceholder(n *yaml.Node) *yaml.Node {
	n = resolveAlias(n)
	if n.Kind != yaml.MappingNode {
		return nil
	}
	if n.Style&yaml.FlowStyle != 0 && len(n.Content) == 2 && n.Content[1].Tag == "!!null" && n.Content[1].Value == "" {
		for _, p := range apierror.Placeholders() {
			if "{"+n.Content[0].Value+"}" == p {
				return n
			}
		}
	}
	for i := 1; i < len(n.Content); i += 2 {
		if p := unquotedPlaceholder(n.Content[i]); p != nil {
			return p
		}
	}
	return nil
}

// jsonMediaType reports whether ct is application/json or
// application/*+json, with or without parameters.
func jsonMediaType(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	return mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}
