package versions

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrUnknownVersion is wrapped by the error Timeline.Resolve returns for a
// well-formed version the timeline does not list.
var ErrUnknownVersion = errors.New("unknown version")

// Timeline is the ordered list of versions an API supports, newest first.
// A Timeline is immutable and safe for concurrent use.
type Timeline struct {
	list  []Version // newest first
	index map[Version]int
}

// NewTimeline returns a timeline of the given versions, which must be
// distinct and listed newest first.
func NewTimeline(vs ...Version) (*Timeline, error) {
	if len(vs) == 0 {
		return nil, errors.New("versions: a timeline needs at least one version")
	}
	t := &Timeline{list: slices.Clone(vs), index: make(map[Version]int, len(vs))}
	for i, v := range vs {
		if v.IsZero() {
			return nil, fmt.Errorf("versions: version %d is the zero Version", i)
		}
		if _, dup := t.index[v]; dup {
			return nil, fmt.Errorf("versions: %s is listed twice", v)
		}
		if i > 0 && !v.Before(vs[i-1]) {
			return nil, fmt.Errorf("versions: %s is listed after %s but is not older; list versions newest first", v, vs[i-1])
		}
		t.index[v] = i
	}
	return t, nil
}

// Newest returns the newest version.
func (t *Timeline) Newest() Version { return t.list[0] }

// NewestStable returns the newest version that is not a preview
// (Version.IsPreview): the version a server pins a new account to. When
// every version is a preview, it returns the newest.
func (t *Timeline) NewestStable() Version {
	for _, v := range t.list {
		if !v.IsPreview() {
			return v
		}
	}
	return t.list[0]
}

// Base returns the oldest version, the base of the timeline.
func (t *Timeline) Base() Version { return t.list[len(t.list)-1] }

// Len returns the number of versions.
func (t *Timeline) Len() int { return len(t.list) }

// List returns the versions, newest first. The caller may modify the slice.
func (t *Timeline) List() []Version { return slices.Clone(t.list) }

// Contains reports whether v is in the timeline.
func (t *Timeline) Contains(v Version) bool {
	_, ok := t.index[v]
	return ok
}

// Index returns the position of v, 0 for the newest, or -1 if absent.
func (t *Timeline) Index(v Version) int {
	if i, ok := t.index[v]; ok {
		return i
	}
	return -1
}

// Resolve parses s and checks that the timeline supports it. The error
// wraps ErrSyntax or ErrUnknownVersion and lists the supported versions.
func (t *Timeline) Resolve(s string) (Version, error) {
	v, err := Parse(s)
	if err != nil {
		return Version{}, fmt.Errorf("%w; supported versions: %s", err, t.Supported())
	}
	if !t.Contains(v) {
		return Version{}, fmt.Errorf("%w %s; supported versions: %s", ErrUnknownVersion, v, t.Supported())
	}
	return v, nil
}

// ResolveNearest is Resolve, except that a well-formed version the
// timeline does not list resolves to the nearest older version that it
// lists and that is not a preview: "2024-01-01" is served as 2023-10-16
// when that is the version before it. A version older than the base is
// still an error wrapping ErrUnknownVersion, and so is one newer than every
// version when only previews are newer. A preview is served only when
// asked for by its exact name.
//
// Serving unknown dates is an operator's choice (Stripe refuses them);
// Resolve is the strict default.
func (t *Timeline) ResolveNearest(s string) (Version, error) {
	v, err := Parse(s)
	if err != nil {
		return Version{}, fmt.Errorf("%w; supported versions: %s", err, t.Supported())
	}
	if t.Contains(v) {
		return v, nil
	}
	if n, ok := t.Nearest(v); ok {
		return n, nil
	}
	return Version{}, fmt.Errorf("%w %s: older than the oldest version %s; supported versions: %s", ErrUnknownVersion, v, t.Base(), t.Supported())
}

// Nearest returns v when the timeline lists it, else the newest listed
// version older than v that is not a preview; ok is false when there is
// none.
func (t *Timeline) Nearest(v Version) (Version, bool) {
	if t.Contains(v) {
		return v, true
	}
	i, _ := slices.BinarySearchFunc(t.list, v, func(e, target Version) int { return Compare(target, e) })
	for ; i < len(t.list); i++ {
		if !t.list[i].IsPreview() {
			return t.list[i], true
		}
	}
	return Version{}, false
}

// Supported returns the versions as one comma-separated string, newest first.
func (t *Timeline) Supported() string {
	var b strings.Builder
	for i, v := range t.list {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(v.String())
	}
	return b.String()
}
