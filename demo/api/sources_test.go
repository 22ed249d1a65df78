package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/storage/storagetest"
)

// TestCardsAreSources checks, over HTTP on SQLite and PostgreSQL, the
// demo's endpoint ops: a customer's cards at /v1/customers/:id/cards
// before 2015-02-18, its sources at /v1/customers/:id/sources from then on,
// served by the same handlers; and the deprecation headers of the base
// version.
func TestCardsAreSources(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		a := start(t, b, api.Config{})
		cus := a.do(t, a.key, "POST", "/v1/customers", "", "email=jenny@example.com")
		require.Equal(t, 200, cus.status, cus.body)
		id := cus.get("id").String()
		cards, sources := "/v1/customers/"+id+"/cards", "/v1/customers/"+id+"/sources"

		// The base version: cards, deprecated, with a sunset.
		c := a.do(t, a.key, "POST", cards, oldest, "source=tok_visa")
		require.Equal(t, 200, c.status, c.body)
		assert.Equal(t, "card", c.get("object").String())
		assert.Equal(t, "4242", c.get("last4").String())
		assert.Equal(t, id, c.get("customer").String())
		l := a.do(t, a.key, "GET", cards, oldest, "")
		require.Equal(t, 200, l.status, l.body)
		assert.Equal(t, cards, l.get("url").String())
		assert.Equal(t, c.get("id").String(), l.get("data.0.id").String())
		assert.Equal(t, "@1424217600", l.header.Get("Deprecation"), "deprecated from 2015-02-18")
		assert.Equal(t, "Wed, 30 Jun 2027 00:00:00 GMT", l.header.Get("Sunset"))
		assert.Equal(t, `</changelog#v2014-12-22>; rel="deprecation"`, l.header.Get("Link"))
		nf := a.do(t, a.key, "GET", sources, oldest, "")
		assert.Equal(t, 404, nf.status, "sources do not exist yet: %s", nf.body)
		assert.Equal(t, "Unrecognized request URL (GET: "+sources+").", nf.get("error.message").String())

		// From 2015-02-18: sources, the same cards; cards are gone.
		for _, v := range []string{"2015-02-18", "2019-10-17", stable} {
			s := a.do(t, a.key, "GET", sources, v, "")
			require.Equal(t, 200, s.status, s.body)
			assert.Equal(t, sources, s.get("url").String())
			assert.Equal(t, c.get("id").String(), s.get("data.0.id").String())
			assert.Empty(t, s.header.Values("Deprecation"), v)
			for _, m := range []string{"GET", "POST"} {
				g := a.do(t, a.key, m, cards, v, "source=tok_visa")
				assert.Equal(t, http.StatusNotFound, g.status, "%s %s at %s: %s", m, cards, v, g.body)
				assert.Equal(t, "resource_missing", g.get("error.code").String())
				assert.Equal(t, "invalid_request_error", g.get("error.type").String())
				assert.Equal(t, v, g.header.Get("Stripe-Version"))
			}
		}
		s := a.do(t, a.key, "POST", sources, stable, "source=tok_mastercard")
		require.Equal(t, 200, s.status, s.body)
		l = a.do(t, a.key, "GET", cards, oldest, "")
		assert.Len(t, l.get("data").Array(), 2, "the old clients see the card added at the new path")

		// Each version's OpenAPI document lists the path that exists there.
		doc := a.do(t, "", "GET", "/openapi.json?version="+oldest, "", "")
		require.Equal(t, 200, doc.status, doc.body)
		assert.True(t, doc.get(`paths./v1/customers/{id}/cards.post`).Exists(), "cards at the base version")
		assert.False(t, doc.get(`paths./v1/customers/{id}/sources`).Exists())
		// The version is deprecated, not each operation (a diff tool would
		// then take the removal of cards in 2015-02-18 as announced).
		assert.False(t, doc.get(`paths./v1/customers/{id}/cards.get.deprecated`).Exists())
		assert.Equal(t, "2015-02-18", doc.get("info.x-deprecated").String())
		assert.Contains(t, doc.get("info.description").String(), "deprecated since 2015-02-18")
		assert.Equal(t, "2027-06-30", doc.get("info.x-sunset").String())
		doc = a.do(t, "", "GET", "/openapi.json?version=2015-02-18", "", "")
		require.Equal(t, 200, doc.status, doc.body)
		assert.True(t, doc.get(`paths./v1/customers/{id}/sources.get`).Exists())
		assert.False(t, doc.get(`paths./v1/customers/{id}/cards`).Exists())
		assert.False(t, doc.get(`paths./v1/customers/{id}/sources.get.deprecated`).Exists())

		bad := a.do(t, a.key, "POST", cards, oldest, "source=tok_nope")
		assert.Equal(t, 400, bad.status, bad.body)
		assert.Equal(t, "source", bad.get("error.param").String())
		missing := a.do(t, a.key, "GET", "/v1/customers/cus_nope/cards", oldest, "")
		assert.Equal(t, 404, missing.status)
		assert.Equal(t, "No such customer: 'cus_nope'", missing.get("error.message").String())
	})
}
