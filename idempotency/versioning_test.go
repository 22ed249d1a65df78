package idempotency_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/idempotency"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// TestInsideVersioning runs the middleware inside verso's real versioning
// middleware, as the demo server does: the saved response is the newest
// schema's, and each retry gets it in its own version.
func TestInsideVersioning(t *testing.T) {
	tl, err := gates.NewTimeline(gates.Spec{
		Header: "Stripe-Version",
		Versions: []gates.Version{
			{ID: versions.MustParse("2024-01-01"), Changes: []gates.Change{{
				ID: "customer_balance", Description: "`account_balance` is renamed to `balance`.",
				Resources: []string{"customer"},
				Endpoints: []gates.Endpoint{{Method: "POST", Path: "/v1/customers"}},
				Ops:       []gates.Op{gates.Rename("balance", "account_balance")},
			}}},
			{ID: versions.MustParse("2023-01-01")},
		},
	}, nil)
	require.NoError(t, err)

	var runs atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/customers", func(w http.ResponseWriter, r *http.Request) {
		runs.Add(1)
		var in struct{ Balance json.Number } // the handler knows the newest schema only
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			apierror.Write(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"cus_1","object":"customer","balance":`+in.Balance.String()+`}`)
	})
	versioning := server.Middleware(transform.New(tl, nil))
	srv := httptest.NewServer(versioning(idempotency.Middleware(idempotency.NewMemoryStore(nil))(mux)))
	t.Cleanup(srv.Close)

	tests := []struct {
		name, version, body string
		status              int
		replayed            bool
		want                string
	}{
		{"first, old version", "2023-01-01", `{"account_balance":5}`, 200, false, `{"id":"cus_1","object":"customer","account_balance":5}`},
		{"retry, newest version", "2024-01-01", `{"balance":5}`, 200, true, `{"id":"cus_1","object":"customer","balance":5}`},
		{"retry, old version", "2023-01-01", `{"account_balance":5}`, 200, true, `{"id":"cus_1","object":"customer","account_balance":5}`},
		{"different parameters", "2023-01-01", `{"account_balance":6}`, 400, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/customers", strings.NewReader(tt.body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Stripe-Version", tt.version)
			req.Header.Set("Idempotency-Key", "k")
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			require.Equal(t, tt.status, res.StatusCode, string(body))
			require.Equal(t, tt.version, res.Header.Get("Stripe-Version"))
			require.Equal(t, tt.replayed, res.Header.Get("Idempotent-Replayed") == "true")
			if tt.want != "" {
				require.JSONEq(t, tt.want, string(body))
			} else {
				require.Contains(t, string(body), `"code":"idempotency_key_reused"`)
			}
		})
	}
	require.EqualValues(t, 1, runs.Load())
}
