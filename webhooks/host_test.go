package webhooks

import (
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadHost checks that hosts read as the WHATWG URL standard reads
// them (what a browser or curl would connect to): the address, the name,
// or "" for a host no browser accepts.
func TestReadHost(t *testing.T) {
	const bad = ""
	tests := []struct{ host, want string }{
		// IPv4 in every numeric form.
		{"127.0.0.1", "127.0.0.1"},
		{"2130706433", "127.0.0.1"},
		{"0x7f000001", "127.0.0.1"},
		{"0X7F000001", "127.0.0.1"},
		{"017700000001", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"127.0.1", "127.0.0.1"},
		{"0x7f.1", "127.0.0.1"},
		{"0177.1", "127.0.0.1"},
		{"0x7f.0.0.0x1", "127.0.0.1"},
		{"0251.0376.0251.0376", "169.254.169.254"},
		{"0xa9.0xfe.0xa9.0xfe", "169.254.169.254"},
		{"169.16689662", "169.254.169.254"},
		{"00000000000000000000177.1", "127.0.0.1"},
		{"0x00000000000000007f000001", "127.0.0.1"},
		{"0", "0.0.0.0"},
		{"0x", "0.0.0.0"},
		{"4294967295", "255.255.255.255"},
		{"8.8.8.8", "8.8.8.8"},
		{"134744072", "8.8.8.8"},
		{"127.0.0.1:8080", "127.0.0.1"},
		{"127.0.0.1:", "127.0.0.1"},
		// Trailing dots, full-width digits, ideographic dots.
		{"127.0.0.1.", "127.0.0.1"},
		{"2130706433.", "127.0.0.1"},
		{"１２７.０.０.１", "127.0.0.1"},
		{"１２７。０。０。１", "127.0.0.1"},
		{"127．0．0．1", "127.0.0.1"},
		{"127｡0｡0｡1", "127.0.0.1"},
		{"０ｘ７ｆ.１", "127.0.0.1"},
		{"０Ｘ７Ｆ０００００１", "127.0.0.1"},
		// IPv6 literals.
		{"[::1]", "::1"},
		{"[::1]:443", "::1"},
		{"[::127.0.0.1]", "::7f00:1"},
		{"[::ffff:127.0.0.1]", "::ffff:127.0.0.1"},
		{"[0:0:0:0:0:ffff:7f00:1]", "::ffff:127.0.0.1"},
		{"[64:ff9b::a9fe:a9fe]", "64:ff9b::a9fe:a9fe"},
		{"[2606:4700::1111]", "2606:4700::1111"},
		// Names: case, width and trailing dots folded.
		{"example.com", "example.com"},
		{"EXAMPLE.com.", "example.com"},
		{"ｅｘａｍｐｌｅ.com", "example.com"},
		{"ｌｏｃａｌｈｏｓｔ", "localhost"},
		{"LocalHost.", "localhost"},
		{"api.LOCALHOST", "api.localhost"},
		{"bücher.example", "xn--bcher-kva.example"},
		{"a_b.example", "a_b.example"},
		{"1.2.3.4.example", "1.2.3.4.example"},
		{"0x7f.example", "0x7f.example"},
		{"127.0.0.1.nip.io", "127.0.0.1.nip.io"},
		{"1a", "1a"},
		{"0x7g", "0x7g"},
		{"0x7f.0xg", "0x7f.0xg"},
		{"xn--zn7c", bad},
		{"a..b", bad},
		{".example.com", bad},
		{"example.com..", bad},
		{"\x8f", bad},
		// Hosts no browser reads.
		{"256.0.0.1", bad},
		{"1.2.3.256.", bad},
		{"127.0.0.0x100", bad},
		{"1.2.3.4.5", bad},
		{"4294967296", bad},
		{"0x100000000", bad},
		{"08.0.0.1", bad},
		{"foo.0x", bad},
		{"foo.09", bad},
		{"example.123", bad},
		{"1..1", bad},
		{"[::1", bad},
		{"[127.0.0.1]", bad},
		{"[fe80::1%eth0]", bad},
		{"[::1%25lo]", bad},
		{"[:::1]", bad},
		{"", bad},
		{"a<b", bad},
		{"a^b", bad},
		{"a|b", bad},
		{"a%b", bad},
		{"a b", bad},
		{"a\x00b", bad},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			ip, name, err := readHost(tt.host)
			if tt.want == bad {
				require.ErrorIs(t, err, errHostUnreadable, "read as %v %q", ip, name)
				return
			}
			require.NoError(t, err)
			if want, perr := netip.ParseAddr(tt.want); perr == nil {
				assert.Equal(t, want, ip)
				assert.Empty(t, name)
			} else {
				assert.False(t, ip.IsValid(), ip)
				assert.Equal(t, tt.want, name)
			}
		})
	}
}

// FuzzReadHost checks that readHost never panics, that what it reads is
// an address or a clean ASCII name (never a number a browser would read
// as an address), that it reads dotted-decimal IPv4 and bracketed IPv6
// as netip does, and that its results read back as themselves.
func FuzzReadHost(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "2130706433", "0x7f.1", "0177.0.0.1", "１２７。０.０.１", "[::127.0.0.1]",
		"[fe80::1%25eth0]", "example.com.", "ｌｏｃａｌｈｏｓｔ", "bücher.example", "foo.0x", "256.1", "[::1]:80", "a:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		ip, name, err := readHost(host)
		if err != nil {
			if ip.IsValid() || name != "" {
				t.Fatalf("%q: an error with a result %v %q", host, ip, name)
			}
			return
		}
		if ip.IsValid() == (name != "") {
			t.Fatalf("%q: want an address or a name, got %v %q", host, ip, name)
		}
		if want, perr := netip.ParseAddr(host); perr == nil && want.Is4() && ip != want {
			t.Fatalf("%q: netip reads %v, readHost %v", host, want, ip)
		}
		if ip.IsValid() {
			if ip.Zone() != "" {
				t.Fatalf("%q: a zone survived: %v", host, ip)
			}
			again := ip.String()
			if ip.Is6() {
				again = "[" + again + "]"
			}
			if back, _, err := readHost(again); err != nil || back != ip {
				t.Fatalf("%q: %v reads back as %v, %v", host, ip, back, err)
			}
			return
		}
		if !utf8.ValidString(name) || strings.ContainsAny(name, forbiddenHostChars) || name != strings.ToLower(name) {
			t.Fatalf("%q: unclean name %q", host, name)
		}
		for i := 0; i < len(name); i++ {
			if name[i] >= 0x80 {
				t.Fatalf("%q: a name not mapped to ASCII: %q", host, name)
			}
		}
		if endsInNumber(name) {
			t.Fatalf("%q: the name %q ends in a number", host, name)
		}
		if _, back, err := readHost(name); err != nil || back != name {
			t.Fatalf("%q: the name %q reads back as %q, %v", host, name, back, err)
		}
	})
}
