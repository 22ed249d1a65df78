package openapi

import (
	"errors"
	"slices"
	"sort"
)

// ErrNoObjects is returned by NewReference when the document names no
// object schema: no schema in components.schemas has an x-resourceId, a
// resource's name or a type field holding one value.
var ErrNoObjects = errors.New("no object schemas")

// typeFieldName returns the member that names an object's type.
func (d *doc) typeFieldName() string {
	if d.typeField == "" {
		return "object"
	}
	return d.typeField
}

// typeOfSchema returns the one value the schema's type field may hold
// (its enum of one value, or its const), or "".
func (d *doc) typeOfSchema(s *object) string {
	p := d.resolve(s.child("properties").get(d.typeFieldName()))
	if p == nil {
		return ""
	}
	if c, ok := p.get("const").(string); ok {
		return c
	}
	if e := p.list("enum"); len(e) == 1 {
		if v, ok := e[0].(string); ok {
			return v
		}
	}
	return ""
}

// resourceSchemas returns the schemas of a resource in components.schemas,
// in name order: those whose x-resourceId names it; or else the one named
// like it (with no x-resourceId of its own); or else those whose type
// field holds the resource's name alone ("object": {"enum": ["customer"]}).
// variants are the other schemas whose type field names the resource (a
// deleted customer's): the engine walks such objects as the type too.
func (d *doc) resourceSchemas(resource string) (primary, variants []*object) {
	if d.schemas == nil {
		return nil, nil
	}
	names := slices.Clone(d.schemas.keys)
	sort.Strings(names)
	var byID, byName, byType []*object
	for _, n := range names {
		s := d.schemas.child(n)
		if s == nil {
			continue
		}
		id := s.str("x-resourceId")
		switch {
		case id == resource:
			byID = append(byID, s)
		case id != "":
		case n == resource:
			byName = append(byName, s)
		case d.typeOfSchema(s) == resource:
			byType = append(byType, s)
		}
	}
	switch {
	case len(byID) > 0:
		primary = byID
	case len(byName) > 0:
		primary = byName
	default:
		return byType, nil
	}
	for _, n := range names {
		s := d.schemas.child(n)
		if s != nil && s.str("x-resourceId") == "" && !slices.Contains(primary, s) && d.typeOfSchema(s) == resource {
			variants = append(variants, s)
		}
	}
	return primary, variants
}

// objectSchema is an object type and the schema the reference documents
// it by.
type objectSchema struct {
	name   string
	schema *object
}

// objectSchemas returns the object types the document describes, in name
// order, each with its schema: a schema's x-resourceId; or, for a schema
// without one, a resource of the timeline it is named like, or else the
// one value its type field holds (not "list"). A type claimed by
// x-resourceId is documented by that schema; of several others, the one
// named like the type, or else the one with the most properties.
func (d *doc) objectSchemas(resources []string) []objectSchema {
	if d.schemas == nil {
		return nil
	}
	names := slices.Clone(d.schemas.keys)
	sort.Strings(names)
	byID := map[string]*object{}
	type candidate struct {
		name string
		s    *object
	}
	others := map[string][]candidate{}
	for _, n := range names {
		s := d.schemas.child(n)
		if s == nil {
			continue
		}
		if id := s.str("x-resourceId"); id != "" {
			if byID[id] == nil {
				byID[id] = s
			}
			continue
		}
		t := ""
		switch {
		case slices.Contains(resources, n):
			t = n
		case d.typeOfSchema(s) != "" && d.typeOfSchema(s) != "list":
			t = d.typeOfSchema(s)
		}
		if t != "" {
			others[t] = append(others[t], candidate{n, s})
		}
	}
	var out []objectSchema
	for t, s := range byID {
		out = append(out, objectSchema{t, s})
	}
	for t, cs := range others {
		if byID[t] != nil {
			continue
		}
		best := cs[0]
		for _, c := range cs[1:] {
			switch {
			case best.name == t:
			case c.name == t, len(c.s.child("properties").keysOrNil()) > len(best.s.child("properties").keysOrNil()):
				best = c
			}
		}
		out = append(out, objectSchema{t, best.s})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}
