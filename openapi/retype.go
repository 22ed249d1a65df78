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
func retype(p map[string]any, t gates.Type) {
	jsonType := string(t)
	if t == gates.Decimal {
		jsonType = "string"
	}
	switch types := p["type"].(type) {
	case []any: // OpenAPI 3.1: ["string", "null"]
		out := make([]any, 0, len(types))
		for _, x := range types {
			if x == "null" {
				out = append(out, x)
			} else if !slices.Contains(out, any(jsonType)) {
				out = append(out, jsonType)
			}
		}
		p["type"] = out
	default:
		p["type"] = jsonType
	}
	format, _ := p["format"].(string)
	switch t {
	case gates.Integer:
		if format != "int32" && format != "int64" {
			delete(p, "format")
		}
		drop(p, stringKeywords)
	case gates.Number:
		if format != "float" && format != "double" {
			delete(p, "format")
		}
		drop(p, stringKeywords)
	case gates.String:
		delete(p, "format")
		drop(p, numberKeywords)
	case gates.Decimal:
		p["format"] = "decimal"
		drop(p, numberKeywords)
	}
	for _, k := range []string{"example", "default"} {
		if v, ok := p[k]; ok {
			if c, ok := convert(v, jsonType); ok {
				p[k] = c
			} else {
				delete(p, k)
			}
		}
	}
	if list, ok := p["enum"].([]any); ok {
		for i, v := range list {
			if c, ok := convert(v, jsonType); ok {
				list[i] = c
			}
		}
	}
}

func drop(p map[string]any, keys []string) {
	for _, k := range keys {
		delete(p, k)
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
