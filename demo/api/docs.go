package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/changelog"
	"github.com/verso-api/verso/versions"
)

// docsRoutes serves what a reader needs to integrate at any version, with
// no API key: the changelog (/changelog?from=&to=) and the upgrade guide
// (/changelog/guide?from=&to=). GET and HEAD.
func (s *Server) docsRoutes(e *echo.Echo) {
	both := []string{http.MethodGet, http.MethodHead}
	e.Match(both, "/changelog", s.changelog)
	e.Match(both, "/changelog/guide", s.guide)
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
		return versions.Version{}, invalid(name, "%s is not a version of this API; supported versions: %s", truncate(raw, 40), s.timeline.Versions().Supported())
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
		return s.fail(c, err)
	}
	from, err := s.versionParam(c, "from")
	if err != nil {
		return s.fail(c, err)
	}
	to, err := s.versionParam(c, "to")
	if err != nil {
		return s.fail(c, err)
	}
	l, err := changelog.Changelog(s.timeline, changelog.ChangelogOptions{From: from, To: to})
	if err != nil {
		return s.fail(c, rangeError(err))
	}
	return writeDoc(c, l, format)
}

// guide serves the upgrade guide from ?from= (required) to ?to= (default:
// the newest version), with examples rendered from the demo's sample
// objects.
func (s *Server) guide(c echo.Context) error {
	format, err := docFormat(c)
	if err != nil {
		return s.fail(c, err)
	}
	if c.QueryParam("from") == "" {
		return s.fail(c, missing("from"))
	}
	from, err := s.versionParam(c, "from")
	if err != nil {
		return s.fail(c, err)
	}
	to, err := s.versionParam(c, "to")
	if err != nil {
		return s.fail(c, err)
	}
	if to.IsZero() {
		to = s.timeline.Newest()
	}
	g, err := changelog.UpgradeGuide(s.timeline, s.Engine, from, to, s.guideSamples())
	if err != nil {
		return s.fail(c, rangeError(err))
	}
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
