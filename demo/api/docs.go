package api

import (
	_ "embed"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"sync"

	"github.com/labstack/echo/v4"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/changelog"
	"github.com/verso-api/verso/openapi"
	"github.com/verso-api/verso/versions"
)

// OpenAPI is the OpenAPI document of the demo API at its newest version
// (YAML); every older version's is derived from it and the timeline.
//
//go:embed openapi.yaml
var OpenAPI []byte

// specs derives each version's OpenAPI document once.
type specs struct {
	mu      sync.Mutex
	derived map[versions.Version][]byte
}

func (sp *specs) get(s *Server, v versions.Version) ([]byte, error) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if b, ok := sp.derived[v]; ok {
		return b, nil
	}
	b, err := openapi.Derive(OpenAPI, s.timeline, v)
	if err != nil {
		return nil, err
	}
	sp.derived[v] = b
	return b, nil
}

// docsRoutes serves what a reader needs to integrate at any version, with
// no API key: the API reference (/docs?version=V), the OpenAPI document
// (/openapi.json?version=V), the changelog (/changelog?from=&to=) and the
// upgrade guide (/changelog/guide?from=&to=). GET and HEAD.
func (s *Server) docsRoutes(e *echo.Echo) {
	both := []string{http.MethodGet, http.MethodHead}
	sp := &specs{derived: map[versions.Version][]byte{}}
	e.Match(both, "/docs", func(c echo.Context) error { return s.reference(c, sp) })
	e.Match(both, "/openapi.json", func(c echo.Context) error { return s.openAPI(c, sp) })
	e.Match(both, "/changelog", s.changelog)
	e.Match(both, "/changelog/guide", s.guide)
}

// docsVersion reads ?version= (default: the newest stable version, the
// one new accounts get; a preview only when asked for).
func (s *Server) docsVersion(c echo.Context) (versions.Version, error) {
	v, err := s.versionParam(c, "version")
	if err != nil || !v.IsZero() {
		return v, err
	}
	return s.timeline.NewestStable(), nil
}

