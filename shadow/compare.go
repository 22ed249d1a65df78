package shadow

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// ErrNoSharedVersion is returned by Compare when the two timelines have no
// version in common.
var ErrNoSharedVersion = errors.New("the timelines share no version")

// Options configures Compare. The zero value (or nil) is valid.
type Options struct {
	// Progress, when set, is called after each sample with how many of the
	// renderings are done and how many there are, from the goroutine that
	// called Compare. Optional.
	Progress func(done, total int)
	// AllowRemoved lets the comparison pass when the new timeline drops
	// versions of the old one (clients pinned to them would be refused).
	// By default that fails.
	AllowRemoved bool
	// AllowUncovered lets the comparison pass when an edit touches a field
	// no sample holds, so that nothing was compared for it. By default
	// that fails.
	AllowUncovered bool
	// Workers is how many samples are rendered at once. Optional. Default
	// value: runtime.GOMAXPROCS(0).
	Workers int
}

// Finding is one difference between what the old and the new timeline
// render for a sample at a version.
type Finding struct {
	Version versions.Version `json:"version"`
	// Sample names the sample ("charge.json", "samples.jsonl:3").
	Sample string `json:"sample"`
	// Object is the type of the innermost object holding the field.
	Object string `json:"object,omitempty"`
	// Field is the field's path inside that object, array indexes as []
	// ("items[].price").
	Field string `json:"field,omitempty"`
	// Changes are the ids of the edits that can explain the difference
	// (see Edit), most likely first.
	Changes []string `json:"changes,omitempty"`
	Difference
}

// Group is every finding of one kind at one field of one object type,
// blamed on the same edits: one line of a report.
type Group struct {
	// Changes are the ids of the edits behind the differences ([] when
	// none explains them).
	Changes []string `json:"changes"`
	Object  string   `json:"object,omitempty"`
	Field   string   `json:"field"`
	Kind    string   `json:"kind"`
	// Versions are the versions where the field differs, newest first.
	Versions []versions.Version `json:"versions"`
	// Samples are the samples where it differs, in sample order; Count
	// how many findings the group holds.
	Samples []string `json:"samples"`
	Count   int      `json:"count"`
	// Example is the first finding.
	Example Finding `json:"example"`
}

// Report is what Compare found. Failed reports whether the edit would
// break clients pinned to an existing version, or could not be checked.
type Report struct {
	// Versions are the versions both timelines have, newest first; each
	// was compared.
	Versions []versions.Version `json:"versions"`
	// Pivot is the newest version both timelines have: samples (in the new
	// timeline's newest schema) are first rendered there by the new
	// timeline, then from there by each.
	Pivot versions.Version `json:"pivot"`
	// Samples is how many samples were compared.
	Samples int `json:"samples"`
	// Removed are versions of the old timeline missing from the new one:
	// clients pinned to them would be refused. They fail the comparison
	// unless AllowRemoved.
	Removed []versions.Version `json:"removed"`
	// Added are versions only the new timeline has.
	Added []versions.Version `json:"added"`
	// Edits are the changes the new timeline adds, drops, moves or alters
	// in versions the old one has.
	Edits []Edit `json:"edits"`
	// Uncovered are the fields edits touch that no sample holds where it
	// matters. They fail the comparison unless AllowUncovered.
	Uncovered []Uncovered `json:"uncovered"`
	// Findings are the differences, by version (newest first), then sample.
	Findings []Finding `json:"findings"`
	// Groups are the findings grouped by the edits behind them, then by
	// object type, field and kind.
	Groups []Group `json:"groups"`
	// Warnings are problems that are not differences: samples that
	// neither timeline can render.
	Warnings []string `json:"warnings"`
	// AllowRemoved and AllowUncovered are the options the comparison ran
	// with.
	AllowRemoved   bool `json:"allow_removed"`
	AllowUncovered bool `json:"allow_uncovered"`
}

// Failed reports whether a shared version renders a sample differently, a
// version was removed (unless allowed) or an edit is not covered by any
// sample (unless allowed).
func (r *Report) Failed() bool {
	return len(r.Findings) > 0 || (len(r.Removed) > 0 && !r.AllowRemoved) || (len(r.Uncovered) > 0 && !r.AllowUncovered)
}

// sampleResult is what rendering one sample at every shared version found.
type sampleResult struct {
	byVersion [][]Finding
	warnings  []string
	covered   []bool // by need
}

