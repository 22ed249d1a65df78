package transform

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/internal/jsonstr"
)

// converter turns one raw JSON value into another type. A value already of
// the target type, and null, are returned unchanged. Numbers move as their
// exact digits, never through float64.
type converter func(raw []byte) ([]byte, error)

func newConverter(to gates.Type) converter {
	switch to {
	case gates.String, gates.Decimal:
		return toString
	case gates.Integer:
		return toInteger
	default:
		return toNumber
	}
}

func toString(raw []byte) ([]byte, error) {
	switch {
	case raw[0] == '"' || isNull(raw):
		return raw, nil
	case raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9':
		b := make([]byte, 0, len(raw)+2)
		b = append(b, '"')
		b = append(b, raw...)
		return append(b, '"'), nil
	}
	return nil, cannotConvert(raw, "a string")
}

func toInteger(raw []byte) ([]byte, error) {
	if d, ok := quotedDigits(raw); ok {
		return d, nil // what the general case below returns, sooner
	}
	switch {
	case isNull(raw):
		return raw, nil
	case raw[0] == '"':
		s, err := unquote(raw)
		if err != nil {
			return nil, err
		}
		n, ok := integerText(s)
		if !ok {
			return nil, cannotConvert(raw, "an integer")
		}
		return n, nil
	case raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9':
		n, ok := integerText(raw)
		if !ok {
			return nil, cannotConvert(raw, "an integer")
		}
		return n, nil
	}
	return nil, cannotConvert(raw, "an integer")
}

func toNumber(raw []byte) ([]byte, error) {
	if n, ok := quotedNumber(raw); ok {
		return n, nil // what the general case below returns, sooner
	}
	switch {
	case isNull(raw):
		return raw, nil
	case raw[0] == '"':
		s, err := unquote(raw)
		if err != nil {
			return nil, err
		}
		s = bytes.TrimSpace(s)
		if len(s) == 0 {
			return nil, cannotConvert(raw, "a number")
		}
		if end, err := scanNumber(s, 0); err != nil || end != len(s) {
			return nil, cannotConvert(raw, "a number")
		}
		return s, nil
	case raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9':
		return raw, nil
	}
	return nil, cannotConvert(raw, "a number")
}

// quotedDigits returns the digits of raw when raw is a string of one or
// more digits with no leading zero, or "0": what toInteger returns for
// such a string, a slice of raw.
func quotedDigits(raw []byte) ([]byte, bool) {
	n := len(raw)
	if n < 3 || raw[0] != '"' || raw[n-1] != '"' || raw[1] == '0' && n > 3 {
		return nil, false
	}
	d := raw[1 : n-1]
	for _, c := range d {
		if c < '0' || c > '9' {
			return nil, false
		}
	}
	return d, true
}

// quotedNumber returns the text of raw when raw is a string holding just
// a JSON number, with no escape nor white space: what toNumber returns
// for such a string, a slice of raw.
func quotedNumber(raw []byte) ([]byte, bool) {
	n := len(raw)
	if n < 3 || raw[0] != '"' || raw[n-1] != '"' {
		return nil, false
	}
	s := raw[1 : n-1]
	if c := s[0]; c != '-' && (c < '0' || c > '9') {
		return nil, false
	}
	if end, err := scanNumber(s, 0); err != nil || end != len(s) {
		return nil, false
	}
	return s, true
}

// integerText checks that s is an integer, optionally signed, and returns
// its canonical JSON form: leading zeros dropped, and a number with a
// fraction of zeros (12.00) accepted as the integer it is.
func integerText(s []byte) ([]byte, bool) {
	s = bytes.TrimSpace(s)
	neg := len(s) > 0 && s[0] == '-'
	d := s
	if neg {
		d = s[1:]
	}
	if whole, frac, ok := bytes.Cut(d, []byte(".")); ok {
		if len(frac) == 0 || len(bytes.Trim(frac, "0")) != 0 {
			return nil, false
		}
		d = whole
	}
	if len(d) == 0 {
		return nil, false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return nil, false
		}
	}
	d = bytes.TrimLeft(d, "0")
	if len(d) == 0 {
		return zeroText, true
	}
	if !neg {
		return d, true
	}
	return append([]byte{'-'}, d...), true
}

// zeroText is the integer 0. Values are never written to in place, so
// all may share it.
var zeroText = []byte("0")

func isNull(raw []byte) bool { return string(raw) == "null" }

func unquote(raw []byte) ([]byte, error) {
	s, ok := jsonstr.Unquote(raw)
	if !ok {
		return nil, errors.New("invalid string")
	}
	return s, nil
}

// cannotConvert is the error of a value a retype cannot convert to the
// type whose noun is to ("an integer").
func cannotConvert(raw []byte, to string) error {
	return fmt.Errorf("cannot convert %s to %s", describe(raw), to)
}

func describe(raw []byte) string {
	const max = 40
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	}
	if len(raw) > max {
		return string(raw[:max]) + "..."
	}
	return string(raw)
}
