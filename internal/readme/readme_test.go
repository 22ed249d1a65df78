package readme_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// sample is a Go block of README.md.
type sample struct {
	line   int      // the line of its opening fence
	code   []string // its lines
	output []string // what README.md says it prints, if it does
}

// samples returns the Go blocks of a Markdown text.
func samples(md string) []sample {
	lines := strings.Split(md, "\n")
	var out []sample
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```go" {
			continue
		}
		s := sample{line: i + 1}
		for i++; i < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[i]), "```"); i++ {
			s.code = append(s.code, lines[i])
		}
		// "This will print:" and a fenced block after the sample.
		j := i + 1
		for j < len(lines) && strings.TrimSpace(lines[j]) == "" {
			j++
		}
		if j < len(lines) && strings.TrimSpace(lines[j]) == "This will print:" {
			for j++; j < len(lines) && !strings.HasPrefix(lines[j], "```"); j++ {
			}
			for j++; j < len(lines) && !strings.HasPrefix(lines[j], "```"); j++ {
				s.output = append(s.output, lines[j])
			}
		}
		out = append(out, s)
	}
	return out
}

var importLine = regexp.MustCompile(`^import\s+("[^"]+")$`)

// find reports whether the Go source src holds s: its lines in a row,
// compared without their indentation, its import lines among src's
// imports, and, when s says what it prints, an // Output: comment
// saying the same right after it.
func find(s sample, src string) bool {
	var code []string
	for _, l := range s.code {
		l = strings.TrimSpace(l)
		if m := importLine.FindStringSubmatch(l); m != nil {
			if !regexp.MustCompile(`(?m)^\s*(import\s+)?(\w+\s+)?` + regexp.QuoteMeta(m[1]) + `\s*$`).MatchString(src) {
				return false
			}
			continue
		}
		if l == "" && len(code) == 0 {
			continue // the blank line after the imports
		}
		code = append(code, l)
	}
	lines := strings.Split(src, "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
next:
	for i := 0; i+len(code) <= len(lines); i++ {
		for k, l := range code {
			if lines[i+k] != l {
				continue next
			}
		}
		if s.output == nil {
			return true
		}
		want := append([]string{"// Output:"}, s.output...)
		at := i + len(code)
		if at+len(want) > len(lines) {
			continue
		}
		for k, l := range want {
			if k > 0 {
				l = strings.TrimSpace("// " + l)
			}
			if lines[at+k] != l {
				continue next
			}
		}
		return true
	}
	return false
}

// TestSamples checks each Go sample of README.md is held by a test file
// of the repository (any module), where the compiler checks it.
func TestSamples(t *testing.T) {
	root := filepath.Join("..", "..")
	md, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var sources []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, "_test.go") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sources = append(sources, string(b))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ss := samples(string(md))
	if len(ss) < 5 {
		t.Fatalf("found %d Go samples in README.md: the parser is broken", len(ss))
	}
	for _, s := range ss {
		found := false
		for _, src := range sources {
			if find(s, src) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("README.md:%d: no test file holds this sample (put it in internal/readme/samples_test.go, or an Example with its output):\n%s",
				s.line, strings.Join(s.code, "\n"))
		}
	}
}

// TestFind checks the matcher on what it must tell apart.
func TestFind(t *testing.T) {
	src := "package x\n\nimport (\n\t\"fmt\"\n\tv1 \"example.com/v1\"\n)\n\nfunc Example() {\n\tfmt.Println(1)\n\tfmt.Println(2)\n\t// Output:\n\t// 1\n\t// 2\n}\n"
	tests := []struct {
		name string
		s    sample
		want bool
	}{
		{"lines in a row", sample{code: []string{"fmt.Println(1)", "fmt.Println(2)"}}, true},
		{"indented otherwise", sample{code: []string{"    fmt.Println(1)"}}, true},
		{"not in a row", sample{code: []string{"fmt.Println(2)", "fmt.Println(1)"}}, false},
		{"a line changed", sample{code: []string{"fmt.Println(3)"}}, false},
		{"with its output", sample{code: []string{"fmt.Println(1)", "fmt.Println(2)"}, output: []string{"1", "2"}}, true},
		{"another output", sample{code: []string{"fmt.Println(1)", "fmt.Println(2)"}, output: []string{"1", "3"}}, false},
		{"an import held", sample{code: []string{`import "example.com/v1"`, "", "fmt.Println(1)"}}, true},
		{"an import not held", sample{code: []string{`import "example.com/v2"`, "", "fmt.Println(1)"}}, false},
	}
	for _, tt := range tests {
		if got := find(tt.s, src); got != tt.want {
			t.Errorf("%s: find = %v, want %v", tt.name, got, tt.want)
		}
	}
}