// Compare renders every sample at every version both timelines share, with
// each timeline, and reports every difference, blamed on the edits that
// can explain it. Samples are objects in the new timeline's newest schema;
// the new timeline first walks each back to the newest shared version (the
// pivot), and both timelines walk it on from there, so versions added on
// top of the old newest change nothing. A sample one timeline renders and
// the other refuses is a finding; one both refuse alike is a warning. An
// edit whose fields no sample holds is reported as not covered, and a
// version the new timeline dropped as removed: both fail the comparison
// unless allowed. Samples are rendered on every core.
func Compare(oldTL, newTL *gates.Timeline, samples []Sample, opts *Options) (*Report, error) {
	if oldTL == nil || newTL == nil {
		return nil, errors.New("shadow: Compare needs two timelines")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	r := &Report{Samples: len(samples), Versions: []versions.Version{}, Removed: []versions.Version{},
		Added: []versions.Version{}, Findings: []Finding{}, Warnings: []string{}, Groups: []Group{},
		Uncovered: []Uncovered{}, AllowRemoved: o.AllowRemoved, AllowUncovered: o.AllowUncovered}
	nv := newTL.Versions()
	ov := oldTL.Versions()
	shared := map[versions.Version]bool{}
	for _, v := range ov.List() {
		if nv.Contains(v) {
			r.Versions = append(r.Versions, v)
			shared[v] = true
		} else {
			r.Removed = append(r.Removed, v)
		}
	}
	for _, v := range nv.List() {
		if !ov.Contains(v) {
			r.Added = append(r.Added, v)
		}
	}
	if len(r.Versions) == 0 {
		return r, ErrNoSharedVersion
	}
	r.Pivot = r.Versions[0]
	r.Edits = edits(oldTL, newTL)
	if r.Edits == nil {
		r.Edits = []Edit{}
	}
	ns := needs(r.Edits, oldTL, newTL, shared)
	needsAt := make([][]int, len(r.Versions))
	for i, n := range ns {
		for vi, v := range r.Versions {
			if v == n.version {
				needsAt[vi] = append(needsAt[vi], i)
			}
		}
	}
	oe, ne := transform.New(oldTL, nil), transform.New(newTL, nil)

	one := func(s Sample) sampleResult {
		res := sampleResult{byVersion: make([][]Finding, len(r.Versions)), covered: make([]bool, len(ns))}
		pivot, err := ne.Render(s.Body, newTL.Newest(), r.Pivot)
		if err != nil {
			res.warnings = append(res.warnings, fmt.Sprintf("sample %s: the new timeline cannot render it at %s: %v", s.Name, r.Pivot, err))
			return res
		}
		for vi, v := range r.Versions {
			ob, oerr := oe.Render(pivot, r.Pivot, v)
			nb, nerr := ne.Render(pivot, r.Pivot, v)
			for _, ni := range needsAt[vi] {
				if res.covered[ni] {
					continue
				}
				n := ns[ni]
				for _, b := range [][]byte{ob, nb} {
					if b != nil && holds(gjson.ParseBytes(b), n.resource, n.path) {
						res.covered[ni] = true
						break
					}
				}
			}
			switch {
			case oerr != nil && nerr != nil:
				if oerr.Error() != nerr.Error() {
					res.byVersion[vi] = append(res.byVersion[vi], errFinding(v, s, oerr, nerr))
				} else {
					res.warnings = append(res.warnings, fmt.Sprintf("sample %s at %s: both timelines refuse it: %v", s.Name, v, oerr))
				}
			case oerr != nil || nerr != nil:
				res.byVersion[vi] = append(res.byVersion[vi], errFinding(v, s, oerr, nerr))
			case bytes.Equal(ob, nb):
				// The common case: nothing to diff.
			default:
				diff(ob, nb, func(d Difference, typ, rel string) {
					res.byVersion[vi] = append(res.byVersion[vi], Finding{Version: v, Sample: s.Name, Object: typ, Field: fieldPath(rel), Difference: d})
				})
			}
		}
		return res
	}

	results := make([]sampleResult, len(samples))
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	jobs := make(chan int)
	done := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, max(len(samples), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				results[i] = one(samples[i])
				done <- i
			}
		}()
	}
	go func() {
		for i := range samples {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		close(done)
	}()
	total := len(samples) * len(r.Versions)
	finished := 0
	for range done {
		finished++
		if o.Progress != nil {
			o.Progress(finished*len(r.Versions), total)
		}
	}

	covered := make([]bool, len(ns))
	for _, res := range results {
		r.Warnings = append(r.Warnings, res.warnings...)
		for i, c := range res.covered {
			covered[i] = covered[i] || c
		}
	}
	for vi := range r.Versions {
		for _, res := range results {
			r.Findings = append(r.Findings, res.byVersion[vi]...)
		}
	}
	for i := range r.Findings {
		f := &r.Findings[i]
		for _, ei := range blame(r.Edits, f.Version, r.Pivot, f.Object, f.Field) {
			f.Changes = append(f.Changes, r.Edits[ei].Change)
		}
	}
	for i, n := range ns {
		if !covered[i] {
			e := r.Edits[n.edit]
			r.Uncovered = append(r.Uncovered, Uncovered{Change: e.Change, Edit: e.Describe(), Pos: e.Pos, Resource: n.resource, Field: n.path, Version: n.version})
		}
	}
	r.Groups = group(r.Findings)
	return r, nil
}

