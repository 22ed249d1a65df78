// Package importcost checks what importing verso's library costs an
// embedder: the packages the core pulls in, and the growth of a minimal
// net/http program, and of a minimal echo program, that add the
// versioning middleware.
package importcost

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// core is the library an embedder imports to version an API.
var core = []string{
	"github.com/verso-api/verso/apierror",
	"github.com/verso-api/verso/versions",
	"github.com/verso-api/verso/gates",
	"github.com/verso-api/verso/transform",
	"github.com/verso-api/verso/server",
}

// forbidden are module paths the core must never pull in: web frameworks
// (a net/http program imports no echo; the echo form of the middleware is
// package server/echoversioning), SQL drivers and database/sql itself (the
// middleware knows a pin as versions.Pin, not through the stores of
// package pins), Prometheus, and verso's own opt-in packages.
var forbidden = []string{
	"github.com/labstack/",
	"github.com/gin-gonic/",
	"github.com/go-chi/",
	"github.com/verso-api/verso/server/echoversioning",
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
	"github.com/verso-api/verso/storage",
	"github.com/verso-api/verso/pins",
}

// forbiddenExact are packages the core must not import, though it may
// import packages under them: database/sql/driver holds the interfaces
// versions.Version implements to be stored, database/sql the connection
// pools and drivers' registry.
var forbiddenExact = []string{"database/sql"}

func goTool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH: skipping the import checks")
	}
	return p
}

// stdOnly are packages that import the standard library alone, or one
// another (internal/jsonstr is one of them).
var stdOnly = []string{
	"github.com/verso-api/verso/apierror",
	"github.com/verso-api/verso/versions",
	"github.com/verso-api/verso/internal/jsonstr",
}

func TestStandardLibraryOnly(t *testing.T) {
	goBin := goTool(t)
	for _, pkg := range stdOnly {
		out, err := exec.Command(goBin, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, d := range strings.Fields(string(out)) {
			if !slices.Contains(stdOnly, d) {
				t.Errorf("%s imports %s: it must import the standard library only", pkg, d)
			}
		}
	}
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
			if slices.Contains(forbiddenExact, d) {
				t.Errorf("%s imports %s: the core must not", pkg, d)
			}
		}
	}
}

// The minimal programs, with and without the versioning middleware, for
// net/http and for echo.
const (
	plainHTTP = `package main

import (
	"encoding/json"
	"log"
	"net/http"
)

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"id": r.PathValue("id")})
	})
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", mux))
}
`
	versionedHTTP = `package main

import (
	"encoding/json"
	"log"
	"net/http"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/transform"
)

func main() {
	tl, err := gates.LoadFile("timeline.yaml", nil)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"id": r.PathValue("id")})
	})
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", server.Middleware(transform.New(tl, nil))(mux)))
}
`
	plainEcho = `package main

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
	versionedEcho = `package main

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/server/echoversioning"
	"github.com/verso-api/verso/transform"
)

func main() {
	tl, err := gates.LoadFile("timeline.yaml", nil)
	if err != nil {
		panic(err)
	}
	e := echo.New()
	e.Use(echoversioning.Middleware(transform.New(tl, nil)))
	e.GET("/v1/users/:id", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"id": c.Param("id")}) })
	_ = e.Start("127.0.0.1:8080")
}
`
)

// What adding the middleware (and loading a timeline) may add to a minimal
// program that answers JSON: at most the 1.74 MB it added to an echo one
// before the core stopped importing echo, to either. The aim for net/http
// was 1 MB and is not met: loading the YAML timeline (gates, yaml.v3 and
// the regexp package yaml.v3 initialises) is 1.13 MB of the 1.72 MB
// measured, the middleware proper (server, the walker of transform,
// log/slog, apierror) 0.6 MB.
const (
	maxGrowthHTTP = 1_740_000
	maxGrowthEcho = 1_740_000
)

// TestBinaryGrowth builds a minimal net/http program and a minimal echo
// program, each with and without the versioning middleware, and checks
// the differences. It compiles four programs, so it runs only when
// VERSO_IMPORT_COST=1 (.ci/run sets it).
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
	files := map[string]string{"go.mod": gomod, "go.sum": string(sum),
		"plainhttp/main.go": plainHTTP, "versionedhttp/main.go": versionedHTTP,
		"plainecho/main.go": plainEcho, "versionedecho/main.go": versionedEcho}
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
	for _, tt := range []struct {
		name, plain, versioned string
		max                    int64
	}{
		{"net/http", "plainhttp", "versionedhttp", maxGrowthHTTP},
		{"echo", "plainecho", "versionedecho", maxGrowthEcho},
	} {
		plain, versioned := size(tt.plain), size(tt.versioned)
		growth := versioned - plain
		t.Logf("minimal %s program: %d bytes; with the versioning middleware: %d bytes (+%d, %.2f MB)", tt.name, plain, versioned, growth, float64(growth)/1e6)
		if growth > tt.max {
			t.Errorf("the versioning middleware adds %d bytes to a minimal %s program; at most %d", growth, tt.name, tt.max)
		}
		if growth <= 0 {
			t.Errorf("%s: the versioned program is not larger (%d vs %d): the check measures nothing", tt.name, versioned, plain)
		}
	}
}
