package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/verso-api/verso/changelog"
	"github.com/verso-api/verso/openapi"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

func init() {
	register(&command{name: "docs", summary: "write a static API reference site, one page per version", run: runDocs, usage: `Usage: verso docs -f TIMELINE --spec openapi.json --out DIR [--samples PATH] [--keep-existing]

Writes the API reference of every version of the timeline as a static site:
DIR/V.html for each version V (objects with their fields and types,
endpoints with their parameters, a version picker, links to the changelog
entries that made the version), DIR/index.html (the newest stable version;
a preview is never the default), DIR/guide-V.html (the upgrade guide from
V to the newest stable version),
DIR/openapi-V.json (each version's derived OpenAPI document) and
DIR/changelog.html. The same pages "verso serve" answers at /docs.
Warnings and disagreements between the document and the timeline go to
standard error.

Objects are the schemas of components.schemas with an x-resourceId, or
named like a resource of the timeline, or whose "object" property (the
timeline's type field) holds one value; a document with none is refused.
With --samples (a directory of .json files or a JSON-lines file of
newest-schema objects), each object shows an example rendered at the
page's version, and the guides show examples too.

Flags:
  -f, --timeline FILE   the YAML timeline (required)
  --stub-custom         accept custom ops whose Go functions are not here (they change nothing)
  --spec FILE           the newest version's OpenAPI document (required)
  --out DIR             where to write the site (created if missing)
  --samples PATH        sample objects for the examples
  --keep-existing       keep a property a rename would overwrite
`})
}

func runDocs(e *env, args []string) error {
	fs := flag.NewFlagSet("docs", flag.ContinueOnError)
	file := timelineFlag(e, fs)
	spec := fs.String("spec", "", "")
	out := fs.String("out", "", "")
	keep := fs.Bool("keep-existing", false, "")
	samplesPath := fs.String("samples", "", "")
	if err := flagsOnly(fs, args); err != nil {
		return err
	}
	if *spec == "" || *out == "" {
		return usagef("want --spec FILE and --out DIR")
	}
	tl, err := loadTimeline(file)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(*spec)
	if err != nil {
		return err
	}
	var samples []changelog.Sample
	examples := map[string][]byte{}
	if *samplesPath != "" {
		if samples, err = changelog.LoadSamples(*samplesPath); err != nil {
			return err
		}
		for _, s := range samples {
			if _, ok := examples[s.Type]; !ok && s.Type != "" {
				examples[s.Type] = s.Body
			}
		}
	}
	engine := transform.New(tl, nil)
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	write := func(name string, b []byte) error {
		return os.WriteFile(filepath.Join(*out, name), b, 0o644)
	}
	opts := &openapi.Options{KeepExisting: *keep}
	for i, v := range tl.Versions().List() {
		r, err := openapi.DeriveWithOptions(data, tl, v, opts)
		if err != nil {
			return fmt.Errorf("%s: %w", *spec, err)
		}
		if i == 0 {
			// Derived at the base, each problem is reported once.
			base, err := openapi.DeriveWithOptions(data, tl, tl.Versions().Base(), opts)
			if err != nil {
				return fmt.Errorf("%s: %w", *spec, err)
			}
			for _, w := range base.Warnings {
				fmt.Fprintf(e.stderr, "warning: %s\n", w)
			}
			for _, d := range base.Disagreements {
				fmt.Fprintf(e.stderr, "disagreement: %s\n", d)
			}
		}
		if err := write("openapi-"+v.String()+".json", r.JSON); err != nil {
			return err
		}
		ref, err := openapi.NewReference(r.JSON, tl, v, openapi.Links{})
		if err != nil {
			return fmt.Errorf("%s: %w", *spec, err)
		}
		if err := ref.AddExamples(engine, examples); err != nil {
			return err
		}
		var page bytes.Buffer
		if err := ref.HTML(&page); err != nil {
			return err
		}
		if err := write(v.String()+".html", page.Bytes()); err != nil {
			return err
		}
		if v == tl.NewestStable() {
			if err := write("index.html", page.Bytes()); err != nil {
				return err
			}
		}
		if v.Before(tl.NewestStable()) {
			g, err := changelog.UpgradeGuide(tl, engine, v, tl.NewestStable(), samples)
			if err != nil {
				return err
			}
			var gp bytes.Buffer
			if err := g.HTML(&gp); err != nil {
				return err
			}
			if err := write("guide-"+v.String()+".html", gp.Bytes()); err != nil {
				return err
			}
		}
	}
	l, err := changelog.NewLog(tl, changelog.Options{GuideURL: func(v versions.Version) string { return "guide-" + v.String() + ".html" }})
	if err != nil {
		return err
	}
	var page bytes.Buffer
	if err := l.HTML(&page); err != nil {
		return err
	}
	if err := write("changelog.html", page.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote the reference of %d versions to %s (open %s)\n", tl.Versions().Len(), *out, filepath.Join(*out, "index.html"))
	return nil
}
