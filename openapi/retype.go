package openapi

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/verso-api/verso/gates"
)

// Keywords that fit only numbers or only strings.
var (
	numberKeywords = []string{"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
	stringKeywords = []string{"minLength", "maxLength", "pattern"}
)

// retype changes a property schema to the JSON type t: integer, number,
// string, or decimal (a string with format decimal). Keywords that no
// longer fit are dropped; example and default values are converted when
// they can be.
func retype(p *object, t gates.Type) {
	jsonType := string(t)
	if t == gates.Decimal {
		jsonType = "string"
	}
	switch types := p.get("type").(type) {
	case []any: // OpenAPI 3.1: ["string", "null"]
		out := make([]any, 0, len(types))
		for _, x := range types {
			if x == "null" {
				out = append(out, x)
			} else if !slices.Contains(out, any(jsonType)) {
				out = append(out, jsonType)
			}
		}
		p.set("type", out)
	default:
		p.set("type", jsonType)
	}
	format := p.str("format")
	switch t {
	case gates.Integer:
		if format != "int32" && format != "int64" {
			p.del("format")
		}
		drop(p, stringKeywords)
	case gates.Number:
		if format != "float" && format != "double" {
			p.del("format")
		}
		drop(p, stringKeywords)
	case gates.String:
		p.del("format")
		drop(p, numberKeywords)
	case gates.Decimal:
		p.set("format", "decimal")
		drop(p, numberKeywords)
	}
	for _, k := range []string{"example", "default"} {
		if p.has(k) {
			if c, ok := convert(p.get(k), jsonType); ok {
				p.set(k, c)
			} else {
				p.del(k)
			}
		}
	}
	if list := p.list("enum"); list != nil {
		for i, v := range list {
			if c, ok := convert(v, jsonType); ok {
				list[i] = c
			}
		}
	}
}

func drop(p *object, keys []string) {
	for _, k := range keys {
		p.del(k)
	}
}

// convert converts an example value between a number and a string.
func convert(v any, jsonType string) (any, bool) {
	switch v := v.(type) {
	case nil:
		return nil, true
	case json.Number:
		if jsonType == "string" {
			return string(v), true
		}
		if jsonType == "integer" && strings.ContainsAny(string(v), ".eE") {
			return nil, false
		}
		return v, true
	case string:
		if jsonType == "string" {
			return v, true
		}
		if _, err := strconv.ParseFloat(v, 64); err != nil || !json.Valid([]byte(v)) {
			return nil, false
		}
		if jsonType == "integer" && strings.ContainsAny(v, ".eE") {
			return nil, false
		}
		return json.Number(v), true
	}
	return nil, false
}
