package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strconv"
)

// ErrParams is wrapped by the errors EncodeForm returns.
var ErrParams = errors.New("client: bad params")

// maxDepth bounds the nesting of params, which also stops a map that
// contains itself.
const maxDepth = 32

var jsonNumber = reflect.TypeFor[json.Number]()

// EncodeForm renders params in Stripe's bracket syntax:
//
//	map[string]any{
//		"amount":   2000,
//		"metadata": map[string]string{"order": "6735"},
//		"expand":   []string{"customer"},
//		"items":    []map[string]any{{"price": "price_1", "quantity": 2}},
//	}
//
// becomes amount=2000, metadata[order]=6735, expand[]=customer,
// items[0][price]=price_1 and items[0][quantity]=2. A list of scalars uses
// "[]", a list holding any map or list uses indexes. A nil value becomes an
// empty string, which Stripe reads as "unset". params may be url.Values
// (copied as is), a map with string keys, or a struct or pointer to one
// (read through its json tags); a nil params gives empty Values.
func EncodeForm(params any) (url.Values, error) {
	vals := url.Values{}
	switch p := params.(type) {
	case nil:
		return vals, nil
	case url.Values:
		for k, vs := range p {
			vals[k] = append([]string(nil), vs...)
		}
		return vals, nil
	case map[string]string:
		for k, v := range p {
			vals.Set(k, v)
		}
		return vals, nil
	}
	rv := reflect.ValueOf(params)
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			return vals, nil
		}
		rv = rv.Elem()
	}
	if rv.Kind() == reflect.Struct {
		g, err := generic(rv)
		if err != nil {
			return nil, err
		}
		rv = reflect.ValueOf(g)
	}
	if rv.Kind() != reflect.Map {
		return nil, fmt.Errorf("%w: want a map, url.Values or struct, got %T", ErrParams, params)
	}
	if err := encode(vals, "", rv, 0); err != nil {
		return nil, err
	}
	return vals, nil
}

func encode(vals url.Values, key string, rv reflect.Value, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: %s: nested deeper than %d levels", ErrParams, key, maxDepth)
	}
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			vals.Add(key, "")
			return nil
		}
		rv = rv.Elem()
	}
	if rv.Type() == jsonNumber {
		vals.Add(key, rv.String())
		return nil
	}
	switch rv.Kind() {
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("%w: %s: map keys must be strings, got %s", ErrParams, key, rv.Type().Key())
		}
		keys := rv.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int {
			switch {
			case a.String() < b.String():
				return -1
			case a.String() > b.String():
				return 1
			}
			return 0
		})
		for _, k := range keys {
			name := k.String()
			if depth > 0 {
				name = key + "[" + name + "]"
			}
			if err := encode(vals, name, rv.MapIndex(k), depth+1); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice, reflect.Array:
		if depth == 0 {
			return fmt.Errorf("%w: a list needs a name", ErrParams)
		}
		if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
			vals.Add(key, string(rv.Bytes()))
			return nil
		}
		indexed := false
		for i := range rv.Len() {
			if !scalar(rv.Index(i)) {
				indexed = true
				break
			}
		}
		for i := range rv.Len() {
			name := key + "[]"
			if indexed {
				name = key + "[" + strconv.Itoa(i) + "]"
			}
			if err := encode(vals, name, rv.Index(i), depth+1); err != nil {
				return err
			}
		}
		return nil
	case reflect.Struct:
		g, err := generic(rv)
		if err != nil {
			return err
		}
		return encode(vals, key, reflect.ValueOf(g), depth+1)
	}
	if depth == 0 {
		return fmt.Errorf("%w: a value needs a name", ErrParams)
	}
	switch rv.Kind() {
	case reflect.String:
		vals.Add(key, rv.String())
	case reflect.Bool:
		vals.Add(key, strconv.FormatBool(rv.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		vals.Add(key, strconv.FormatInt(rv.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		vals.Add(key, strconv.FormatUint(rv.Uint(), 10))
	case reflect.Float32:
		vals.Add(key, strconv.FormatFloat(rv.Float(), 'f', -1, 32))
	case reflect.Float64:
		vals.Add(key, strconv.FormatFloat(rv.Float(), 'f', -1, 64))
	default:
		return fmt.Errorf("%w: %s: cannot send a %s", ErrParams, key, rv.Type())
	}
	return nil
}

// scalar reports whether v renders as one form value.
func scalar(v reflect.Value) bool {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return true
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Map, reflect.Array, reflect.Struct:
		return false
	case reflect.Slice:
		return v.Type().Elem().Kind() == reflect.Uint8
	}
	return true
}

// generic turns a struct into maps, lists and scalars through its json
// encoding, so json tags and Marshalers decide the names.
func generic(rv reflect.Value) (any, error) {
	data, err := json.Marshal(rv.Interface())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrParams, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var g any
	if err := dec.Decode(&g); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrParams, err)
	}
	return g, nil
}
