package changelog

import (
	"errors"
	"fmt"
	"time"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/versions"
)

// ErrRange is returned when the older end of a range is newer than the
// newer end.
var ErrRange = errors.New("from is newer than to")

// Options selects the versions of a changelog. The zero value
// selects every version.
type Options struct {
	// From leaves out From and every older version: the changelog lists
	// what separates From from To. Optional. Default: the base version,
	// which is then listed too.
	From versions.Version
	// To leaves out every version newer than To. Optional. Default: the
	// newest version.
	To versions.Version
	// GuideURL returns the address of the upgrade guide from a version to
	// the newest stable one; each version older than that links to it.
	// Optional. Default: no links.
	GuideURL func(from versions.Version) string
}

// Log is a changelog: every change of a range of versions, newest first,
// ready to render as Markdown, JSON or HTML.
type Log struct {
	API      string           `json:"api,omitempty"`
	From     versions.Version `json:"from"`
	To       versions.Version `json:"to"`
	Versions []VersionEntry   `json:"versions"`
}

// VersionEntry is one version of a changelog and its changes.
type VersionEntry struct {
	Version versions.Version `json:"version"`
	// Anchor is the HTML id of the version: "v2019-10-17".
	Anchor string `json:"anchor"`
	// Base marks the oldest version of the timeline, which has no changes.
	Base bool `json:"base,omitempty"`
	// Preview marks a version served only to clients that ask for it by
	// name (versions.Version.IsPreview): never a default.
	Preview bool `json:"preview,omitempty"`
	// Guide is the address of the upgrade guide from this version to the
	// newest stable one (Options.GuideURL); empty when there is none.
	Guide string `json:"guide,omitempty"`
	// Breaking is set when any of the version's changes is breaking.
	Breaking bool `json:"breaking"`
	// Deprecated is the date (YYYY-MM-DD) the version is deprecated from;
	// empty when it is not.
	Deprecated string `json:"deprecated,omitempty"`
	// Sunset is the date from which the version may stop being served;
	// empty when it has none.
	Sunset string `json:"sunset,omitempty"`
	// Successor is the version a deprecated version's clients should move
	// to.
	Successor string        `json:"successor,omitempty"`
	Changes   []ChangeEntry `json:"changes"`
}

// ChangeEntry is one change: its description, what it touches and one
// sentence per operation.
type ChangeEntry struct {
	ID string `json:"id"`
	// Anchor is the HTML id of the change: "change-customer_balance".
	Anchor      string    `json:"anchor"`
	Description string    `json:"description"`
	Resources   []string  `json:"resources"`
	Endpoints   []string  `json:"endpoints"`
	Breaking    bool      `json:"breaking"`
	Behavior    bool      `json:"behavior"`
	Ops         []OpEntry `json:"ops"`
}

// OpEntry is one operation of a change as it applies to one resource (or
// to request bodies, or to no body at all).
type OpEntry struct {
	// Kind is the op: rename, added, removed, retype, enum, custom,
	// behavior, endpoint_added, endpoint_removed, endpoint_moved, status,
	// header_rename or header_added.
	Kind string `json:"kind"`
	// Resource is the object type the sentence is about; "" for request
	// bodies and ops with no resource.
	Resource string `json:"resource,omitempty"`
	// Field is the path the op is about, in the newer version's terms.
	Field string `json:"field,omitempty"`
	// Text is one precise sentence, with code in backquotes:
	// "`customer.account_balance` is now `customer.balance`."
	Text     string `json:"text"`
	Breaking bool   `json:"breaking"`
}

// VersionAnchor returns the HTML id of a version: "v" and the version.
func VersionAnchor(v versions.Version) string { return "v" + v.String() }

// ChangeAnchor returns the HTML id of a change: "change-" and its id.
func ChangeAnchor(id string) string { return "change-" + id }

// NewLog returns the changes of the versions newer than opts.From and at
// most opts.To, newest first. An unknown version is an error wrapping
// versions.ErrUnknownVersion; From newer than To is ErrRange.
func NewLog(tl *gates.Timeline, opts Options) (*Log, error) {
	from, to, err := span(tl, opts.From, opts.To)
	if err != nil {
		return nil, err
	}
	c := &Log{API: tl.API(), From: from, To: to, Versions: []VersionEntry{}}
	base := tl.Versions().Base()
	withBase := opts.From.IsZero()
	for _, v := range tl.List() {
		if v.ID.After(to) || v.ID.Before(from) || (v.ID == from && !withBase) {
			continue
		}
		ve := VersionEntry{Version: v.ID, Anchor: VersionAnchor(v.ID), Base: v.ID == base, Preview: v.ID.IsPreview(), Changes: []ChangeEntry{}}
		if opts.GuideURL != nil && v.ID.Before(tl.NewestStable()) {
			ve.Guide = opts.GuideURL(v.ID)
		}
		if lc := tl.Lifecycle(v.ID); lc.IsDeprecated() {
			ve.Deprecated = lc.Deprecated.Format(time.DateOnly)
			ve.Successor = lc.Successor.String()
			if !lc.Sunset.IsZero() {
				ve.Sunset = lc.Sunset.Format(time.DateOnly)
			}
		}
		for i := range v.Changes {
			ce := changeEntry(&v.Changes[i])
			ve.Breaking = ve.Breaking || ce.Breaking
			ve.Changes = append(ve.Changes, ce)
		}
		c.Versions = append(c.Versions, ve)
	}
	return c, nil
}

func changeEntry(c *gates.Change) ChangeEntry {
	ce := ChangeEntry{
		ID:          c.ID,
		Anchor:      ChangeAnchor(c.ID),
		Description: c.Description,
		Resources:   append([]string{}, c.Resources...),
		Endpoints:   []string{},
		Breaking:    c.IsBreaking(),
		Behavior:    c.IsBehavior(),
		Ops:         []OpEntry{},
	}
	for _, e := range c.Endpoints {
		ce.Endpoints = append(ce.Endpoints, e.String())
	}
	for _, op := range c.Ops {
		ce.Ops = append(ce.Ops, opEntries(op, c.Resources)...)
	}
	return ce
}

// opEntries gives one sentence per resource for body ops, and one sentence
// for ops that name no field.
func opEntries(op gates.Op, resources []string) []OpEntry {
	if !op.Kind.Body() || op.Kind == gates.KindCustom || len(resources) == 0 {
		return []OpEntry{{Kind: op.Kind.String(), Field: op.Field, Text: op.Describe(""), Breaking: op.Breaking()}}
	}
	out := make([]OpEntry, 0, len(resources))
	for _, r := range resources {
		out = append(out, OpEntry{Kind: op.Kind.String(), Resource: r, Field: op.Field, Text: op.Describe(r), Breaking: op.Breaking()})
	}
	return out
}

// span resolves the ends of a range: zero from is the base, zero to the
// newest.
func span(tl *gates.Timeline, from, to versions.Version) (versions.Version, versions.Version, error) {
	vt := tl.Versions()
	if from.IsZero() {
		from = vt.Base()
	}
	if to.IsZero() {
		to = vt.Newest()
	}
	for _, v := range []versions.Version{from, to} {
		if !vt.Contains(v) {
			return from, to, fmt.Errorf("%w %s; supported versions: %s", versions.ErrUnknownVersion, v, vt.Supported())
		}
	}
	if from.After(to) {
		return from, to, fmt.Errorf("%w: %s is newer than %s", ErrRange, from, to)
	}
	return from, to, nil
}