// failPage answers an error of an HTML page as a small HTML page with the
// status and message of the API error s.fail would write.
func (s *Server) failPage(c echo.Context, err error) error {
	ae, ok := s.fail(c, err).(*apierror.Error)
	if !ok {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(ae.Status)
	_, werr := fmt.Fprintf(c.Response(), "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>%d %s</title></head>\n<body><main><h1>%d %s</h1><p>%s</p><p><a href=\"/docs\">API reference</a> · <a href=\"/changelog\">Changelog</a></p></main></body>\n</html>\n",
		ae.Status, html.EscapeString(http.StatusText(ae.Status)), ae.Status, html.EscapeString(http.StatusText(ae.Status)), html.EscapeString(ae.Message))
	return werr
}

// openAPI serves the OpenAPI document of ?version=, its servers set to
// the address the request reached.
func (s *Server) openAPI(c echo.Context, sp *specs) error {
	v, err := s.docsVersion(c)
	if err != nil {
		return s.fail(c, err)
	}
	doc, err := sp.get(s, v)
	if err != nil {
		return s.fail(c, err)
	}
	scheme := "http"
	if c.Request().TLS != nil {
		scheme = "https"
	}
	if host := c.Request().Host; host != "" && len(host) <= 255 {
		doc, err = sjson.SetBytes(doc, "servers", []map[string]string{{"url": scheme + "://" + host}})
		if err != nil {
			return s.fail(c, err)
		}
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, doc)
}

// reference serves the API reference of ?version=: objects (each with an
// example rendered at the version from the demo's samples), endpoints, a
// version picker and links to the changelog.
func (s *Server) reference(c echo.Context, sp *specs) error {
	v, err := s.docsVersion(c)
	if err != nil {
		return s.failPage(c, err)
	}
	doc, err := sp.get(s, v)
	if err != nil {
		return s.failPage(c, err)
	}
	ref, err := openapi.NewReference(doc, s.timeline, v, openapi.Links{
		Version: func(v versions.Version) string { return "/docs?version=" + url.QueryEscape(v.String()) },
		Change:  func(id string) string { return "/changelog#" + changelog.ChangeAnchor(id) },
		OpenAPI: func(v versions.Version) string { return "/openapi.json?version=" + url.QueryEscape(v.String()) },
		Guide:   guideURL,
	})
	if err != nil {
		return s.failPage(c, err)
	}
	examples := map[string][]byte{}
	for _, sm := range s.guideSamples() {
		examples[sm.Type] = sm.Body
	}
	if err := ref.AddExamples(s.Engine, examples); err != nil {
		return s.failPage(c, err)
	}
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(http.StatusOK)
	return ref.HTML(c.Response())
}

// docTypes are the content types of the formats ?format= takes.
var docTypes = map[string]string{
	"html": echo.MIMETextHTMLCharsetUTF8,
	"md":   "text/markdown; charset=utf-8",
	"json": echo.MIMEApplicationJSON,
}

// docFormat reads ?format=html|md|json (default html).
func docFormat(c echo.Context) (string, error) {
	format := c.QueryParam("format")
	if format == "" {
		format = "html"
	}
	if _, ok := docTypes[format]; !ok {
		return "", invalid("format", "format must be html, md or json")
	}
	return format, nil
}

// guideURL is the address of the upgrade guide from a version to the
// newest stable one.
func guideURL(from versions.Version) string {
	return "/changelog/guide?from=" + url.QueryEscape(from.String())
}

// failDoc answers an error of the changelog or the guide: an HTML page
// when the request asked for HTML (the default), else the API's error.
func (s *Server) failDoc(c echo.Context, err error) error {
	if f := c.QueryParam("format"); f == "" || f == "html" {
		return s.failPage(c, err)
	}
	return s.fail(c, err)
}

// writeDoc writes a changelog or guide in format, with a 200.
func writeDoc(c echo.Context, d changelog.Document, format string) error {
	c.Response().Header().Set(echo.HeaderContentType, docTypes[format])
	c.Response().WriteHeader(http.StatusOK)
	return changelog.Write(c.Response(), d, format)
}

// versionParam reads an optional version from the query: "" is the zero
// version; anything else must be a version of the timeline.
func (s *Server) versionParam(c echo.Context, name string) (versions.Version, error) {
	raw := c.QueryParam(name)
	if raw == "" {
		return versions.Version{}, nil
	}
	v, err := s.timeline.Resolve(raw)
	if err != nil {
		return versions.Version{}, invalid(name, "%s is not a version of this API; supported versions: %s", apierror.Bound(raw), s.timeline.Versions().Supported())
	}
	return v, nil
}

// rangeError turns a range the changelog refuses into a 400.
func rangeError(err error) error {
	if errors.Is(err, changelog.ErrRange) {
		return invalid("from", "from must not be newer than to")
	}
	return err
}

// changelog serves the API's changelog as one HTML page (or Markdown or
// JSON with ?format=md|json), for the versions after ?from= up to ?to=.
func (s *Server) changelog(c echo.Context) error {
	format, err := docFormat(c)
	if err != nil {
		return s.failDoc(c, err)
	}
	from, err := s.versionParam(c, "from")
	if err != nil {
		return s.failDoc(c, err)
	}
	to, err := s.versionParam(c, "to")
	if err != nil {
		return s.failDoc(c, err)
	}
	l, err := changelog.NewLog(s.timeline, changelog.Options{From: from, To: to, GuideURL: guideURL})
	if err != nil {
		return s.failDoc(c, rangeError(err))
	}
	return writeDoc(c, l, format)
}

// guide serves the upgrade guide from ?from= (required) to ?to= (default:
// the newest version), with examples rendered from the demo's sample
// objects.
func (s *Server) guide(c echo.Context) error {
	format, err := docFormat(c)
	if err != nil {
		return s.failDoc(c, err)
	}
	if c.QueryParam("from") == "" {
		return s.failDoc(c, missing("from"))
	}
	from, err := s.versionParam(c, "from")
	if err != nil {
		return s.failDoc(c, err)
	}
	to, err := s.versionParam(c, "to")
	if err != nil {
		return s.failDoc(c, err)
	}
	if to.IsZero() {
		to = s.timeline.NewestStable()
	}
	g, err := changelog.UpgradeGuide(s.timeline, s.Engine, from, to, s.guideSamples())
	if err != nil {
		return s.failDoc(c, rangeError(err))
	}
	g.Report = "/v1/account/api_version/upgrade_report?format=html&to=" + url.QueryEscape(to.String())
	return writeDoc(c, g, format)
}

// guideSamples returns one object of each type the demo serves, in the
// newest schema, for the guide's before and after examples.
func (s *Server) guideSamples() []changelog.Sample {
	var out []changelog.Sample
	for _, typ := range []string{"charge.succeeded", "customer.created", "payment_intent.created", "refund.created"} {
		ev, err := s.sampleEvent(nil, typ)
		if err != nil {
			continue
		}
		obj := gjson.GetBytes(ev, "data.object")
		name := obj.Get("object").String()
		out = append(out, changelog.Sample{Name: name + ".json", Type: name, Body: []byte(obj.Raw)})
	}
	return out
}
