package transform_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/tools/txtar"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// TestGoldenOps walks each ../testdata/golden/ops/*.txtar through
// ../testdata/ops.yaml, the timeline of the ops that reshape objects. The
// comment's first line is "METHOD PATH STATUS": the response input.json
// is rendered at every version into VERSION.json, and walked forward again
// must give input.json back (forward(back(x)) == x) unless the comment has
// a line starting "no round trip". Each section request*@VERSION.json (or
// form*@VERSION.txt) is an old client's request body on METHOD PATH; its
// walk forward is in the section of the same name prefixed "upgraded-",
// or "error: ..." when it is refused. Run with -update to rewrite them.
func TestGoldenOps(t *testing.T) {
	tl, err := gates.LoadFile("../testdata/ops.yaml", nil)
	require.NoError(t, err)
	e := transform.New(tl, nil)
	newest := tl.Newest()
	files, err := filepath.Glob("../testdata/golden/ops/*.txtar")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			require.NoError(t, err)
			first, _, _ := strings.Cut(string(ar.Comment), "\n")
			f := strings.Fields(first)
			require.Len(t, f, 3, "the comment starts with METHOD PATH STATUS")
			method, path := f[0], f[1]
			status, err := strconv.Atoi(f[2])
			require.NoError(t, err)
			roundTrip := !strings.Contains(string(ar.Comment), "\nno round trip")
			want := map[string][]byte{}
			var input []byte
			var requests []txtar.File
			for _, f := range ar.Files {
				switch {
				case f.Name == "input.json":
					input = f.Data
				case strings.HasPrefix(f.Name, "request") || strings.HasPrefix(f.Name, "form"):
					requests = append(requests, f)
				default:
					want[f.Name] = f.Data
				}
			}
			require.NotNil(t, input, "no input.json")
			out := &txtar.Archive{Comment: ar.Comment, Files: []txtar.File{{Name: "input.json", Data: input}}}
			check := func(name string, got []byte) {
				if !bytes.HasSuffix(got, []byte("\n")) {
					got = append(got, '\n')
				}
				out.Files = append(out.Files, txtar.File{Name: name, Data: got})
				if !*update {
					require.Contains(t, want, name, "missing section; run go test ./transform -update")
					assert.Equal(t, string(want[name]), string(got), "%s: %s", file, name)
				}
			}
			for _, v := range tl.Versions().List() {
				got := walkResponse(t, e, newest, v, method, path, status, input)
				require.True(t, json.Valid(got), "%s: output is not valid JSON", v)
				if roundTrip {
					again := walkResponse(t, e, v, newest, method, path, status, got)
					assert.Equal(t, string(input), string(again), "forward(back(x)) at %s", v)
				}
				check(v.String()+".json", got)
			}
			for _, r := range requests {
				at := strings.IndexByte(r.Name, '@')
				require.Greater(t, at, 0, "%s: want NAME@VERSION.EXT", r.Name)
				v, err := versions.Parse(strings.TrimSuffix(r.Name[at+1:], filepath.Ext(r.Name)))
				require.NoError(t, err, r.Name)
				out.Files = append(out.Files, r)
				body := bytes.TrimSuffix(r.Data, []byte("\n"))
				var got []byte
				if strings.HasPrefix(r.Name, "form") {
					var s string
					s, err = e.UpgradeForm(string(body), v, method, path)
					got = []byte(s)
				} else {
					got, err = e.Upgrade(body, v, method, path)
				}
				if err != nil {
					got = []byte("error: " + err.Error())
				}
				check("upgraded-"+r.Name, got)
			}
			if *update {
				require.NoError(t, os.WriteFile(file, txtar.Format(out), 0o644))
			}
		})
	}
}
