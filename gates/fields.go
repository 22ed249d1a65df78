package gates

// FieldSlot is one field that one op of a change writes on one resource:
// what a Fired tracking fields (TrackFields) records when the op changes
// something. An op with resources has a slot per resource, and every body
// op has a slot with no resource, for request bodies and for responses
// its change scopes by endpoint.
type FieldSlot struct {
	// Change is the change's index (Timeline.ChangeIndex), and Op the
	// op's index in its Ops.
	Change, Op int
	// Resource is the object type, "" for request bodies and responses
	// scoped by endpoint.
	Resource string
	// Field is the op's field, in the newer version's terms (Op.Field):
	// "" for a custom op.
	Field string
}

// Name returns "resource.field", or the field alone when the slot has no
// resource: "customer.balance", "balance".
func (s FieldSlot) Name() string {
	if s.Resource == "" || s.Field == "" {
		return s.Field
	}
	return s.Resource + "." + s.Field
}

type slotKey struct {
	change, op int
	resource   string
}

// compileSlots numbers the field slots of the changes' body ops.
func (t *Timeline) compileSlots() {
	t.slotIdx = map[slotKey]int{}
	for ci, c := range t.changes {
		for oi, op := range c.Ops {
			if !op.Kind.Body() || op.Kind == KindBehavior {
				continue
			}
			for _, r := range append([]string{""}, c.Resources...) {
				k := slotKey{ci, oi, r}
				if _, ok := t.slotIdx[k]; ok {
					continue
				}
				t.slotIdx[k] = len(t.slots)
				t.slots = append(t.slots, FieldSlot{Change: ci, Op: oi, Resource: r, Field: op.Field})
			}
		}
	}
}

// NumFieldSlots returns the number of field slots: their indexes run
// from 0 to NumFieldSlots()-1.
func (t *Timeline) NumFieldSlots() int { return len(t.slots) }

// FieldSlotAt returns the field slot at index i; ok is false when there
// is none.
func (t *Timeline) FieldSlotAt(i int) (s FieldSlot, ok bool) {
	if i < 0 || i >= len(t.slots) {
		return FieldSlot{}, false
	}
	return t.slots[i], true
}

// FieldSlotIndex returns the index of the slot of op (its index in the
// change's Ops) of the change at index change, on resource ("" for
// request bodies), or -1 when there is none.
func (t *Timeline) FieldSlotIndex(change, op int, resource string) int {
	if i, ok := t.slotIdx[slotKey{change, op, resource}]; ok {
		return i
	}
	return -1
}

// TrackFields makes f record, besides the changes that fire, the field
// slots of the ops that fire (Timeline.FieldSlotAt) in fields; nil stops
// it. Reset leaves fields as it is: reset it too.
func (f *Fired) TrackFields(fields *Fired) { f.fields = fields }

// AddField puts the change at index change in the set and, when f tracks
// fields, the field slot slot (-1 for none) in its fields.
func (f *Fired) AddField(change, slot int) {
	f.Add(change)
	if f.fields != nil && slot >= 0 {
		f.fields.Add(slot)
	}
}
