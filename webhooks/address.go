package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// ErrForbiddenAddress is returned for a webhook URL, or a connection,
// whose host is or resolves to an address a webhook may not reach:
// loopback, private, link-local, multicast, unspecified or otherwise
// reserved (see ForbiddenAddress). Options.AllowPrivate lifts it.
var ErrForbiddenAddress = errors.New("webhooks: address not allowed")

// forbiddenPrefixes are reserved ranges beyond what netip.Addr's methods
// name: "this network", shared address space (carrier NAT, some clouds'
// metadata services), IETF protocol assignments, documentation,
// benchmarking, reserved and broadcast; in IPv6 the IPv4-compatible
// range (::/96, deprecated, which some stacks still send over IPv4), the
// local-use NAT64 prefix (whose translator is the operator's own),
// documentation, discard-only and the deprecated site-local range.
var forbiddenPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("100::/64"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("fec0::/10"),
}

// IPv6 ranges that carry an IPv4 address a packet may end up at.
var (
	nat64Prefix      = netip.MustParsePrefix("64:ff9b::/96")    // NAT64, well-known prefix: the last 32 bits
	translatedPrefix = netip.MustParsePrefix("::ffff:0:0:0/96") // SIIT IPv4-translated: the last 32 bits
	sixToFourPrefix  = netip.MustParsePrefix("2002::/16")       // 6to4: bits 16 to 47
	teredoPrefix     = netip.MustParsePrefix("2001::/32")       // Teredo: the server in bits 32 to 63, the client inverted in the last 32
)

// ForbiddenAddress reports whether a webhook may not reach ip: a
// loopback, private (RFC 1918, fc00::/7), link-local, multicast,
// unspecified or reserved address. IPv4 addresses written in IPv6 are
// judged as IPv4: IPv4-mapped (::ffff:0:0/96) and IPv4-translated
// addresses, NAT64 (64:ff9b::/96), 6to4 (2002::/16) and Teredo
// (2001::/32) addresses are forbidden when an IPv4 address they embed
// is; IPv4-compatible addresses (::/96) are forbidden whatever they
// embed.
func ForbiddenAddress(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return true
	}
	for _, p := range forbiddenPrefixes {
		if p.Contains(ip) {
			return true
		}
	}
	if ip.Is6() {
		b := ip.As16()
		v4 := func(i int) netip.Addr { return netip.AddrFrom4([4]byte(b[i : i+4])) }
		switch {
		case nat64Prefix.Contains(ip), translatedPrefix.Contains(ip):
			return ForbiddenAddress(v4(12))
		case sixToFourPrefix.Contains(ip):
			return ForbiddenAddress(v4(2))
		case teredoPrefix.Contains(ip):
			client := [4]byte{^b[12], ^b[13], ^b[14], ^b[15]}
			return ForbiddenAddress(v4(4)) || ForbiddenAddress(netip.AddrFrom4(client))
		}
	}
	return false
}

// addressError is a URL refused for its host: a forbidden address
// (ErrForbiddenAddress), or a host no browser would read
// (errHostUnreadable). Its message, written for the endpoint's owner,
// names the host and not the server's network.
type addressError struct {
	msg string
	err error
}

func (e *addressError) Error() string { return e.msg }
func (e *addressError) Unwrap() error { return e.err }

func forbidden(format string, args ...any) error {
	return &addressError{msg: fmt.Sprintf(format, args...), err: ErrForbiddenAddress}
}

// checkURLHost refuses a URL host (url.URL.Host) that is, or resolves
// to, a forbidden address, reading it as a browser would (see readHost):
// http://2130706433/, http://0x7f.1/ and http://１２７.０.０.１/ are all
// 127.0.0.1. A name that does not resolve now is let through: the dialer
// checks every address it connects to.
func checkURLHost(ctx context.Context, hostport string) error {
	ip, host, err := readHost(hostport)
	if err != nil {
		// Browsers refuse a zone index (fe80::1%eth0); one on a forbidden
		// address is refused as forbidden, which says more.
		if lit, ok := strings.CutPrefix(hostport, "["); ok {
			lit, _, _ = strings.Cut(lit, "]")
			if ip, perr := netip.ParseAddr(lit); perr == nil && ForbiddenAddress(ip) {
				return forbidden("url: %s is not a public address; webhooks must reach a public address", ip.WithZone(""))
			}
		}
		return &addressError{msg: fmt.Sprintf("url: %s is %v", clip(hostport), err), err: err}
	}
	if ip.IsValid() {
		if ForbiddenAddress(ip) {
			return forbidden("url: %s is not a public address; webhooks must reach a public address", ip)
		}
		return nil
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return forbidden("url: %s is a loopback name; webhooks must reach a public address", clip(host))
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil
	}
	for _, ip := range ips {
		if ForbiddenAddress(ip) {
			return forbidden("url: %s resolves to %s, which is not a public address; webhooks must reach a public address", clip(host), ip)
		}
	}
	return nil
}

// dialControl is a net.Dialer Control function that refuses to connect to
// a forbidden address. It runs after name resolution, for every address
// tried, so a name that resolved to a public address when the endpoint
// was created and to a private one now (DNS rebinding) is refused too.
func dialControl(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
	}
	if ForbiddenAddress(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, ap.Addr())
	}
	return nil
}

// newClient returns the worker's default HTTP client: redirects are not
// followed (a 3xx is a failed attempt) and, unless allowPrivate, the
// dialer refuses forbidden addresses. Proxies from the environment are
// not used, so that the address checked is the receiver's.
func newClient(allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = dialControl
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = d.DialContext
	return &http.Client{
		Transport: t,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
