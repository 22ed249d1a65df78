package versions

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
)

// ErrSyntax is wrapped by every error Parse returns.
var ErrSyntax = errors.New("malformed version")

// maxNameLen bounds the release name of a version.
const maxNameLen = 32

// Version is an API version: a date with an optional release name.
// The zero Version is not a valid version; IsZero reports it.
type Version struct {
	date uint32 // YYYYMMDD
	name string
}

// Parse parses a version of the form YYYY-MM-DD or YYYY-MM-DD.name.
//
//	v, err := versions.Parse("2024-09-30.acacia")
func Parse(s string) (Version, error) {
	if len(s) < 10 {
		return Version{}, syntaxError(s, "want YYYY-MM-DD with an optional .name")
	}
	if s[4] != '-' || s[7] != '-' {
		return Version{}, syntaxError(s, "want YYYY-MM-DD with an optional .name")
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 {
		return Version{}, syntaxError(s, "want YYYY-MM-DD with an optional .name")
	}
	if y < 1000 {
		return Version{}, syntaxError(s, "year out of range")
	}
	if m < 1 || m > 12 {
		return Version{}, syntaxError(s, "month out of range")
	}
	if d < 1 || d > daysIn(y, m) {
		return Version{}, syntaxError(s, "day out of range")
	}
	v := Version{date: uint32(y*10000 + m*100 + d)}
	rest := s[10:]
	if rest == "" {
		return v, nil
	}
	if rest[0] != '.' {
		return Version{}, syntaxError(s, "want YYYY-MM-DD with an optional .name")
	}
	name := rest[1:]
	if name == "" {
		return Version{}, syntaxError(s, "empty release name after '.'")
	}
	if len(name) > maxNameLen {
		return Version{}, syntaxError(s, fmt.Sprintf("release name longer than %d characters", maxNameLen))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_'):
		default:
			return Version{}, syntaxError(s, "release name must be lower-case letters, digits and '_', starting with a letter")
		}
	}
	v.name = name
	return v, nil
}

// MustParse is like Parse but panics on a malformed version. It is meant for
// constants in tests and program setup.
func MustParse(s string) Version {
	v, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

func syntaxError(s, msg string) error {
	return fmt.Errorf("%w %s: %s", ErrSyntax, strconv.Quote(truncate(s, 64)), msg)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// IsZero reports whether v is the zero Version, which is not a valid version.
func (v Version) IsZero() bool { return v.date == 0 }

// Name returns the release name of v, or "" when it has none.
func (v Version) Name() string { return v.name }

// PreviewName is the release name of a preview version
// ("9999-12-31.preview"): one a server offers to clients who ask for it by
// name, but never chooses for a client on its own.
const PreviewName = "preview"

// IsPreview reports whether v is a preview version: its release name is
// PreviewName.
func (v Version) IsPreview() bool { return v.name == PreviewName }

// Date returns the year, month and day of v.
func (v Version) Date() (year, month, day int) {
	d := int(v.date)
	return d / 10000, d / 100 % 100, d % 100
}

// String returns v as Parse accepts it: "2024-09-30.acacia". The zero
// Version prints as "".
func (v Version) String() string {
	if v.IsZero() {
		return ""
	}
	y, m, d := v.Date()
	b := make([]byte, 0, 11+len(v.name))
	b = strconv.AppendInt(b, int64(y), 10)
	b = append(b, '-', byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
	if v.name != "" {
		b = append(b, '.')
		b = append(b, v.name...)
	}
	return string(b)
}

// Compare returns -1 if a is older than b, +1 if a is newer, 0 if equal.
// It fits slices.SortFunc.
func Compare(a, b Version) int {
	switch {
	case a.date < b.date:
		return -1
	case a.date > b.date:
		return 1
	case a.name < b.name:
		return -1
	case a.name > b.name:
		return 1
	}
	return 0
}

// Before reports whether v is older than u.
func (v Version) Before(u Version) bool { return Compare(v, u) < 0 }

// After reports whether v is newer than u.
func (v Version) After(u Version) bool { return Compare(v, u) > 0 }

// MarshalText implements encoding.TextMarshaler.
func (v Version) MarshalText() ([]byte, error) {
	if v.IsZero() {
		return nil, errors.New("versions: cannot marshal the zero Version")
	}
	return []byte(v.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (v *Version) UnmarshalText(b []byte) error {
	p, err := Parse(string(b))
	if err != nil {
		return err
	}
	*v = p
	return nil
}

// Scan implements sql.Scanner; it accepts a string or []byte column.
func (v *Version) Scan(src any) error {
	switch s := src.(type) {
	case string:
		return v.UnmarshalText([]byte(s))
	case []byte:
		return v.UnmarshalText(s)
	case nil:
		*v = Version{}
		return nil
	}
	return fmt.Errorf("versions: cannot scan %T into a Version", src)
}

// Value implements driver.Valuer; the zero Version is stored as NULL.
func (v Version) Value() (driver.Value, error) {
	if v.IsZero() {
		return nil, nil
	}
	return v.String(), nil
}
