// Package golden compares test output with golden files under testdata,
// and rewrites them when a package's tests run with -update.
package golden

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// Check compares got with testdata/name; with update it writes got there
// instead. pkg names the package in the hint printed on a mismatch
// ("go test ./docs -update").
func Check(t testing.TB, update bool, pkg, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./%s -update to create it)", err, pkg)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run go test ./%s -update and review the diff):\n%s", path, pkg, got)
	}
}
