package importcost

import (
	"os/exec"
	"strings"
	"testing"
)

// deps returns the packages pkg imports, itself included, each with
// whether it is in the standard library.
func deps(t *testing.T, pkg string) map[string]bool {
	t.Helper()
	out, err := exec.Command(goTool(t), "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
	}
	m := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, std, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("go list -deps %s: unexpected line %q", pkg, line)
		}
		m[path] = std == "true"
	}
	if len(m) < 2 {
		t.Fatalf("go list -deps %s listed %d packages: the check measures nothing", pkg, len(m))
	}
	return m
}

// TestSignatureImportsStandardLibraryOnly: a webhook receiver that
// verifies a delivery's signature imports webhooks/signature and, through
// it, nothing but the standard library.
func TestSignatureImportsStandardLibraryOnly(t *testing.T) {
	const pkg = "github.com/verso-api/verso/webhooks/signature"
	for d, std := range deps(t, pkg) {
		if !std && d != pkg {
			t.Errorf("%s imports %s: a signature verifier must import the standard library only", pkg, d)
		}
	}
}

// TestPlatformImports checks what the platform packages an API embeds
// pull in: no web framework (their echo adapters are packages of their
// own), and none of Prometheus, changelog, or a SQL driver, which the
// embedder opts into.
func TestPlatformImports(t *testing.T) {
	const verso = "github.com/verso-api/verso/"
	tests := []struct {
		pkg       string
		forbidden []string
	}{
		{"idempotency", []string{"github.com/labstack/", "github.com/prometheus/", "modernc.org/sqlite", "github.com/jackc/pgx"}},
		{"ratelimit", []string{"github.com/labstack/", "github.com/prometheus/", "modernc.org/sqlite", "github.com/jackc/pgx"}},
		{"webhooks", []string{"github.com/labstack/", "github.com/prometheus/", "modernc.org/sqlite", "github.com/jackc/pgx"}},
		{"storage", []string{"github.com/labstack/", "github.com/prometheus/", "modernc.org/sqlite", "github.com/jackc/pgx"}},
		{"pins", []string{"github.com/labstack/", "github.com/prometheus/", "modernc.org/sqlite", "github.com/jackc/pgx"}},
		{"shadow", []string{"github.com/labstack/", "github.com/prometheus/", verso + "changelog", "github.com/yuin/goldmark"}},
		{"prom", []string{verso + "webhooks", verso + "shadow", verso + "changelog"}},
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			for d := range deps(t, verso+tt.pkg) {
				for _, f := range tt.forbidden {
					if strings.HasPrefix(d, f) {
						t.Errorf("%s imports %s", tt.pkg, d)
					}
				}
			}
		})
	}
}
