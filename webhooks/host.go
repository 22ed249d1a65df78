package webhooks

import (
	"errors"
	"net/netip"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// errHostUnreadable is a URL host that a browser would not read as a host
// at all: an IPv4 address out of range, a malformed IPv6 literal, a zone
// index, a character no host may hold.
var errHostUnreadable = errors.New("not a valid host name or IP address")

// hostProfile maps a host name as the WHATWG URL standard's "domain to
// ASCII" does (UTS #46 non-transitional processing, with CheckHyphens and
// UseSTD3ASCIIRules off): case, full-width and other compatibility forms
// fold to their ASCII letters, digits and dots.
var hostProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.Transitional(false),
	idna.CheckHyphens(false),
	idna.CheckJoiners(true),
	idna.StrictDomainName(false),
	idna.VerifyDNSLength(false),
)

// readHost reads the host of an http or https URL (url.URL.Host, the port
// included or not) as a browser, or curl, reads it: the WHATWG URL
// standard's host parser. It returns the address when the host is one,
// else the name, mapped to ASCII and lower case, a trailing dot removed.
//
// An address is written in brackets (IPv6) or as a name whose last label
// is a number, read as IPv4 in every form browsers accept: decimal, hex
// (0x7f000001), octal (0177.0.0.1), fewer than four parts (127.1), mixed
// forms, full-width digits and ideographic dots. Zone indexes, which
// browsers refuse, are refused.
func readHost(host string) (netip.Addr, string, error) {
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 {
			return netip.Addr{}, "", errHostUnreadable
		}
		ip, err := netip.ParseAddr(host[1:end])
		if err != nil || !ip.Is6() || ip.Zone() != "" {
			return netip.Addr{}, "", errHostUnreadable
		}
		return ip, "", nil
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 && (i == len(host)-1 || isDigits(host[i+1:])) {
		host = host[:i]
	}
	if host == "" || !utf8.ValidString(host) {
		return netip.Addr{}, "", errHostUnreadable
	}
	ascii, err := hostProfile.ToASCII(host)
	if err != nil || ascii == "" || strings.ContainsAny(ascii, forbiddenHostChars) {
		return netip.Addr{}, "", errHostUnreadable
	}
	ascii = strings.ToLower(ascii)
	if endsInNumber(ascii) {
		ip, ok := parseIPv4(ascii)
		if !ok {
			return netip.Addr{}, "", errHostUnreadable
		}
		return ip, "", nil
	}
	// An empty label (a..b, .a) is refused too: browsers accept one, but
	// no resolver finds it.
	name := strings.TrimSuffix(ascii, ".")
	if name == "" || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
		return netip.Addr{}, "", errHostUnreadable
	}
	return netip.Addr{}, name, nil
}

// forbiddenHostChars are the WHATWG URL standard's forbidden domain code
// points that can survive IDNA mapping (controls and DEL as well).
const forbiddenHostChars = "\x00\t\n\r #/:<>?@[\\]^|%\x7f" +
	"\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f"

// endsInNumber reports whether the host's last label (a trailing dot
// aside) is a number: all digits, or an IPv4 number such as 0x7f. Such a
// host is an IPv4 address or no host at all.
func endsInNumber(host string) bool {
	parts := strings.Split(host, ".")
	if parts[len(parts)-1] == "" {
		if len(parts) == 1 {
			return false
		}
		parts = parts[:len(parts)-1]
	}
	last := parts[len(parts)-1]
	if last != "" && isDigits(last) {
		return true
	}
	_, ok := parseIPv4Number(last)
	return ok
}

// parseIPv4 reads an IPv4 address of one to four parts, each decimal,
// octal (a leading 0) or hex (a leading 0x); the last part fills the
// bytes the earlier ones leave.
func parseIPv4(host string) (netip.Addr, bool) {
	parts := strings.Split(host, ".")
	if parts[len(parts)-1] == "" && len(parts) > 1 {
		parts = parts[:len(parts)-1]
	}
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var nums [4]uint64
	for i, p := range parts {
		n, ok := parseIPv4Number(p)
		if !ok {
			return netip.Addr{}, false
		}
		nums[i] = n
	}
	last := len(parts) - 1
	for _, n := range nums[:last] {
		if n > 255 {
			return netip.Addr{}, false
		}
	}
	if nums[last] >= 1<<(8*(5-len(parts))) {
		return netip.Addr{}, false
	}
	v := nums[last]
	for i, n := range nums[:last] {
		v += n << (8 * (3 - i))
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// parseIPv4Number reads one part of an IPv4 address. A value beyond 2^32
// is reported as 2^32, which every caller refuses, whatever its digits.
func parseIPv4Number(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	base := uint64(10)
	switch {
	case len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X"):
		s, base = s[2:], 16
	case len(s) >= 2 && s[0] == '0':
		s, base = s[1:], 8
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		d, ok := digitValue(s[i])
		if !ok || d >= base {
			return 0, false
		}
		n = min(n*base+d, 1<<32)
	}
	return n, true
}

func digitValue(c byte) (uint64, bool) {
	switch {
	case '0' <= c && c <= '9':
		return uint64(c - '0'), true
	case 'a' <= c && c <= 'f':
		return uint64(c-'a') + 10, true
	case 'A' <= c && c <= 'F':
		return uint64(c-'A') + 10, true
	}
	return 0, false
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
