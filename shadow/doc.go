// Package shadow finds what a timeline edit or a version upgrade changes in
// real payloads.
//
// Compare renders sample objects (Sample: changelog.LoadSamples reads them
// from files, and a []changelog.Sample converts element by element) at
// every version two timelines share,
// with each, and reports every field that differs, grouped by the edited
// change behind it: run it in CI on the timeline before and after an edit,
// and an edit that would change what clients pinned to an existing version
// receive fails the build, while a new version added on top passes. It
// never passes silently: an edit that touches a field no sample holds
// fails as not covered (Options.AllowUncovered), and a version the new
// timeline dropped fails as removed (Options.AllowRemoved). Samples are
// rendered on every core:
//
//	report, err := shadow.Compare(oldTL, newTL, samples, nil)
//	...
//	report.Text(os.Stdout)
//	if report.Failed() { os.Exit(1) }
//
// Diff is the field-level structural diff underneath, with paths such as
// data[0].amount; DiffVersions renders one payload at two versions and
// diffs them, to show what an upgrade changes in it.
//
// Sampler is the live counterpart for a server: it takes a sample of the
// responses it serves, renders each in a candidate version in the
// background on a bounded pool (dropping work when its queue is full,
// never blocking or changing the response) and records the differences as
// slog records and, through the small Metrics interface, as metrics
// (package prom reports them to Prometheus).
package shadow
