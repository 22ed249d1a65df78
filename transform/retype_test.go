package transform

import "testing"

// TestConverters checks what toInteger and toNumber make of strings, those
// their quick paths take (digits, numbers with nothing around them) and
// those they leave to the general case.
func TestConverters(t *testing.T) {
	for _, tc := range []struct {
		raw, integer, number string // "!" for an error
	}{
		{`"0"`, `0`, `0`},
		{`"7"`, `7`, `7`},
		{`"12"`, `12`, `12`},
		{`"00"`, `0`, `!`},
		{`"007"`, `7`, `!`},
		{`"-0"`, `0`, `-0`},
		{`"-12"`, `-12`, `-12`},
		{`"12.00"`, `12`, `12.00`},
		{`"12.5"`, `!`, `12.5`},
		{`"1e5"`, `!`, `1e5`},
		{`"-1.5E-3"`, `!`, `-1.5E-3`},
		{`" 3"`, `3`, `3`},
		{`"3 "`, `3`, `3`},
		{`"\u0031"`, `1`, `1`},
		{`"1."`, `!`, `!`},
		{`"-"`, `!`, `!`},
		{`""`, `!`, `!`},
		{`"x"`, `!`, `!`},
		{`"1x"`, `!`, `!`},
		{`12`, `12`, `12`},
		{`null`, `null`, `null`},
	} {
		for _, c := range []struct {
			name string
			fn   converter
			want string
		}{{"toInteger", toInteger, tc.integer}, {"toNumber", toNumber, tc.number}} {
			got, err := c.fn([]byte(tc.raw))
			if c.want == "!" {
				if err == nil {
					t.Errorf("%s(%s) = %s, want an error", c.name, tc.raw, got)
				}
				continue
			}
			if err != nil || string(got) != c.want {
				t.Errorf("%s(%s) = %s, %v; want %s", c.name, tc.raw, got, err, c.want)
			}
		}
	}
}
