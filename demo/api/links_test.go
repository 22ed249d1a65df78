package api_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/storage/storagetest"
)

// page is what the link checker read of one page: its status, whether it
// is HTML, the ids it has and the links it holds.
type page struct {
	status int
	html   bool
	ids    map[string]bool
	links  []string
	// asksKey is set for a page of an account (its upgrade report): 401
	// with WWW-Authenticate, so that a browser asks for the API key.
	asksKey bool
}

// fetchPage reads one page of the demo, with no API key.
func fetchPage(t *testing.T, u string) page {
	t.Helper()
	res, err := http.Get(u)
	require.NoError(t, err)
	defer res.Body.Close()
	p := page{status: res.StatusCode, ids: map[string]bool{},
		asksKey: res.StatusCode == http.StatusUnauthorized && strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Basic ")}
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		_, err = io.Copy(io.Discard, res.Body)
		require.NoError(t, err)
		return p
	}
	p.html = true
	z := html.NewTokenizer(res.Body)
	for {
		switch z.Next() {
		case html.ErrorToken:
			require.ErrorIs(t, z.Err(), io.EOF, "%s is not HTML", u)
			return p
		case html.StartTagToken, html.SelfClosingTagToken:
			tag, hasAttr := z.TagName()
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				switch {
				case string(k) == "id", string(k) == "name" && string(tag) == "a":
					p.ids[string(v)] = true
				case string(k) == "href" && (string(tag) == "a" || string(tag) == "link"),
					string(k) == "src", string(k) == "action":
					p.links = append(p.links, string(v))
				}
			}
		}
	}
}

// TestNoBrokenLink follows every link of every page the demo serves to
// readers, over HTTP: the reference of every version (/docs?version=V),
// the changelog and the upgrade guide from every version, and what they
// link to, page after page until none is new. Every link must answer 200
// (or, for a page of an account such as its upgrade report, 401 asking a
// browser for its API key) and every #fragment must name an element of
// its page; a link to
// another site would fail too, since the pages need none.
func TestNoBrokenLink(t *testing.T) {
	a := start(t, storagetest.Backends()[0], api.Config{})
	base, err := url.Parse(a.url)
	require.NoError(t, err)
	queue := []string{"/docs", "/changelog"}
	for _, v := range a.Engine.Timeline().Versions().List() {
		queue = append(queue, "/docs?version="+url.QueryEscape(v.String()), "/changelog/guide?from="+url.QueryEscape(v.String()))
	}
	pages := map[string]page{}
	type link struct{ from, to string }
	var links []link
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		if _, ok := pages[u]; ok {
			continue
		}
		p := fetchPage(t, a.url+u)
		pages[u] = p
		for _, l := range p.links {
			ref, err := url.Parse(l)
			if err != nil {
				t.Errorf("%s links to %q, which is not a URL: %v", u, l, err)
				continue
			}
			target := base.ResolveReference(&url.URL{Path: strings.SplitN(u, "?", 2)[0], RawQuery: rawQuery(u)}).ResolveReference(ref)
			if target.Host != base.Host || target.Scheme != base.Scheme {
				t.Errorf("%s links to another site: %s", u, l)
				continue
			}
			to := target.RequestURI()
			if target.Fragment != "" {
				to += "#" + target.Fragment
			}
			links = append(links, link{u, to})
			queue = append(queue, strings.SplitN(to, "#", 2)[0])
		}
	}
	broken := 0
	for _, l := range links {
		path, frag, _ := strings.Cut(l.to, "#")
		p := pages[path]
		switch {
		case p.status != http.StatusOK && !p.asksKey:
			t.Errorf("%s links to %s, which answers %d", l.from, l.to, p.status)
			broken++
		case frag != "" && !p.html:
			t.Errorf("%s links to %s: a fragment of a page that is not HTML", l.from, l.to)
			broken++
		case frag != "" && !p.ids[frag]:
			t.Errorf("%s links to %s: the page has no element with id %q", l.from, l.to, frag)
			broken++
		}
	}
	var html int
	for _, p := range pages {
		if p.html {
			html++
		}
	}
	require.Greater(t, html, 2*a.Engine.Timeline().Versions().Len(), "the reference and the guide of every version were read")
	t.Logf("%d links followed on %d pages (%d HTML), %d broken", len(links), len(pages), html, broken)
}

// rawQuery returns the query string of a path with one.
func rawQuery(u string) string {
	_, q, _ := strings.Cut(u, "?")
	return q
}
