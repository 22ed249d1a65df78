package shadow

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/verso-api/verso/changelog"
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
}

// Finding is one difference between what the old and the new timeline
// render for a sample at a version.
type Finding struct {
	Version versions.Version `json:"version"`
	// Sample names the sample ("charge.json", "samples.jsonl:3").
	Sample string `json:"sample"`
	// Object is the type of the innermost object holding the field.
	Object string `json:"object,omitempty"`
	Difference
}

// Report is what Compare found. Failed reports whether an existing version's
// output changed: the edit would break clients pinned to it.
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
	// clients pinned to them would be refused.
	Removed []versions.Version `json:"removed"`
	// Added are versions only the new timeline has.
	Added []versions.Version `json:"added"`
	// Findings are the differences, by version (newest first), then sample.
	Findings []Finding `json:"findings"`
	// Warnings are problems that are not differences: removed versions,
	// samples that neither timeline can render.
	Warnings []string `json:"warnings"`
}

// Failed reports whether any shared version renders a sample differently.
func (r *Report) Failed() bool { return len(r.Findings) > 0 }

// Compare renders every sample at every version both timelines share, with
// each timeline, and reports every difference. Samples are objects in the
// new timeline's newest schema; the new timeline first walks each back to
// the newest shared version (the pivot), and both timelines walk it on
// from there, so versions added on top of the old newest change nothing.
// A sample one timeline renders and the other refuses is a finding; one
// both refuse alike is a warning.
func Compare(oldTL, newTL *gates.Timeline, samples []changelog.Sample, opts *Options) (*Report, error) {
	if oldTL == nil || newTL == nil {
		return nil, errors.New("shadow: Compare needs two timelines")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	r := &Report{Samples: len(samples), Versions: []versions.Version{}, Removed: []versions.Version{},
		Added: []versions.Version{}, Findings: []Finding{}, Warnings: []string{}}
	nv := newTL.Versions()
	ov := oldTL.Versions()
	for _, v := range ov.List() {
		if nv.Contains(v) {
			r.Versions = append(r.Versions, v)
		} else {
			r.Removed = append(r.Removed, v)
			r.Warnings = append(r.Warnings, fmt.Sprintf("version %s is in the old timeline but not in the new one: clients pinned to it would be refused", v))
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
	oe, ne := transform.New(oldTL, nil), transform.New(newTL, nil)
	total := len(samples) * len(r.Versions)
	byVersion := make([][]Finding, len(r.Versions))
	for si, s := range samples {
		pivot, err := ne.Render(s.Body, newTL.Newest(), r.Pivot)
		if err != nil {
			r.Warnings = append(r.Warnings, fmt.Sprintf("sample %s: the new timeline cannot render it at %s: %v", s.Name, r.Pivot, err))
			if o.Progress != nil {
				o.Progress((si+1)*len(r.Versions), total)
			}
			continue
		}
		for vi, v := range r.Versions {
			ob, oerr := oe.Render(pivot, r.Pivot, v)
			nb, nerr := ne.Render(pivot, r.Pivot, v)
			switch {
			case oerr != nil && nerr != nil:
				if oerr.Error() != nerr.Error() {
					byVersion[vi] = append(byVersion[vi], errFinding(v, s, oerr, nerr))
				} else {
					r.Warnings = append(r.Warnings, fmt.Sprintf("sample %s at %s: both timelines refuse it: %v", s.Name, v, oerr))
				}
			case oerr != nil || nerr != nil:
				byVersion[vi] = append(byVersion[vi], errFinding(v, s, oerr, nerr))
			default:
				diff(ob, nb, func(d Difference, typ string) {
					byVersion[vi] = append(byVersion[vi], Finding{Version: v, Sample: s.Name, Object: typ, Difference: d})
				})
			}
		}
		if o.Progress != nil {
			o.Progress((si+1)*len(r.Versions), total)
		}
	}
	for _, fs := range byVersion {
		r.Findings = append(r.Findings, fs...)
	}
	return r, nil
}

// errFinding records that one timeline refused a sample: the error text
// stands in for the value.
func errFinding(v versions.Version, s changelog.Sample, oerr, nerr error) Finding {
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

// Text writes the report for a terminal or a CI log: a summary line, the
// warnings, then the differences by version and sample.
func (r *Report) Text(w io.Writer) error {
	bw := bufio.NewWriter(w)
	status := "ok: no existing version's output changed"
	if r.Failed() {
		status = fmt.Sprintf("FAIL: %d %s in %d of the shared versions",
			len(r.Findings), plural(len(r.Findings), "difference", "differences"), r.failedVersions())
	}
	fmt.Fprintf(bw, "shadow: %d %s x %d shared %s: %s\n", r.Samples, plural(r.Samples, "sample", "samples"),
		len(r.Versions), plural(len(r.Versions), "version", "versions"), status)
	if len(r.Added) > 0 {
		fmt.Fprintf(bw, "new versions: %s\n", joinVersions(r.Added))
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(bw, "warning: %s\n", w)
	}
	var lastV versions.Version
	lastS := ""
	for _, f := range r.Findings {
		if f.Version != lastV {
			fmt.Fprintf(bw, "\n%s\n", f.Version)
			lastV, lastS = f.Version, ""
		}
		if f.Sample != lastS {
			fmt.Fprintf(bw, "  %s\n", f.Sample)
			lastS = f.Sample
		}
		d := f.Difference
		if f.Object != "" && d.Path != "" {
			d.Path = "(" + f.Object + ") " + d.Path
		}
		writeLine(bw, "    ", d)
	}
	return bw.Flush()
}

// JSON writes the report as indented JSON.
func (r *Report) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
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
