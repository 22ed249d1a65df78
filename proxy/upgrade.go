package proxy

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/versions"
)

// upgradeOf returns the protocol a request asks to switch to (Connection:
// Upgrade and Upgrade: websocket), or "".
func upgradeOf(h http.Header) string {
	if len(h["Upgrade"]) == 0 || !hasToken(h["Connection"], "upgrade") {
		return ""
	}
	return strings.Join(h["Upgrade"], ", ")
}

// checkUpgrade refuses a switch of protocols that would carry traffic past
// versioning: h2c at any version (the connection would carry further
// requests, each with its own version and account, straight to the
// upstream), and any protocol at a version whose walk changes bodies,
// status codes or headers (the messages over the new protocol would not
// be walked).
func (p *Proxy) checkUpgrade(protocol string, v versions.Version) *apierror.Error {
	protocol = apierror.Bound(protocol)
	if hasToken([]string{protocol}, "h2c") || strings.Contains(strings.ToLower(protocol), "h2c") {
		return ErrUpgradeRefused.With(fmt.Sprintf(
			"This proxy does not switch connections to %s: the requests that would follow on it would not be versioned. Use HTTP/1.1 or HTTP/2 over TLS.", protocol))
	}
	if !p.upgrades[v] {
		return ErrUpgradeRefused.With(fmt.Sprintf(
			"This connection cannot be upgraded to %s at API version %s: what passes over it would not be walked to that version. Upgrade at version %s, whose messages are not walked.",
			protocol, v, p.newest))
	}
	return nil
}
