package gates

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
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

func (l ErrorList) sort() {
	slices.SortStableFunc(l, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Pos.File, b.Pos.File), cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
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

// Err returns l as an error, or nil when it is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	l.sort()
	return l
}
