package transform

import (
	"strconv"
	"strings"

	"github.com/verso-api/verso/gates"
)

// ParamError is a request value that does not fit the client's version:
// its JSON type is not the one that version declared for the field (a
// retype with was: integer given "seven" or 7.5), or it cannot become the
// newest version's type. Upgrade and UpgradeForm return it before any
// handler sees the request; a server answers it with a 400 naming Param.
type ParamError struct {
	// Param is the parameter as the client sent it: "age",
	// "address[city]", "items[0][price]".
	Param string
	// Want is the type the value must have.
	Want gates.Type
	// Got describes the value sent: "\"seven\"", "7.5", "an object".
	Got string
}

// Error prints "age: want an integer, got \"seven\"".
func (e *ParamError) Error() string {
	return e.Param + ": want " + e.Want.Noun() + ", got " + e.Got
}

// inParam puts the parameters of a ParamError or a ConflictError inside
// key (and its element idx when idx >= 0), in the bracket syntax of form
// bodies: "city" in "address" is "address[city]". Other errors are
// returned as they are.
func inParam(err error, key string, idx int) error {
	switch e := err.(type) {
	case *ParamError:
		e.Param = nestParam(e.Param, key, idx)
	case *ConflictError:
		e.Old, e.New = nestParam(e.Old, key, idx), nestParam(e.New, key, idx)
	}
	return err
}

// nestParam returns param inside key (and its element idx when idx >= 0).
func nestParam(param, key string, idx int) string {
	head, tail := param, ""
	if i := strings.IndexByte(head, '['); i >= 0 {
		head, tail = head[:i], head[i:]
	}
	if idx >= 0 {
		key += "[" + strconv.Itoa(idx) + "]"
	}
	return key + "[" + head + "]" + tail
}

// formParam writes a path of keys as a form parameter: "address[city]".
func formParam(path []seg) string {
	var b strings.Builder
	for i, s := range path {
		if i == 0 {
			b.WriteString(s.key)
			continue
		}
		b.WriteByte('[')
		b.WriteString(s.key)
		b.WriteByte(']')
	}
	return b.String()
}

// isType reports whether the raw JSON value is of type t, or null. A
// value from a form body is a string that must read as t.
func isType(raw []byte, t gates.Type, form bool) bool {
	if isNull(raw) {
		return true
	}
	if form {
		if raw[0] != '"' {
			return false
		}
		if t == gates.String {
			return true
		}
		s, err := unquote(raw)
		if err != nil {
			return false
		}
		return isNumberText(s, t == gates.Integer)
	}
	switch t {
	case gates.String:
		return raw[0] == '"'
	case gates.Decimal:
		if raw[0] != '"' {
			return false
		}
		s, err := unquote(raw)
		return err == nil && isNumberText(s, false)
	case gates.Integer:
		return raw[0] != '"' && isNumberText(raw, true)
	default: // Number
		return raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9'
	}
}

// isNumberText reports whether s is a JSON number (an integer when
// integer is set; 7.0 counts as one).
func isNumberText(s []byte, integer bool) bool {
	if len(s) == 0 {
		return false
	}
	if end, err := scanNumber(s, 0); err != nil || end != len(s) {
		return false
	}
	if integer {
		_, ok := integerText(s)
		return ok
	}
	return true
}
