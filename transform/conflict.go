package transform

// ConflictError is a request that carries one field under both its old
// and its new name: the old name of a rename and the new one, a member
// beside a wrapper and in it (nest), or an id in a field and in the id
// field that replaced it (collapse). Upgrade and UpgradeForm return it
// before any handler sees the request, since keeping either value would
// silently drop the other; a server answers it with a 400 naming both.
type ConflictError struct {
	// Old and New are the parameters as a form writes them: "name",
	// "address[city]", "items[0][plan]".
	Old, New string
}

// Error prints "name and full_name are the old and the new name of one
// field: send one of them".
func (e *ConflictError) Error() string {
	return e.Old + " and " + e.New + " are the old and the new name of one field: send one of them"
}
