package gates

// DefaultCollapseKey is the member holding a collapsed object's id when a
// collapse op names none.
const DefaultCollapseKey = "id"

// Collapse declares that the newer version embeds an object at field where
// the older version had only its id: "author": {"id": "a_1", ...} was
// "author": "a_1". key is the object's member holding the id
// (DefaultCollapseKey when empty).
//
// Walking back replaces the object by its id (a value that is not an
// object is left alone). Walking forward, the id becomes the object {key:
// id}; WithIDField names a member instead, next to field, that the newer
// version takes the id in ("author_id").
func Collapse(field, key string) Op { return Op{Kind: KindCollapse, Field: field, Key: key} }

// WithIDField returns a collapse op whose forward walk moves the id to the
// member name, next to the op's field, instead of making it an object.
func (op Op) WithIDField(name string) Op {
	op.IDField = name
	return op
}

// CollapseKey returns the member holding a collapsed object's id: Key, or
// DefaultCollapseKey.
func (op Op) CollapseKey() string {
	if op.Key == "" {
		return DefaultCollapseKey
	}
	return op.Key
}
