package storage

// ValidTable reports whether name may be written into SQL as a table name
// without quoting: 1 to 48 lower-case ASCII letters, digits and
// underscores, not starting with a digit. The stores check the table
// names their options take with it.
func ValidTable(name string) bool {
	if name == "" || len(name) > 48 || (name[0] >= '0' && name[0] <= '9') {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
