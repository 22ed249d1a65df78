package proxy

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzParseAuthCheck: whatever the flag says, the check is refused or is a
// request to the upstream's own host, with a method token and a path
// under the upstream's.
func FuzzParseAuthCheck(f *testing.F) {
	for _, s := range []string{"GET /v1/me", "HEAD /v1/me?x=1", "/v1/me", "GET v1/me", "GET //evil.example/x", "GET http://evil/x", "POST /a b", "GET /%zz", " GET  /v1/me "} {
		f.Add(s)
	}
	upstream := &url.URL{Scheme: "http", Host: "127.0.0.1:3000", Path: "/api"}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseAuthCheck(s, upstream)
		if err != nil {
			return
		}
		if c.url.Host != upstream.Host || c.url.Scheme != upstream.Scheme {
			t.Fatalf("%q: the check leaves the upstream: %s", s, c.url)
		}
		if !strings.HasPrefix(c.url.Path, "/api/") {
			t.Fatalf("%q: path %q is not under the upstream's", s, c.url.Path)
		}
		if c.method == "" || !validToken(c.method) {
			t.Fatalf("%q: method %q", s, c.method)
		}
		if _, err := http.NewRequest(c.method, c.url.String(), nil); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
	})
}

// FuzzHeaderTokens: the parsers of Accept-Encoding and Connection never
// panic, and withoutTokens never keeps a token it was told to drop.
func FuzzHeaderTokens(f *testing.F) {
	for _, s := range []string{"gzip", "br;q=1.0, gzip;q=0.8", "gzip;q=0", "*", "x-gzip;q=", "keep-alive, Content-Type", ",,, ,", "Upgrade"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = acceptsGzip([]string{s})
		_ = hasToken([]string{s}, "upgrade")
		out := withoutTokens([]string{s}, responseNeeds)
		for _, tok := range out {
			if nameIn(tok, responseNeeds) {
				t.Fatalf("%q kept %q", s, tok)
			}
		}
		if name := connectionNames(http.Header{"Connection": {s}}, responseNeeds); name != "" && !nameIn(name, responseNeeds) {
			t.Fatalf("%q: %q is not one of the names", s, name)
		}
	})
}
