package gates_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/gates"
)

// TestErrorListOrder checks that Err orders problems by file, line and
// column, and keeps the order they were found in at one position.
func TestErrorListOrder(t *testing.T) {
	at := func(file string, line, col int, msg string) *gates.Error {
		return &gates.Error{Pos: gates.Pos{File: file, Line: line, Col: col}, Msg: msg}
	}
	var l gates.ErrorList
	// Forty problems found out of order, four at each position.
	for i := 0; i < 40; i++ {
		line := 10 - i%10
		l = append(l, at("t.yaml", line, 3, fmt.Sprintf("problem %d", i)))
	}
	l = append(l, at("a.yaml", 99, 1, "other file"), at("t.yaml", 1, 2, "column 2"), at("t.yaml", 1, 1, "column 1"))
	err := l.Err()
	require.True(t, errors.Is(err, gates.ErrInvalid))
	var got gates.ErrorList
	require.True(t, errors.As(err, &got))
	var want []string
	want = append(want, "a.yaml:99:1: other file", "t.yaml:1:1: column 1", "t.yaml:1:2: column 2")
	for line := 1; line <= 10; line++ {
		for k := 0; k < 4; k++ {
			want = append(want, fmt.Sprintf("t.yaml:%d:3: problem %d", line, 10-line+10*k))
		}
	}
	var msgs []string
	for _, e := range got {
		msgs = append(msgs, e.Error())
	}
	assert.Equal(t, want, msgs)
	assert.Equal(t, "a.yaml:99:1: other file (and 42 more errors)", err.Error())
	assert.NoError(t, gates.ErrorList(nil).Err())
}
