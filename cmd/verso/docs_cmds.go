package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/verso-api/verso/changelog"
	"github.com/verso-api/verso/openapi"
	"github.com/verso-api/verso/shadow"
	"github.com/verso-api/verso/transform"
)

// errFailed is returned by a command that ran but found a failure (shadow
// found differences); its report is already printed.
var errFailed = errors.New("failed")

func init() {
	register(&command{name: "changelog", summary: "print the changelog or an upgrade guide", run: runChangelog, usage: `Usage: verso changelog -f TIMELINE [--from A] [--to B] [--format md|json|html]
       verso changelog -f TIMELINE --guide --from A [--to B] [--samples PATH] [--format md|json|html]

Prints every version between --from and --to (newest first), each change
with its description, the resources and endpoints it touches and one
sentence per operation; breaking and behaviour changes are marked.

With --guide, prints what an integration pinned at A must change to move to
B (default: the newest), grouped by resource and endpoint, with before and
after examples rendered by the engine from --samples (a directory of .json
files or a JSON-lines file of newest-schema objects).

Flags:
  -f, --timeline FILE   the YAML timeline (required)
  --stub-custom         accept custom ops whose Go functions are not here (they change nothing)
  --from VERSION        the oldest version to include / the version pinned now
  --to VERSION          the newest version to include / the version to move to
  --format F            md (default), json or html (one self-contained page)
  --guide               print an upgrade guide instead of the changelog
  --samples PATH        sample objects for the guide's examples
`})
	register(&command{name: "openapi", summary: "derive an old version's OpenAPI document", run: runOpenAPI, usage: `Usage: verso openapi -f TIMELINE --spec openapi.json --to VERSION [--keep-existing]
       verso openapi -f TIMELINE --spec openapi.json --check

Derives the OpenAPI 3 document of version --to from the newest one (JSON or
YAML) by applying the schema side of each operation, and prints it as JSON
in the document's key order. Warnings (what could not be derived exactly)
and disagreements (where the document contradicts the timeline: a field an
op names that the schema lacks, another type, a missing enum value, an
info.version that is not the newest version) go to standard error.

A rename onto a property the document already has fails, naming both; with
--keep-existing the existing property is kept.

With --check, derives every version, prints the disagreements and exits 1
if there is any.

Flags:
  -f, --timeline FILE   the YAML timeline (required)
  --stub-custom         accept custom ops whose Go functions are not here (they change nothing)
  --spec FILE           the newest version's OpenAPI document (required)
  --to VERSION          the version to derive (required unless --check)
  --keep-existing       keep a property a rename would overwrite
  --check               only check the document against the timeline
`})
	register(&command{name: "shadow", summary: "prove a timeline edit breaks no pinned version", run: runShadow, usage: `Usage: verso shadow --old OLD.yaml --new NEW.yaml [--allow-removed] [--allow-uncovered] [--format text|json] SAMPLES

Renders every sample (newest-schema JSON objects: a directory of .json files
or a JSON-lines file) at every version both timelines share, with each
timeline, on every core, and reports the differences grouped by the edited
change behind them (added, removed, moved or altered), then by object type
and field, each with its versions and samples.

Exits 1 when an existing version's output changes, when the new timeline
drops a version of the old one (unless --allow-removed), or when an edit
touches a field that no sample holds where the edit matters, so that
nothing was compared for it (unless --allow-uncovered).

Flags:
  --old FILE            the timeline as it is deployed (required)
  --new FILE            the edited timeline (required)
  --stub-custom         accept custom ops whose Go functions are not here (they change nothing)
  --allow-removed       pass although versions were removed
  --allow-uncovered     pass although no sample covers an edited field
  --format F            text (default) or json
`})
	register(&command{name: "diff", summary: "show what changes in a payload between two versions", run: runDiff, usage: `Usage: verso diff -f TIMELINE --from A --to B [--format text|json] [FILE]

Renders FILE (newest-schema JSON, or standard input) at A and at B and
prints the field-level differences.

Flags:
  -f, --timeline FILE   the YAML timeline (required)
  --stub-custom         accept custom ops whose Go functions are not here (they change nothing)
  --from VERSION        the first version (required)
  --to VERSION          the second version (required)
  --format F            text (default) or json
`})
}

func checkFormat(f string, allowed ...string) error {
	for _, a := range allowed {
		if f == a {
			return nil
		}
	}
	return usagef("--format %q: want one of %v", f, allowed)
}

func runChangelog(e *env, args []string) error {
	fs := flag.NewFlagSet("changelog", flag.ContinueOnError)
	file := timelineFlag(e, fs)
	from := fs.String("from", "", "")
	to := fs.String("to", "", "")
	format := fs.String("format", "md", "")
	guide := fs.Bool("guide", false, "")
	samplesPath := fs.String("samples", "", "")
	if err := flagsOnly(fs, args); err != nil {
		return err
	}
	if err := checkFormat(*format, "md", "json", "html"); err != nil {
		return err
	}
	tl, vs, err := loadVersions(file, vflag{name: "from", value: *from}, vflag{name: "to", value: *to})
	if err != nil {
		return err
	}
	fv, tv := vs[0], vs[1]
	var doc changelog.Document
	if *guide {
		if fv.IsZero() {
			return usagef("--guide needs --from, the version the integration is pinned at")
		}
		if tv.IsZero() {
			tv = tl.Newest()
		}
		var samples []changelog.Sample
		if *samplesPath != "" {
			if samples, err = changelog.LoadSamples(*samplesPath); err != nil {
				return err
			}
		}
		g, err := changelog.UpgradeGuide(tl, transform.New(tl, nil), fv, tv, samples)
		if err != nil {
			return err
		}
		doc = g
	} else {
		if *samplesPath != "" {
			return usagef("--samples goes with --guide")
		}
		l, err := changelog.NewLog(tl, changelog.Options{From: fv, To: tv})
		if err != nil {
			return err
		}
		doc = l
	}
	return changelog.Write(e.stdout, doc, *format)
}

