package changelog

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadSamples checks that any file content either loads as samples
// that are JSON objects or gives an error, never a panic.
func FuzzLoadSamples(f *testing.F) {
	for _, s := range []string{
		`{"object":"charge"}`, "{\"a\":1}\n{\"b\":2}\n", `[1]`, `null`, "{\n", "\xff", `{"object":1}`, "",
	} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, content string) {
		for _, name := range []string{"s.json", "s.jsonl", "s"} {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			ss, err := LoadSamples(p)
			if err != nil {
				continue
			}
			for _, s := range ss {
				var m map[string]json.RawMessage
				if json.Unmarshal(s.Body, &m) != nil || m == nil {
					t.Fatalf("%s: sample %s is not a JSON object: %q", name, s.Name, s.Body)
				}
			}
		}
	})
}
