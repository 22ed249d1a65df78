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
// reserved (see ForbiddenAddress). StoreOptions.AllowPrivate lifts it.
var ErrForbiddenAddress = errors.New("webhooks: address not allowed")

// forbiddenPrefixes are reserved ranges beyond what netip.Addr's methods
// name: "this network", shared address space (carrier NAT, some clouds'
// metadata services), IETF protocol assignments, benchmarking, reserved
// and broadcast, and the IPv6 translation prefixes that reach IPv4.
var forbiddenPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2002::/16"),
}

// ForbiddenAddress reports whether a webhook may not reach ip: a
// loopback, private (RFC 1918, fc00::/7), link-local, multicast,
// unspecified or reserved address. IPv4 addresses written in IPv6 are
// judged as IPv4.
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
	return false
}

// addressError is a URL refused for its address; its message, written
// for the endpoint's owner, names the host and not the server's network.
type addressError struct{ msg string }

func (e *addressError) Error() string { return e.msg }
func (e *addressError) Unwrap() error { return ErrForbiddenAddress }

// checkURLHost refuses a URL host that is, or resolves to, a forbidden
// address. A name that does not resolve now is let through: the dialer
// checks every address it connects to.
func checkURLHost(ctx context.Context, host string) error {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return &addressError{fmt.Sprintf("url: %s is a loopback name; webhooks must reach a public address", clip(host))}
	}
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		if ForbiddenAddress(ip) {
			return &addressError{fmt.Sprintf("url: %s is not a public address; webhooks must reach a public address", ip)}
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil
	}
	for _, ip := range ips {
		if ForbiddenAddress(ip) {
			return &addressError{fmt.Sprintf("url: %s resolves to %s, which is not a public address; webhooks must reach a public address", clip(host), ip)}
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
