package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/storage"
)

// cards is the resource of the cards a customer's sources hold.
var cards = &resource{typ: "card", plural: "sources", prefix: "card_"}

// sourceRoutes mounts a customer's sources: GET lists its cards, POST adds
// one from a test token (source=tok_visa). Before 2015-02-18 they were the
// customer's cards, at /v1/customers/:id/cards: the timeline moves that
// endpoint (endpoint_moved), so the versioning middleware answers 404 at
// the old path from 2015-02-18 on, and 404 at the new one before. echo
// routes a request before its middleware runs, so the old path is mounted
// here too, on the same handlers; the cards are the same card objects.
func (s *Server) sourceRoutes(g *echo.Group) {
	for _, name := range []string{"sources", "cards"} {
		g.GET("/customers/:id/"+name, s.listSources)
		g.POST("/customers/:id/"+name, s.createSource)
	}
}

// isDeleted reports whether a stored customer was deleted.
func isDeleted(body []byte) bool { return gjson.GetBytes(body, "deleted").Bool() }

// listURL is the url of the list a request reads: echo's route path, which
// keeps the path the client used (cards or sources), with the id.
func listURL(c echo.Context) string {
	return strings.Replace(c.Path(), ":id", c.Param("id"), 1)
}

func (s *Server) listSources(c echo.Context) error {
	if _, err := readDeclared(c); err != nil {
		return s.fail(c, err)
	}
	ctx := c.Request().Context()
	account, id := accountOf(c), c.Param("id")
	cus, err := s.objects.get(ctx, s.db, account, "customer", id)
	if errors.Is(err, errNotFound) || err == nil && isDeleted(cus) {
		return notFound("customer", id)
	}
	if err != nil {
		return s.fail(c, err)
	}
	items, err := s.objects.related(ctx, s.db, account, "card", id)
	if err != nil {
		return s.fail(c, err)
	}
	return s.respond(c, http.StatusOK, listJSON(listURL(c), items, false))
}

func (s *Server) createSource(c echo.Context) error {
	p, err := readDeclared(c)
	if err != nil {
		return s.fail(c, err)
	}
	tok, err := p.str("source", 64)
	if err != nil {
		return s.fail(c, err)
	}
	if tok == "" {
		return s.fail(c, missing("source"))
	}
	m, ok := lookupTestMethod(tok)
	if !ok {
		return s.fail(c, invalid("source", "No such token: '%s'", apierror.Bound(tok)))
	}
	account, id := accountOf(c), c.Param("id")
	return s.commit(c, http.StatusOK, account, p, cards, func(tx *storage.Tx, w *write) error {
		ctx := c.Request().Context()
		cus, err := s.objects.getForUpdate(ctx, tx, account, "customer", id)
		if errors.Is(err, errNotFound) || err == nil && isDeleted(cus) {
			return notFound("customer", id)
		}
		if err != nil {
			return err
		}
		card := m.card()
		body, err := sjson.SetBytes(marshal(card), "customer", id)
		if err != nil {
			return err
		}
		w.body = body
		w.event("customer.source.created", body, nil)
		return s.objects.insert(ctx, tx, account, "card", card.ID, w.now.Unix(), w.now.UnixNano(), body)
	})
}