func runOpenAPI(e *env, args []string) error {
	fs := flag.NewFlagSet("openapi", flag.ContinueOnError)
	file := timelineFlag(e, fs)
	spec := fs.String("spec", "", "")
	to := fs.String("to", "", "")
	keep := fs.Bool("keep-existing", false, "")
	check := fs.Bool("check", false, "")
	if err := flagsOnly(fs, args); err != nil {
		return err
	}
	if *spec == "" {
		return usagef("missing --spec FILE")
	}
	if *check && *to != "" {
		return usagef("--check derives every version: leave out --to")
	}
	tl, vs, err := loadVersions(file, vflag{name: "to", value: *to, required: !*check})
	if err != nil {
		return err
	}
	data, err := os.ReadFile(*spec)
	if err != nil {
		return err
	}
	opts := &openapi.Options{KeepExisting: *keep}
	if *check {
		ds, err := openapi.Check(data, tl, opts)
		if err != nil {
			return fmt.Errorf("%s: %w", *spec, err)
		}
		for _, d := range ds {
			fmt.Fprintf(e.stdout, "%s\n", d)
		}
		if len(ds) > 0 {
			return fmt.Errorf("%w: %s disagrees with the timeline in %d places", errFailed, *spec, len(ds))
		}
		fmt.Fprintf(e.stdout, "%s agrees with the timeline at every version\n", *spec)
		return nil
	}
	r, err := openapi.DeriveWithOptions(data, tl, vs[0], opts)
	if err != nil {
		return fmt.Errorf("%s: %w", *spec, err)
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(e.stderr, "warning: %s\n", w)
	}
	for _, d := range r.Disagreements {
		fmt.Fprintf(e.stderr, "disagreement: %s\n", d)
	}
	return writeBody(e, r.JSON)
}

func runShadow(e *env, args []string) error {
	fs := flag.NewFlagSet("shadow", flag.ContinueOnError)
	oldPath := fs.String("old", "", "")
	newPath := fs.String("new", "", "")
	stub := fs.Bool("stub-custom", false, "")
	allowRemoved := fs.Bool("allow-removed", false, "")
	allowUncovered := fs.Bool("allow-uncovered", false, "")
	format := fs.String("format", "text", "")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *oldPath == "" || *newPath == "" {
		return usagef("want --old OLD.yaml and --new NEW.yaml")
	}
	if len(pos) != 1 {
		return usagef("want one SAMPLES path, got %d", len(pos))
	}
	if err := checkFormat(*format, "text", "json"); err != nil {
		return err
	}
	oldTL, err := loadTimelineFile(*oldPath, *stub, e.stderr)
	if err != nil {
		return err
	}
	newTL, err := loadTimelineFile(*newPath, *stub, e.stderr)
	if err != nil {
		return err
	}
	samples, err := changelog.LoadSamples(pos[0])
	if err != nil {
		return err
	}
	opts := &shadow.Options{AllowRemoved: *allowRemoved, AllowUncovered: *allowUncovered}
	if isTerminal(e.stderr) {
		opts.Progress = shadow.ProgressWriter(e.stderr)
	}
	r, err := shadow.Compare(oldTL, newTL, shadowSamples(samples), opts)
	if err != nil {
		return err
	}
	if *format == "json" {
		err = r.JSON(e.stdout)
	} else {
		err = r.Text(e.stdout)
	}
	if err != nil {
		return err
	}
	if r.Failed() {
		var why []string
		if len(r.Findings) > 0 {
			why = append(why, fmt.Sprintf("it changes what pinned versions return (%d differences)", len(r.Findings)))
		}
		if len(r.Removed) > 0 && !r.AllowRemoved {
			why = append(why, fmt.Sprintf("it removes %d versions (--allow-removed)", len(r.Removed)))
		}
		if len(r.Uncovered) > 0 && !r.AllowUncovered {
			why = append(why, fmt.Sprintf("no sample covers %d edited fields (--allow-uncovered)", len(r.Uncovered)))
		}
		return fmt.Errorf("%w: the new timeline fails: %s", errFailed, strings.Join(why, "; "))
	}
	return nil
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func runDiff(e *env, args []string) error {
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	file := timelineFlag(e, fs)
	from := fs.String("from", "", "")
	to := fs.String("to", "", "")
	format := fs.String("format", "text", "")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := checkFormat(*format, "text", "json"); err != nil {
		return err
	}
	tl, vs, err := loadVersions(file, vflag{name: "from", value: *from, required: true}, vflag{name: "to", value: *to, required: true})
	if err != nil {
		return err
	}
	fv, tv := vs[0], vs[1]
	body, err := readInput(e, pos)
	if err != nil {
		return err
	}
	diffs, err := shadow.DiffVersions(transform.New(tl, nil), body, fv, tv)
	if err != nil {
		return err
	}
	if *format == "json" {
		return shadow.WriteJSON(e.stdout, diffs)
	}
	return shadow.WriteText(e.stdout, diffs)
}

// shadowSamples converts the samples changelog loads for shadow.Compare.
func shadowSamples(samples []changelog.Sample) []shadow.Sample {
	out := make([]shadow.Sample, len(samples))
	for i, s := range samples {
		out[i] = shadow.Sample(s)
	}
	return out
}
