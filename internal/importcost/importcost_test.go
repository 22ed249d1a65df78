// Package importcost checks what importing verso's library costs an
// embedder: the packages the core pulls in, and the growth of a minimal
// echo program that adds the versioning middleware.
package importcost

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// core is the library an embedder imports to version an API.
var core = []string{
	"github.com/verso-api/verso/versions",
	"github.com/verso-api/verso/gates",
	"github.com/verso-api/verso/transform",
	"github.com/verso-api/verso/server",
}

// forbidden are module paths the core must never pull in: SQL drivers,
// Prometheus, and verso's own opt-in packages.
var forbidden = []string{
	"modernc.org/sqlite",
	"github.com/jackc/pgx",
	"github.com/lib/pq",
	"github.com/mattn/go-sqlite3",
	"github.com/prometheus/",
	"github.com/verso-api/verso/shadow",
	"github.com/verso-api/verso/changelog",
	"github.com/verso-api/verso/openapi",
	"github.com/verso-api/verso/webhooks",
	"github.com/verso-api/verso/idempotency",
	"github.com/verso-api/verso/ratelimit",
	"github.com/verso-api/verso/demo/",
	"github.com/verso-api/verso/storage/drivers",
}

func goTool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH: skipping the import checks")
	}
	return p
}

func TestCoreImports(t *testing.T) {
	goBin := goTool(t)
	for _, pkg := range core {
		out, err := exec.Command(goBin, "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		deps := strings.Fields(string(out))
		if len(deps) == 0 {
			t.Fatalf("go list -deps %s listed nothing", pkg)
		}
		for _, d := range deps {
			for _, f := range forbidden {
				if strings.HasPrefix(d, f) {
					t.Errorf("%s imports %s (through %s): the core must not", pkg, f, d)
				}
			}
		}
	}
}

const plainProgram = `package main

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

func main() {
	e := echo.New()
	e.GET("/v1/users/:id", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"id": c.Param("id")}) })
	_ = e.Start("127.0.0.1:8080")
}
`

const versionedProgram = `package main

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/transform"
)

func main() {
	tl, err := gates.LoadFile("timeline.yaml", nil)
	if err != nil {
		panic(err)
	}
	e := echo.New()
	e.Use(server.Versioning(transform.New(tl, nil)))
	e.GET("/v1/users/:id", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"id": c.Param("id")}) })
	_ = e.Start("127.0.0.1:8080")
}
`

// maxGrowth is what adding the middleware may add to a minimal echo
// program.
const maxGrowth = 2 << 20

// TestBinaryGrowth builds a minimal echo program with and without the
// versioning middleware and checks the difference. It compiles two
// programs, so it runs only when VERSO_IMPORT_COST=1 (.ci/run sets it).
func TestBinaryGrowth(t *testing.T) {
	if os.Getenv("VERSO_IMPORT_COST") != "1" {
		t.Skip("set VERSO_IMPORT_COST=1 to build the two programs and compare their sizes (.ci/run does)")
	}
	goBin := goTool(t)
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gomod := "module importcost\n\ngo 1.26\n\nrequire github.com/verso-api/verso v0.0.0\n\nreplace github.com/verso-api/verso => " + root + "\n"
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"go.mod": gomod, "go.sum": string(sum), "plain/main.go": plainProgram, "versioned/main.go": versionedProgram}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	size := func(name string) int64 {
		out := filepath.Join(dir, name+".bin")
		cmd := exec.Command(goBin, "build", "-mod=mod", "-o", out, "./"+name)
		cmd.Dir = dir
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", name, err, b)
		}
		fi, err := os.Stat(out)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	plain, versioned := size("plain"), size("versioned")
	growth := versioned - plain
	t.Logf("minimal echo program: %d bytes; with the versioning middleware: %d bytes (+%d, %.2f MB)", plain, versioned, growth, float64(growth)/1e6)
	if growth > maxGrowth {
		t.Errorf("the versioning middleware adds %d bytes to a minimal echo program; at most %d", growth, maxGrowth)
	}
	if growth <= 0 {
		t.Errorf("the versioned program is not larger (%d vs %d): the check measures nothing", versioned, plain)
	}
}
