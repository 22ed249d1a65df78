package gates

import (
	"cmp"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrInvalid is matched (with errors.Is) by every ErrorList.
var ErrInvalid = errors.New("invalid timeline")

// Error is one problem in a timeline, with where it was declared.
type Error struct {
	Pos    Pos
	Change string // the change id, if the problem is inside a change
	Msg    string
}

// Error prints "file:line:col: change: message".
func (e *Error) Error() string {
	var b strings.Builder
	if p := e.Pos.String(); p != "" {
		b.WriteString(p)
		b.WriteString(": ")
	}
	if e.Change != "" {
		b.WriteString(e.Change)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every problem found in a timeline, in file order.
type ErrorList []*Error

// add appends a problem. It is called from over a hundred places, all on
// the loading path; the compiler would inline it into each (a Sprintf, an
// allocation and an append, some 270 bytes a copy, 60 KB of an embedder's
// binary), so it is kept out of line: a timeline is loaded once.
//
//go:noinline
func (l *ErrorList) add(pos Pos, change, format string, args ...any) {
	*l = append(*l, &Error{Pos: pos, Change: change, Msg: fmt.Sprintf(format, args...)})
}

// sort orders the problems by position, keeping the order they were
// found in at one position.
func (l ErrorList) sort() {
	idx := make([]int, len(l))
	for i := range idx {
		idx[i] = i
	}
	sort.Sort(byPos{l, idx})
}

// byPos sorts problems by position, and by the order they were found in
// (idx) at one position: sort.Sort, which every net/http program links,
// is not stable, and a stable generic sort would be 3 KB more of an
// embedder's binary.
type byPos struct {
	l   ErrorList
	idx []int
}

func (s byPos) Len() int { return len(s.l) }

func (s byPos) Less(i, j int) bool {
	a, b := s.l[i].Pos, s.l[j].Pos
	if c := cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col)); c != 0 {
		return c < 0
	}
	return s.idx[i] < s.idx[j]
}

func (s byPos) Swap(i, j int) {
	s.l[i], s.l[j] = s.l[j], s.l[i]
	s.idx[i], s.idx[j] = s.idx[j], s.idx[i]
}

// Error prints the first problem and how many more there are.
func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	return fmt.Sprintf("%s (and %d more errors)", l[0], len(l)-1)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (l ErrorList) Is(target error) bool { return target == ErrInvalid }

// Err returns l as an error, or nil when it is empty. It is kept out of
// line, as add is: loading calls it at nine places.
//
//go:noinline
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	l.sort()
	return l
}