// group gathers findings by blamed edits, object type, field and kind, in
// the order each group first appears.
func group(fs []Finding) []Group {
	out := []Group{}
	index := map[string]int{}
	for _, f := range fs {
		key := strings.Join(f.Changes, ",") + "\x00" + f.Object + "\x00" + f.Field + "\x00" + f.Kind
		gi, ok := index[key]
		if !ok {
			gi = len(out)
			index[key] = gi
			ch := f.Changes
			if ch == nil {
				ch = []string{}
			}
			out = append(out, Group{Changes: ch, Object: f.Object, Field: f.Field, Kind: f.Kind, Example: f,
				Versions: []versions.Version{}, Samples: []string{}})
		}
		g := &out[gi]
		g.Count++
		if !slices.Contains(g.Versions, f.Version) {
			g.Versions = append(g.Versions, f.Version)
		}
		if !slices.Contains(g.Samples, f.Sample) {
			g.Samples = append(g.Samples, f.Sample)
		}
	}
	// Groups of one edit stay together, in order of first appearance.
	first := map[string]int{}
	for i, g := range out {
		k := strings.Join(g.Changes, ",")
		if _, ok := first[k]; !ok {
			first[k] = i
		}
	}
	slices.SortStableFunc(out, func(a, b Group) int {
		return first[strings.Join(a.Changes, ",")] - first[strings.Join(b.Changes, ",")]
	})
	return out
}

// errFinding records that one timeline refused a sample: the error text
// stands in for the value.
func errFinding(v versions.Version, s Sample, oerr, nerr error) Finding {
	val := func(err error) json.RawMessage {
		if err == nil {
			return json.RawMessage(`"(rendered)"`)
		}
		b, _ := json.Marshal("error: " + err.Error())
		return b
	}
	return Finding{Version: v, Sample: s.Name, Object: s.Type,
		Difference: Difference{Kind: Changed, Old: val(oerr), New: val(nerr)}}
}

// maxListed is how many versions or samples a report line names before
// it says how many more there are.
const maxListed = 3

