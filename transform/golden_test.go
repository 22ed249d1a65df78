package transform_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/tools/txtar"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/transform"
)

var update = flag.Bool("update", false, "rewrite the golden files in ../testdata/golden")

func stripeEngine(t testing.TB) *transform.Engine {
	t.Helper()
	tl, err := gates.LoadFile("../testdata/stripe.yaml", nil)
	require.NoError(t, err)
	return transform.New(tl, nil)
}

// TestGolden renders every input of ../testdata/golden/*.txtar at every
// version of ../testdata/stripe.yaml and compares with the file's
// VERSION.json sections. Run with -update to rewrite them.
func TestGolden(t *testing.T) {
	e := stripeEngine(t)
	files, err := filepath.Glob("../testdata/golden/*.txtar")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			require.NoError(t, err)
			want := map[string][]byte{}
			var input []byte
			for _, f := range ar.Files {
				if f.Name == "input.json" {
					input = f.Data
				} else {
					want[f.Name] = f.Data
				}
			}
			require.NotNil(t, input, "no input.json")
			out := &txtar.Archive{Comment: ar.Comment, Files: []txtar.File{{Name: "input.json", Data: input}}}
			for _, v := range e.Timeline().Versions().List() {
				got, err := e.Back(input, v)
				require.NoError(t, err, v.String())
				require.True(t, json.Valid(got), "%s: output is not valid JSON", v)
				name := v.String() + ".json"
				if !bytes.HasSuffix(got, []byte("\n")) {
					got = append(got, '\n')
				}
				out.Files = append(out.Files, txtar.File{Name: name, Data: got})
				if !*update {
					require.Contains(t, want, name, "missing section; run go test ./transform -update")
					assert.Equal(t, string(want[name]), string(got), "%s at %s", file, v)
				}
			}
			if *update {
				require.NoError(t, os.WriteFile(file, txtar.Format(out), 0o644))
			}
		})
	}
}
