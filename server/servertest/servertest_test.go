package servertest_test

import (
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/server/servertest"
	"github.com/verso-api/verso/transform"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func api(t *testing.T) (http.Handler, *gates.Timeline) {
	t.Helper()
	tl, err := gates.LoadFile("../../testdata/stripe.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/customers/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"cus_1","object":"customer","balance":5,"default_source":"card_1"}`)
	})
	return server.Middleware(transform.New(tl, nil))(mux), tl
}

// TestEveryVersion pins the customer at every version of
// testdata/stripe.yaml in testdata/versions/customer.
func TestEveryVersion(t *testing.T) {
	h, tl := api(t)
	servertest.EveryVersion(t, h, tl, "customer", func() *http.Request {
		return httptest.NewRequest("GET", "/v1/customers/cus_1", nil)
	}, &servertest.Options{Update: *update, Headers: []string{"Content-Type"}})
}

// TestRemote pins the same answers over real HTTP on 127.0.0.1, through
// Remote, in the same golden files.
func TestRemote(t *testing.T) {
	h, tl := api(t)
	srv := httptest.NewServer(h)
	defer srv.Close()
	servertest.EveryVersion(t, servertest.Remote(srv.URL, srv.Client()), tl, "customer", func() *http.Request {
		return httptest.NewRequest("GET", "/v1/customers/cus_1", nil)
	}, &servertest.Options{Headers: []string{"Content-Type"}})

	// A server that cannot be reached is a 502, which no golden file holds.
	srv.Close()
	f := &fakeT{TB: t}
	servertest.EveryVersion(f, servertest.Remote(srv.URL, nil), tl, "customer", func() *http.Request {
		return httptest.NewRequest("GET", "/v1/customers/cus_1", nil)
	}, &servertest.Options{Headers: []string{"Content-Type"}})
	if len(f.errors) != tl.Versions().Len() {
		t.Errorf("%d failures for %d versions against a closed server", len(f.errors), tl.Versions().Len())
	}
}

// fakeT records what EveryVersion reports, to check that it does fail.
type fakeT struct {
	testing.TB
	errors []string
}

func (f *fakeT) Helper()                           {}
func (f *fakeT) Errorf(format string, args ...any) { f.errors = append(f.errors, format) }

func TestEveryVersionFails(t *testing.T) {
	h, tl := api(t)
	dir := t.TempDir()
	req := func() *http.Request { return httptest.NewRequest("GET", "/v1/customers/cus_1", nil) }

	// No golden files: every version is reported.
	f := &fakeT{TB: t}
	servertest.EveryVersion(f, h, tl, "customer", req, &servertest.Options{Dir: dir})
	if len(f.errors) != len(tl.Versions().List()) {
		t.Fatalf("missing golden files: %d errors, want %d", len(f.errors), len(tl.Versions().List()))
	}
	// Written, then equal.
	servertest.EveryVersion(t, h, tl, "customer", req, &servertest.Options{Dir: dir, Update: true})
	f = &fakeT{TB: t}
	servertest.EveryVersion(f, h, tl, "customer", req, &servertest.Options{Dir: dir})
	if len(f.errors) != 0 {
		t.Fatalf("after -update: %d errors", len(f.errors))
	}
	// One file changed: that version alone is reported.
	p := filepath.Join(dir, "customer", "2014-12-22.golden")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), "card_1", "card_2", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	f = &fakeT{TB: t}
	servertest.EveryVersion(f, h, tl, "customer", req, &servertest.Options{Dir: dir})
	if len(f.errors) != 1 {
		t.Fatalf("one golden file changed: %d errors, want 1", len(f.errors))
	}
}