// Text writes the report for a terminal or a CI log: a summary line, what
// failed besides differences (removed versions, edits no sample covers),
// then one line per group of differences under the edit behind it.
func (r *Report) Text(w io.Writer) error {
	bw := bufio.NewWriter(w)
	var problems []string
	if len(r.Findings) > 0 {
		problems = append(problems, fmt.Sprintf("%d %s in %d of the shared versions", len(r.Findings),
			plural(len(r.Findings), "difference", "differences"), r.failedVersions()))
	}
	if len(r.Removed) > 0 && !r.AllowRemoved {
		problems = append(problems, fmt.Sprintf("%d %s removed", len(r.Removed), plural(len(r.Removed), "version", "versions")))
	}
	if len(r.Uncovered) > 0 && !r.AllowUncovered {
		problems = append(problems, fmt.Sprintf("%d %s not covered by any sample", len(r.Uncovered), plural(len(r.Uncovered), "field", "fields")))
	}
	status := "ok: no existing version's output changed"
	if len(problems) > 0 {
		status = "FAIL: " + strings.Join(problems, "; ")
	}
	fmt.Fprintf(bw, "shadow: %d %s x %d shared %s: %s\n", r.Samples, plural(r.Samples, "sample", "samples"),
		len(r.Versions), plural(len(r.Versions), "version", "versions"), status)
	if len(r.Added) > 0 {
		fmt.Fprintf(bw, "new versions: %s\n", joinVersions(r.Added))
	}
	for _, e := range r.Edits {
		fmt.Fprintf(bw, "edit: %s %s%s\n", e.Change, e.Describe(), at(e.Pos))
	}
	if len(r.Removed) > 0 {
		label := "FAIL"
		if r.AllowRemoved {
			label = "allowed"
		}
		fmt.Fprintf(bw, "%s: removed %s %s: clients pinned to %s would be refused (--allow-removed to accept)\n", label,
			plural(len(r.Removed), "version", "versions"), joinVersions(r.Removed), plural(len(r.Removed), "it", "them"))
	}
	if len(r.Uncovered) > 0 {
		label := "FAIL"
		if r.AllowUncovered {
			label = "allowed"
		}
		fmt.Fprintf(bw, "%s: not covered: no sample holds these fields where the edit matters, so nothing was compared for them (add samples, or --allow-uncovered to accept)\n", label)
		for _, u := range r.Uncovered {
			f := u.Field
			if f == "" {
				f = "(any object)"
			}
			fmt.Fprintf(bw, "  %s (%s%s): (%s) %s at %s\n", u.Change, u.Edit, at(u.Pos), u.Resource, f, u.Version)
		}
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(bw, "warning: %s\n", w)
	}
	last := "\x00"
	for _, g := range r.Groups {
		if k := strings.Join(g.Changes, ","); k != last {
			last = k
			if len(g.Changes) == 0 {
				fmt.Fprintf(bw, "\nno edit explains these differences\n")
			} else {
				var names []string
				for _, id := range g.Changes {
					names = append(names, r.describeEdit(id))
				}
				fmt.Fprintf(bw, "\nchange %s\n", strings.Join(names, "; or change "))
			}
		}
		d := g.Example.Difference
		d.Path = g.Field
		if g.Object != "" {
			d.Path = "(" + g.Object + ") " + d.Path
		}
		where := fmt.Sprintf(" [at %s; %s]", listVersions(g.Versions), listSamples(g.Samples, g.Count))
		writeLineSuffix(bw, "  ", d, where)
	}
	return bw.Flush()
}

func at(pos string) string {
	if pos == "" {
		return ""
	}
	return ", " + pos
}

func (r *Report) describeEdit(id string) string {
	for _, e := range r.Edits {
		if e.Change == id {
			return e.Change + " (" + e.Describe() + at(e.Pos) + ")"
		}
	}
	return id
}

func listVersions(vs []versions.Version) string {
	if len(vs) <= maxListed {
		return joinVersions(vs)
	}
	return fmt.Sprintf("%d versions, %s to %s", len(vs), vs[0], vs[len(vs)-1])
}

func listSamples(ss []string, count int) string {
	s := strings.Join(ss[:min(len(ss), maxListed)], ", ")
	if len(ss) > maxListed {
		s += fmt.Sprintf(" and %d more", len(ss)-maxListed)
	}
	return fmt.Sprintf("%d %s in %s", count, plural(count, "difference", "differences"), s)
}

// JSON writes the report as indented JSON.
func (r *Report) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(struct {
		Failed bool `json:"failed"`
		*Report
	}{r.Failed(), r})
}

func (r *Report) failedVersions() int {
	n := 0
	var last versions.Version
	for _, f := range r.Findings {
		if f.Version != last {
			n++
			last = f.Version
		}
	}
	return n
}

func joinVersions(vs []versions.Version) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = v.String()
	}
	return strings.Join(s, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// DiffVersions renders body (in the newest schema of e's timeline) at from
// and at to and returns the differences: what changes in this payload for
// an integration moving from one version to the other.
func DiffVersions(e *transform.Engine, body []byte, from, to versions.Version) ([]Difference, error) {
	if err := e.Valid(body); err != nil {
		return nil, err
	}
	newest := e.Timeline().Newest()
	a, err := e.Render(body, newest, from)
	if err != nil {
		return nil, err
	}
	b, err := e.Render(body, newest, to)
	if err != nil {
		return nil, err
	}
	return Diff(a, b), nil
}

// ProgressWriter returns a Progress callback that keeps one status line up
// to date on w ("shadow: 120/500 renderings (24%)"), rewriting it with a
// carriage return and ending it with a newline when done. Use it when w is
// a terminal.
func ProgressWriter(w io.Writer) func(done, total int) {
	last := -1
	return func(done, total int) {
		if total <= 0 {
			return
		}
		pct := done * 100 / total
		if pct == last && done != total {
			return
		}
		last = pct
		fmt.Fprintf(w, "\rshadow: %d/%d renderings (%d%%)", done, total, pct)
		if done >= total {
			fmt.Fprintln(w)
		}
	}
}
