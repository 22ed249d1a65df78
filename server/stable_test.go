package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// previewTimeline: a preview on top of two stable versions.
//
//	2024-06-01.preview  amount_string (retype amount integer -> string)
//	2024-01-01          total (rename total <- amount_total)
//	2023-01-01          base
func previewTimeline(t *testing.T) *transform.Engine {
	t.Helper()
	v := versions.MustParse
	tl, err := gates.NewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: v("2024-06-01.preview"), Changes: []gates.Change{{ID: "amount_string", Description: "Amounts are strings.",
			Resources: []string{"charge"}, Ops: []gates.Op{gates.Retype("amount", gates.Integer, gates.String)}}}},
		{ID: v("2024-01-01"), Changes: []gates.Change{{ID: "total", Description: "`amount_total` is `total`.",
			Resources: []string{"charge"}, Ops: []gates.Op{gates.Rename("total", "amount_total")}}}},
		{ID: v("2023-01-01")},
	}}, nil)
	require.NoError(t, err)
	return transform.New(tl, nil)
}

// TestPreviewsOnlyWhenAsked: a request with no header and no pin, and a
// new account's pin, get the newest stable version; a preview is served
// when a request names it. NearestVersion serves an unlisted date as the
// nearest older version, and never lands on a preview.
func TestPreviewsOnlyWhenAsked(t *testing.T) {
	store := pins.NewMemoryStore(nil)
	for _, nearest := range []bool{false, true} {
		mw, err := server.Config{Engine: previewTimeline(t), Pins: store, Account: authAccount, NearestVersion: nearest}.ToMiddleware()
		require.NoError(t, err)
		h := httpAuth(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"object":"charge","amount":"100","total":100}`)
		})))
		for _, tt := range []struct {
			header, auth string
			status       int
			served       string
			body         string
		}{
			{"", "", 200, "2024-01-01", `{"object":"charge","amount":100,"total":100}`},
			{"", "Bearer key_acct_new", 200, "2024-01-01", `{"object":"charge","amount":100,"total":100}`},
			{"2024-06-01.preview", "", 200, "2024-06-01.preview", `{"object":"charge","amount":"100","total":100}`},
			{"2023-06-01", "", map[bool]int{false: 400, true: 200}[nearest], map[bool]string{true: "2023-01-01"}[nearest], ""},
			{"2025-01-01", "", map[bool]int{false: 400, true: 200}[nearest], map[bool]string{true: "2024-01-01"}[nearest], ""},
			{"2020-01-01", "", 400, "", ""},
		} {
			req := httptest.NewRequest("GET", "/v1/charges/ch_1", nil)
			if tt.header != "" {
				req.Header.Set("Stripe-Version", tt.header)
			}
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			require.Equal(t, tt.status, rec.Code, "nearest=%v %q: %s", nearest, tt.header, rec.Body)
			if tt.served != "" {
				assert.Equal(t, tt.served, rec.Header().Get("Stripe-Version"), "nearest=%v %q", nearest, tt.header)
			}
			if tt.body != "" {
				assert.JSONEq(t, tt.body, rec.Body.String())
			}
		}
	}
	p, err := store.Get(context.Background(), "acct_new")
	require.NoError(t, err)
	assert.Equal(t, "2024-01-01", p.Version.String(), "a new account is pinned to the newest stable version")
}
