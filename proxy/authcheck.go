package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/verso-api/verso/apierror"
)

// maxCheckBody bounds the body of a refused auth check passed on to the
// client.
const maxCheckBody = 64 << 10

// The errors of the auth check.
var (
	// ErrAuthCheck: the upstream answered the auth check with neither a
	// success nor 401 or 403, so the credentials could not be checked
	// (502).
	ErrAuthCheck = apierror.New(http.StatusBadGateway, apierror.TypeAPI, "auth_check_failed",
		"Your credentials could not be checked: the API server behind this proxy did not answer the check. Please retry the request.")
)

// authCheck is Config.AuthCheck, parsed: the request the proxy sends the
// upstream with a client's credentials to learn whether it accepts them.
type authCheck struct {
	method string
	url    *url.URL
}

// parseAuthCheck parses "METHOD /path" (with an optional query) against
// the upstream's URL.
func parseAuthCheck(s string, upstream *url.URL) (*authCheck, error) {
	method, target, ok := strings.Cut(strings.TrimSpace(s), " ")
	target = strings.TrimSpace(target)
	if !ok || method == "" || !validToken(method) || !strings.HasPrefix(target, "/") {
		return nil, fmt.Errorf("proxy: auth check %q is not METHOD /path, such as GET /v1/me", s)
	}
	ref, err := url.Parse(target)
	if err != nil || ref.Host != "" || ref.Scheme != "" || !strings.HasPrefix(ref.Path, "/") {
		return nil, fmt.Errorf("proxy: auth check %q: the path is not a path on the upstream", s)
	}
	u := *upstream
	u.Path = strings.TrimSuffix(upstream.Path, "/") + ref.Path
	u.RawPath = ""
	u.RawQuery = ref.RawQuery
	return &authCheck{method: strings.ToUpper(method), url: &u}, nil
}

func validToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// credentialHeaders are the request headers forwarded with the auth check.
func (p *Proxy) credentialHeaders() []string {
	h := []string{"Authorization", "Cookie"}
	if p.config.AccountHeader != "" {
		h = append(h, p.config.AccountHeader)
	}
	return h
}

// checkAuth sends the auth check upstream with r's credentials. It returns
// nil when the upstream answered 2xx; otherwise it has answered r: the
// upstream's own 401 or 403 as it is, or an error in the API's shape.
func (p *Proxy) checkAuth(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), p.config.UpstreamTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, p.auth.method, p.auth.url.String(), nil)
	if err != nil {
		return p.refuse(w, r, ErrAuthCheck.Wrap(err))
	}
	for _, k := range p.credentialHeaders() {
		if vs := r.Header.Values(k); len(vs) > 0 {
			req.Header[k] = vs
		}
	}
	req.Header.Set("User-Agent", "verso-proxy-auth-check")
	res, err := p.config.Transport.RoundTrip(req)
	if err != nil {
		e := ErrAuthCheck
		if isTimeout(err) {
			e = ErrUpstreamTimeout
		}
		p.config.Logger.WarnContext(r.Context(), "verso: auth check failed", "check", p.config.AuthCheck, "error", err)
		return p.refuse(w, r, e.Wrap(err))
	}
	defer res.Body.Close()
	switch {
	case res.StatusCode >= 200 && res.StatusCode <= 299:
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, maxCheckBody))
		return nil
	case res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden:
		// The API's own refusal, as it would answer any other request with
		// these credentials.
		body, err := io.ReadAll(io.LimitReader(res.Body, maxCheckBody+1))
		if err != nil || len(body) > maxCheckBody {
			return p.refuse(w, r, ErrAuthCheck.Wrap(fmt.Errorf("reading the check's %d: %v", res.StatusCode, err)))
		}
		h := w.Header()
		for _, k := range []string{"Content-Type", "Www-Authenticate"} {
			if vs := res.Header.Values(k); len(vs) > 0 {
				h[k] = vs
			}
		}
		h.Del("Content-Length")
		w.WriteHeader(res.StatusCode)
		_, _ = w.Write(body)
		return errRefused
	default:
		p.config.Logger.WarnContext(r.Context(), "verso: auth check answered neither 2xx nor 401/403",
			"check", p.config.AuthCheck, "status", res.StatusCode)
		return p.refuse(w, r, ErrAuthCheck.Wrap(fmt.Errorf("the check answered %d", res.StatusCode)))
	}
}

// errRefused is checkAuth's error once it has answered the request.
var errRefused = errors.New("proxy: refused by the auth check")

func (p *Proxy) refuse(w http.ResponseWriter, r *http.Request, e *apierror.Error) error {
	apierror.Write(w, r, e)
	return errRefused
}
