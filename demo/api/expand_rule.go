package api

import (
	"bytes"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/verso-api/verso/apierror"
)

// expandRoot is what an endpoint's expand[] paths start from: the type of
// the object it returns, and whether it returns a list of them (paths
// then start with "data.").
type expandRoot struct {
	r    *resource
	list bool
}

// expandRoots lists the endpoints whose objects have fields expand[] can
// expand. Every other endpoint (events, sources, webhook endpoints, the
// account's version) has none: expand[] is accepted there, as everywhere,
// but any path it names is refused.
func (s *Server) expandRoots() map[string]expandRoot {
	m := map[string]expandRoot{}
	for _, r := range s.byType {
		if len(r.expandable) == 0 {
			continue
		}
		base := "/v1/" + r.plural
		m["GET "+base] = expandRoot{r: r, list: true}
		for _, route := range []string{"POST " + base, "GET " + base + "/:id", "POST " + base + "/:id"} {
			m[route] = expandRoot{r: r}
		}
	}
	m["POST /v1/payment_intents/:id/confirm"] = expandRoot{r: s.byType["payment_intent"]}
	return m
}

// cannotExpand is Stripe's 400 for an expand[] path the endpoint's object
// cannot expand.
func cannotExpand(path string) *paramError {
	return invalid("expand", "This property cannot be expanded (%s).", apierror.Bound(path))
}

// expandPaths returns the request's expand[] paths after checking them,
// one rule on every endpoint, as Stripe's: at most maxExpandPaths paths
// of at most maxExpandDepth levels, each naming fields the endpoint's
// object can expand, through "data." on a list; anything else is a 400
// naming expand. A list's paths are returned without their "data.".
func (s *Server) expandPaths(c echo.Context, p *params) ([]string, error) {
	paths, err := p.expand()
	if err != nil || len(paths) == 0 {
		return nil, err
	}
	root, ok := s.expands[c.Request().Method+" "+c.Path()]
	out := make([]string, 0, len(paths))
	for _, path := range paths {
		if !ok {
			return nil, cannotExpand(path)
		}
		rest := path
		if root.list {
			var data bool
			if rest, data = strings.CutPrefix(path, "data."); !data {
				if s.canExpand(root.r, path) {
					return nil, invalid("expand", "This property cannot be expanded (%s). You may want to try expanding 'data.%s' instead.",
						apierror.Bound(path), apierror.Bound(path))
				}
				return nil, cannotExpand(path)
			}
		}
		if !s.canExpand(root.r, rest) {
			return nil, cannotExpand(path)
		}
		out = append(out, rest)
	}
	return out, nil
}

// canExpand reports whether path names, field by field, ids r's objects
// can expand; a charge's refunds are a list and end a path.
func (s *Server) canExpand(r *resource, path string) bool {
	fields := strings.Split(path, ".")
	for i, f := range fields {
		typ, ok := r.expandable[f]
		if !ok || r.typ == "charge" && f == "refunds" && i < len(fields)-1 {
			return false
		}
		r = s.byType[typ]
	}
	return true
}

// expandRule checks expand[] on every /v1 endpoint before its handler
// runs, those of other packages (webhook endpoints, the account's
// version) included, so that one rule holds everywhere: see expandPaths.
// Parameters it cannot read are left for the handler to refuse; the body
// is put back for it.
func (s *Server) expandRule(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		var raw []byte
		if req.Body != nil && req.Body != http.NoBody && req.Method != http.MethodGet && req.Method != http.MethodDelete {
			var err error
			raw, err = io.ReadAll(io.LimitReader(req.Body, maxParamBytes+1))
			req.Body = readCloser{io.MultiReader(bytes.NewReader(raw), req.Body), req.Body}
			if err != nil || len(raw) > maxParamBytes {
				return next(c)
			}
		}
		p, err := readParams(c)
		if raw != nil {
			req.Body = readCloser{bytes.NewReader(raw), req.Body}
		}
		if err != nil {
			return next(c)
		}
		if _, err := s.expandPaths(c, p); err != nil {
			return s.fail(c, err)
		}
		return next(c)
	}
}
