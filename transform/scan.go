package transform

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// ErrSyntax is wrapped by the error returned for a body that is not valid
// JSON.
var ErrSyntax = errors.New("malformed JSON")

// ErrTooDeep is wrapped by the error returned for a body nested deeper than
// the engine's MaxDepth.
var ErrTooDeep = errors.New("JSON nested too deep")

// ErrTooLarge is wrapped by the error returned for an object the engine
// would have to rewrite that is more than 2 GiB long.
var ErrTooLarge = errors.New("JSON object too large")

func syntaxErr(b []byte, i int, msg string) error {
	if i >= len(b) {
		return fmt.Errorf("%w: unexpected end of input: %s", ErrSyntax, msg)
	}
	return fmt.Errorf("%w at offset %d: %s", ErrSyntax, i, msg)
}

// strStop marks the bytes that end a run of plain string characters: the
// quote, the backslash and control characters.
var strStop = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'] = true
	t['\\'] = true
	return t
}()

var hexDigit = func() (t [256]bool) {
	for _, c := range "0123456789abcdefABCDEF" {
		t[c] = true
	}
	return t
}()

// scanString validates the string starting at b[i] == '"' and returns the
// index just past its closing quote.
func scanString(b []byte, i int) (int, error) {
	i++
	for {
		// Find the next quote, backslash or control character c, eight
		// bytes at a time (see plainRun), taking c from the word read.
		var c byte
		found := false
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i : i+8])
			if m := stops(x); m != 0 {
				t := bits.TrailingZeros64(m) // the high bit of the byte
				i += t >> 3
				c, found = byte(x>>(t-7)), true
				break
			}
			i += 8
		}
		if !found {
			for i < len(b) && !strStop[b[i]] {
				i++
			}
			if i >= len(b) {
				return i, syntaxErr(b, i, "unterminated string")
			}
			c = b[i]
		}
		switch c {
		case '"':
			return i + 1, nil
		case '\\':
			i++
			if i >= len(b) {
				return i, syntaxErr(b, i, "unterminated string")
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+4 >= len(b) || !hexDigit[b[i+1]] || !hexDigit[b[i+2]] || !hexDigit[b[i+3]] || !hexDigit[b[i+4]] {
					return i, syntaxErr(b, i, "invalid \\u escape in string")
				}
				i += 5
			default:
				return i, syntaxErr(b, i, "invalid escape in string")
			}
		default:
			return i, syntaxErr(b, i, "control character in string")
		}
	}
}

// scanNumber validates the number starting at b[i] and returns the index
// just past it.
func scanNumber(b []byte, i int) (int, error) {
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return i, syntaxErr(b, start, "invalid value")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return i, syntaxErr(b, i, "invalid number")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return i, syntaxErr(b, i, "invalid number")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	return i, nil
}

func scanLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, syntaxErr(b, i, "invalid value")
	}
	return i + len(lit), nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && b[i] <= ' ' && isSpace(b[i]) {
		i++
	}
	return i
}

// skipValue returns the index just past the value starting at b[i]. The
// bytes must already be known to be valid JSON: it does not validate.
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\n', '\t', '\r':
			return i
		}
		i++
	}
	return i
}

func skipString(b []byte, i int) int {
	i++
	for i < len(b) {
		i = plainRun(b, i)
		if i >= len(b) {
			return i
		}
		switch b[i] {
		case '"':
			return i + 1
		case '\\':
			i += 2
			continue
		}
		i++
	}
	return i
}

// validate checks that b is exactly one JSON value, with surrounding white
// space allowed, nested at most maxDepth deep.
func validate(b []byte, maxDepth int) error {
	w := walker{src: b, maxDepth: maxDepth}
	_, err := w.run()
	return err
}

const (
	lo8 = 0x0101010101010101
	hi8 = 0x8080808080808080
)

// plainRun skips, eight bytes at a time, the bytes from i on that need no
// attention inside a string: it returns the index of the first quote,
// backslash or control character, or of the first byte of the last partial
// word when there is none before it.
func plainRun(b []byte, i int) int {
	for i+8 <= len(b) {
		if m := stops(binary.LittleEndian.Uint64(b[i : i+8])); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	return i
}

// stopAt returns the index of the first quote, backslash or control
// character from j on, eight bytes at a time, or -1 when there is none
// before the last partial word. Small enough to inline, it spares the
// walk's loops a call in the middle of their state.
func stopAt(b []byte, j int) int {
	for ; j+8 <= len(b); j += 8 {
		if m := stops(binary.LittleEndian.Uint64(b[j : j+8])); m != 0 {
			return j + bits.TrailingZeros64(m)>>3
		}
	}
	return -1
}

// stops flags, in the high bit of its byte, each quote, backslash and
// control character of the word x, and maybe bytes above the lowest
// flagged one, never below: the lowest flag is exact. A byte is flagged
// when it minus 1 borrows after an exclusive or with a quote or a
// backslash, or it minus 0x20 does, and its own high bit is clear (bytes
// of 0x80 and above are none of those, nor borrow).
func stops(x uint64) uint64 {
	q, s := x^(lo8*'"'), x^(lo8*'\\')
	return ((q - lo8) | (s - lo8) | (x - lo8*0x20)) &^ x & hi8
}
