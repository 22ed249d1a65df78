// Package servertest pins every version's answer of an API in the API's own
// tests: EveryVersion sends one request at each version of a timeline and
// compares each answer (status and body) with a golden file, so a team
// sees in its CI any change to what a pinned client gets.
//
//	var update = flag.Bool("update", false, "rewrite the golden files")
//
//	func TestGetUser(t *testing.T) {
//		servertest.EveryVersion(t, handler, timeline, "get_user", func() *http.Request {
//			return httptest.NewRequest("GET", "/v1/users/u_1", nil)
//		}, &servertest.Options{Update: *update})
//	}
//
// The golden files are testdata/versions/<name>/<version>.golden; `go test
// -update` (with the flag wired to Options.Update as above) rewrites them.
package servertest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verso-api/verso/gates"
)

// Options configure EveryVersion. The zero value is right for most tests.
type Options struct {
	// Dir is the folder of the golden files.
	// Optional. Default value "testdata/versions".
	Dir string
	// Update rewrites the golden files instead of comparing with them.
	// Optional. Default value false.
	Update bool
	// Header is the request header naming the version.
	// Optional. Default value the timeline's header.
	Header string
	// Headers lists response headers recorded in the golden files, besides
	// the status (the version header always is).
	// Optional. Default value none.
	Headers []string
	// Normalize rewrites a body before it is compared or written, to mask
	// what changes between runs (ids, timestamps).
	// Optional. Default value nil: bodies as they are (JSON is indented).
	Normalize func(body []byte) []byte
}

// EveryVersion sends the request newRequest builds to h once at every
// version of tl (newest first), with the version header set, and compares
// each answer with its golden file. newRequest is called once per version,
// so each request gets a fresh body.
func EveryVersion(t testing.TB, h http.Handler, tl *gates.Timeline, name string, newRequest func() *http.Request, opts *Options) {
	t.Helper()
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Dir == "" {
		o.Dir = filepath.Join("testdata", "versions")
	}
	if o.Header == "" {
		o.Header = tl.Header()
	}
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		t.Fatalf("servertest: name %q must be a plain file name", name)
	}
	for _, v := range tl.Versions().List() {
		req := newRequest()
		req.Header.Set(o.Header, v.String())
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		got := Render(rec.Result().StatusCode, rec.Header(), rec.Body.Bytes(), o.Header, o.Headers, o.Normalize)
		path := filepath.Join(o.Dir, name, v.String()+".golden")
		if err := check(path, got, o.Update); err != nil {
			t.Errorf("servertest: %s at %s: %v", name, v, err)
		}
	}
}

// Render is the text of a golden file: the status line, the listed headers
// (versionHeader first) and the body, indented when it is JSON.
func Render(status int, h http.Header, body []byte, versionHeader string, headers []string, normalize func([]byte) []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d %s\n", status, http.StatusText(status))
	for _, k := range append([]string{versionHeader}, headers...) {
		if v := h.Values(k); len(v) > 0 {
			fmt.Fprintf(&b, "%s: %s\n", http.CanonicalHeaderKey(k), strings.Join(v, ", "))
		}
	}
	b.WriteByte('\n')
	if normalize != nil {
		body = normalize(body)
	}
	var ind bytes.Buffer
	if json.Valid(body) && json.Indent(&ind, body, "", "  ") == nil {
		body = ind.Bytes()
	}
	b.Write(body)
	if len(body) > 0 && body[len(body)-1] != '\n' {
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Check compares got (a Render) with the golden file at path, or rewrites
// the file when update is set, and reports a difference on t: for an
// answer EveryVersion does not make, such as one to a version the
// timeline does not list.
func Check(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if err := check(path, got, update); err != nil {
		t.Errorf("servertest: %v", err)
	}
}

func check(path string, got []byte, update bool) error {
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		return os.WriteFile(path, got, 0o644)
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no golden file %s: run the test with -update to write it", path)
	}
	if err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("the answer differs from %s (run with -update if the change is intended)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
	return nil
}
