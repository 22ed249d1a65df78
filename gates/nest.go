package gates

import (
	"fmt"
	"strings"
)

// Nest declares that the newer version holds members inside the object at
// field, where the older version had them beside it, in the object holding
// field. With no members, every member moved in.
//
// Walking back lifts them out of field and drops field when it ends empty;
// walking forward moves them in. On a change to ErrorResource, field is
// relative to the whole error body: Nest("error") says that older versions
// answered errors flat, with no "error" wrapper.
//
//	gates.Nest("address", "city", "zip") // {"city":..} -> {"address":{"city":..}}
func Nest(field string, members ...string) Op {
	return Op{Kind: KindNest, Field: field, Members: members}
}

// sibling returns the path of the member name next to the last step of
// path: sibling("a.b", "c") is "a.c".
func sibling(path, name string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i+1] + name
	}
	return name
}

// describeNest is Describe for a nest op.
func describeNest(op Op, resource string) string {
	where := "`" + op.Field + "`"
	level := "one level up"
	if resource != "" && resource != ErrorResource {
		where = "`" + resource + "." + op.Field + "`"
	}
	if resource == ErrorResource && !strings.Contains(op.Field, ".") {
		level = "at the top level of the error body"
	}
	if len(op.Members) == 0 {
		if resource == ErrorResource && !strings.Contains(op.Field, ".") {
			return fmt.Sprintf("Error bodies are wrapped in %s; older versions answer them flat.", where)
		}
		return fmt.Sprintf("Every field moved into %s; older versions have them %s.", where, level)
	}
	names := make([]string, len(op.Members))
	for i, m := range op.Members {
		names[i] = "`" + m + "`"
	}
	list := names[0]
	if n := len(names); n > 1 {
		list = strings.Join(names[:n-1], ", ") + " and " + names[n-1]
	}
	return fmt.Sprintf("%s moved into %s; older versions have them %s.", list, where, level)
}

// checkNest validates a nest op.
func checkNest(op *Op, pos Pos, id string, errs *ErrorList) {
	seen := map[string]bool{}
	for _, m := range op.Members {
		if err := CheckKey(m); err != nil {
			errs.add(pos, id, "nest: fields: %v", err)
			continue
		}
		if seen[m] {
			errs.add(pos, id, "nest: fields: %q is listed twice", m)
		}
		seen[m] = true
		if last := op.Field[strings.LastIndexByte(op.Field, '.')+1:]; m == last {
			errs.add(pos, id, "nest: fields: %q is the wrapper itself", m)
		}
	}
}
