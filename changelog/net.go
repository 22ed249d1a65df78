package changelog

import (
	"fmt"
	"strings"

	"github.com/verso-api/verso/gates"
)

// placed is one op of a change, in the guide's order (oldest first), with
// the step it belongs to.
type placed struct {
	step  int
	op    gates.Op
	alive bool
}

// netOps folds the ops of consecutive versions into their net effect for
// an integration that jumps from the oldest to the newest: a field added
// and removed on the way is never seen, a field renamed twice is renamed
// once, a field added then renamed is added under its last name, a retype
// and its reverse cancel. Ops are given oldest first; what survives keeps
// the step of the op it folded into.
func netOps(ops []placed) []placed {
	for i := range ops {
		ops[i].alive = true
	}
	for i := range ops {
		later := &ops[i]
		in, ok := inputField(later.op)
		if !ok {
			continue
		}
		// The most recent earlier op that left the field under this name.
		for j := i - 1; j >= 0; j-- {
			earlier := &ops[j]
			if !earlier.alive {
				continue
			}
			out, ok := outputField(earlier.op)
			if !ok || out != in {
				if earlier.op.Kind == gates.KindRemoved && earlier.op.Field == in && later.op.Kind == gates.KindAdded {
					// Removed, then added back: the field is there at
					// both ends.
					earlier.alive, later.alive = false, false
					break
				}
				continue
			}
			fold(earlier, later)
			break
		}
	}
	out := ops[:0]
	for _, p := range ops {
		if p.alive {
			out = append(out, p)
		}
	}
	return out
}

// fold merges later into earlier, which left the field later starts from.
func fold(earlier, later *placed) {
	e, l := &earlier.op, later.op
	switch {
	case e.Kind == gates.KindAdded && l.Kind == gates.KindRemoved:
		earlier.alive, later.alive = false, false
	case e.Kind == gates.KindAdded && l.Kind == gates.KindRename:
		e.Field = l.Field
		later.alive = false
	case e.Kind == gates.KindAdded && (l.Kind == gates.KindRetype || l.Kind == gates.KindEnum):
		later.alive = false // new to the integration either way
	case e.Kind == gates.KindRename && l.Kind == gates.KindRename:
		if l.Field == e.Was {
			earlier.alive, later.alive = false, false
			return
		}
		e.Field = l.Field
		later.alive = false
	case e.Kind == gates.KindRename && l.Kind == gates.KindRemoved:
		was := e.Was
		*e = l
		e.Field = was
		later.alive = false
	case e.Kind == gates.KindRetype && l.Kind == gates.KindRetype:
		if l.NowType == e.WasType {
			earlier.alive, later.alive = false, false
			return
		}
		e.NowType = l.NowType
		later.alive = false
	}
}

// inputField is the name a field has before the op, when the op starts
// from an existing field.
func inputField(op gates.Op) (string, bool) {
	switch op.Kind {
	case gates.KindRename:
		return op.Was, true
	case gates.KindRemoved, gates.KindRetype, gates.KindEnum, gates.KindAdded:
		return op.Field, true
	}
	return "", false
}

// outputField is the name a field has after the op, when the op leaves one.
func outputField(op gates.Op) (string, bool) {
	switch op.Kind {
	case gates.KindRename, gates.KindAdded, gates.KindRetype, gates.KindEnum:
		return op.Field, true
	}
	return "", false
}

// todo returns what an integration must do about one op: reading
// responses for a resource, or sending requests when resource is "".
func todo(op gates.Op, resource string) string {
	q := func(p string) string {
		if resource != "" {
			p = resource + "." + p
		}
		return "`" + p + "`"
	}
	request := resource == ""
	switch op.Kind {
	case gates.KindRename:
		if request {
			return fmt.Sprintf("Send %s instead of %s.", q(op.Field), q(op.Was))
		}
		return fmt.Sprintf("Read %s instead of %s.", q(op.Field), q(op.Was))
	case gates.KindRemoved:
		if request && op.MovesRequests() {
			return fmt.Sprintf("Send %s instead of %s.", q(op.From), q(op.Field))
		}
		if request {
			return fmt.Sprintf("Stop sending %s.", q(op.Field))
		}
		if op.From != "" {
			return fmt.Sprintf("Read %s instead of %s.", q(op.From), q(op.Field))
		}
		return fmt.Sprintf("Stop relying on %s being returned.", q(op.Field))
	case gates.KindRetype:
		verb := "Parse"
		if request {
			verb = "Send"
		}
		return fmt.Sprintf("%s %s as %s, not %s.", verb, q(op.Field), op.NowType.Noun(), op.WasType.Noun())
	case gates.KindEnum:
		var parts []string
		for _, v := range op.Values {
			parts = append(parts, fmt.Sprintf("`%s` where you handled `%s`", v.Now, v.Was))
		}
		if request {
			return fmt.Sprintf("Send %s in %s.", strings.Join(parts, ", "), q(op.Field))
		}
		return fmt.Sprintf("Expect %s in %s.", strings.Join(parts, ", "), q(op.Field))
	case gates.KindNest:
		return todoNest(op, resource)
	case gates.KindCollapse:
		switch {
		case !request:
			return fmt.Sprintf("Read %s as the embedded object; its id is %s.", q(op.Field), q(op.Field+"."+op.CollapseKey()))
		case op.IDField != "":
			return fmt.Sprintf("Send the id in %s instead of %s.", q(sibling(op.Field, op.IDField)), q(op.Field))
		}
		return fmt.Sprintf("Send %s as an object, {\"%s\": ...}, instead of its id.", q(op.Field), op.CollapseKey())
	case gates.KindCustom:
		return "Compare the before and after examples and adapt the code that reads these objects."
	case gates.KindBehavior:
		return "Check that your integration expects the new behaviour described above before you move."
	case gates.KindEndpointRemoved, gates.KindEndpointMoved, gates.KindStatus, gates.KindHeaderRename:
		return "Update the calls this affects: " + strings.TrimSuffix(op.Describe(""), ".") + "."
	}
	return ""
}

// todoNest is what to do about a nest op: read (or send) its members
// inside the wrapper.
func todoNest(op gates.Op, resource string) string {
	verb := "Read"
	if resource == "" {
		verb = "Send"
	}
	if resource == gates.ErrorResource && !strings.Contains(op.Field, ".") {
		if len(op.Members) == 0 {
			return fmt.Sprintf("Read error bodies inside `%s`: {\"%s\": {...}}.", op.Field, op.Field)
		}
		resource = ""
	}
	where := "`" + op.Field + "`"
	if resource != "" {
		where = "`" + resource + "." + op.Field + "`"
	}
	if len(op.Members) == 0 {
		return fmt.Sprintf("%s every field inside %s.", verb, where)
	}
	names := make([]string, len(op.Members))
	for i, m := range op.Members {
		names[i] = "`" + m + "`"
	}
	list := names[0]
	if n := len(names); n > 1 {
		list = strings.Join(names[:n-1], ", ") + " and " + names[n-1]
	}
	return fmt.Sprintf("%s %s inside %s.", verb, list, where)
}

// sibling returns the path of the member name next to the last step of
// path: sibling("a.b", "c") is "a.c".
func sibling(path, name string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i+1] + name
	}
	return name
}
