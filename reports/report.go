package reports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/verso-api/verso/changelog"
	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// ErrRange is returned when a report is asked from a version newer than
// its target.
var ErrRange = errors.New("reports: the target version is older than the account's")

// Report is an upgrade report: every change between an account's version
// and a target version, whether each touches the account's own traffic
// (the evidence a Store kept over its window), and what to do about it.
// Its JSON is what the upgrade_report endpoint answers.
type Report struct {
	Object  string `json:"object"` // "upgrade_report"
	Account string `json:"account"`
	// Version is the account's version, and To the one it would move to.
	Version versions.Version `json:"version"`
	To      versions.Version `json:"to"`
	// Since is the start of the window the evidence covers (Unix
	// seconds), and WindowDays its length.
	Since      int64 `json:"since"`
	WindowDays int   `json:"window_days"`
	// Summary says in one sentence what the report found:
	// "3 of 12 breaking changes touch your integration."
	Summary string `json:"summary"`
	// Changes counts the changes between the versions, Breaking the
	// breaking ones, AffectingYou those that fired on the account's
	// traffic, BreakingAffectingYou the breaking ones among them, and
	// Unknown the behaviour changes no body shows.
	Changes              int `json:"changes"`
	Breaking             int `json:"breaking"`
	AffectingYou         int `json:"affecting_you"`
	BreakingAffectingYou int `json:"breaking_affecting_you"`
	Unknown              int `json:"unknown"`
	// Traffic is the account's traffic in the window: at its version, at
	// the target (a client trying the target before moving), and at any
	// other version.
	Traffic TrafficReport `json:"traffic"`
	// Items are the changes, oldest first: the order an upgrade meets
	// them.
	Items []ChangeReport `json:"items"`
}

// TrafficReport is an account's traffic in a report's window.
type TrafficReport struct {
	AtVersion TrafficLine   `json:"at_version"`
	AtTarget  TrafficLine   `json:"at_target"`
	Other     []TrafficLine `json:"other"`
}

// TrafficLine is an account's traffic at one version.
type TrafficLine struct {
	Version  versions.Version `json:"version"`
	Requests int64            `json:"requests"`
	// Header counts the requests that named the version in their header.
	Header         int64       `json:"header"`
	Endpoints      []NameCount `json:"endpoints"`
	OtherEndpoints int64       `json:"other_endpoints"`
	FirstSeen      *int64      `json:"first_seen"`
	LastSeen       *int64      `json:"last_seen"`
}

// NameCount is a name in a report and how often it was seen.
type NameCount struct {
	Name  string `json:"name"`
	Count int64  `json:"count"`
}

// ChangeReport is one change of a report.
type ChangeReport struct {
	ID          string           `json:"id"`
	Version     versions.Version `json:"version"`
	Description string           `json:"description"`
	Breaking    bool             `json:"breaking"`
	Behavior    bool             `json:"behavior"`
	// AffectsYou is true when the change fired on the account's traffic
	// in the window, false when it did not, and "unknown" for a
	// behaviour change that leaves no trace in bodies.
	AffectsYou Affects `json:"affects_you"`
	// Evidence is what the change did to the account's traffic; nil when
	// it did nothing.
	Evidence *ChangeEvidenceJSON `json:"evidence"`
	// Tried counts the requests the account already sent at the target
	// version to the endpoints where the change fired at its own: the
	// new behaviour, tried before moving.
	Tried int64 `json:"tried_at_target"`
	// Todo is the upgrade guide's "What to do" for the change: one
	// sentence per op, empty when it breaks nothing.
	Todo []string `json:"what_to_do"`
	// Anchor is the change's HTML id in the changelog.
	Anchor string `json:"changelog_anchor"`
}

// ChangeEvidenceJSON is a change's evidence as a report shows it.
type ChangeEvidenceJSON struct {
	Requests        int64       `json:"requests"`
	Responses       int64       `json:"responses"`
	Deliveries      int64       `json:"webhook_deliveries"`
	Endpoints       []NameCount `json:"endpoints"`
	OtherEndpoints  int64       `json:"other_endpoints"`
	Fields          []NameCount `json:"fields"`
	EventTypes      []NameCount `json:"event_types"`
	OtherEventTypes int64       `json:"other_event_types"`
	FirstSeen       int64       `json:"first_seen"`
	LastSeen        int64       `json:"last_seen"`
}

// Affects says whether a change touches an account: Yes, No or Unknown.
type Affects int8

// The values of Affects.
const (
	No Affects = iota
	Yes
	Unknown
)

// MarshalJSON writes true, false or "unknown".
func (a Affects) MarshalJSON() ([]byte, error) {
	switch a {
	case Yes:
		return []byte("true"), nil
	case Unknown:
		return []byte(`"unknown"`), nil
	}
	return []byte("false"), nil
}

// UnmarshalJSON reads true, false or "unknown".
func (a *Affects) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true":
		*a = Yes
	case "false":
		*a = No
	case `"unknown"`:
		*a = Unknown
	default:
		return fmt.Errorf("reports: affects_you is true, false or \"unknown\", not %s", b)
	}
	return nil
}

// String returns "true", "false" or "unknown".
func (a Affects) String() string {
	b, _ := a.MarshalJSON()
	return strings.Trim(string(b), `"`)
}

// Reporter makes upgrade reports from a timeline and a Store. It is safe
// for concurrent use.
type Reporter struct {
	tl     *gates.Timeline
	engine *transform.Engine
	store  Store
	window time.Duration
}

// ReporterOptions configure a Reporter; nil means the defaults.
type ReporterOptions struct {
	// Engine renders the guide's examples; the report uses its "What to
	// do" lines only. Optional. Default value a new engine for the
	// timeline.
	Engine *transform.Engine
	// Window is the store's window, shown in reports.
	// Optional. Default value DefaultWindow.
	Window time.Duration
}

// NewReporter returns a Reporter for the changes of tl and the evidence
// in store.
func NewReporter(tl *gates.Timeline, store Store, opts *ReporterOptions) (*Reporter, error) {
	if tl == nil || tl.Versions() == nil {
		return nil, errors.New("reports: reporter has no valid timeline")
	}
	if store == nil {
		return nil, errors.New("reports: reporter has no store")
	}
	r := &Reporter{tl: tl, store: store, window: DefaultWindow}
	if opts != nil {
		r.engine = opts.Engine
		if opts.Window > 0 {
			r.window = opts.Window
		}
	}
	if r.engine == nil {
		r.engine = transform.New(tl, nil)
	}
	return r, nil
}

// Timeline returns the reporter's timeline.
func (r *Reporter) Timeline() *gates.Timeline { return r.tl }

// Report returns the upgrade report of account from version from to
// version to (the newest stable version when zero). An unknown version is
// an error wrapping versions.ErrUnknownVersion; to older than from is
// ErrRange.
func (r *Reporter) Report(ctx context.Context, account string, from, to versions.Version) (*Report, error) {
	if account == "" {
		return nil, ErrEmptyAccount
	}
	vt := r.tl.Versions()
	if to.IsZero() {
		to = vt.NewestStable()
	}
	for _, v := range []versions.Version{from, to} {
		if !vt.Contains(v) {
			return nil, fmt.Errorf("%w %s; supported versions: %s", versions.ErrUnknownVersion, v, vt.Supported())
		}
	}
	if to.Before(from) {
		return nil, fmt.Errorf("%w: %s is older than %s", ErrRange, to, from)
	}
	ev, err := r.store.Evidence(ctx, account)
	if err != nil {
		return nil, err
	}
	todo, err := r.todos(from, to)
	if err != nil {
		return nil, err
	}
	rep := &Report{
		Object: "upgrade_report", Account: account, Version: from, To: to,
		Since: ev.Since.Unix(), WindowDays: int(r.window / (24 * time.Hour)),
		Traffic: TrafficReport{AtVersion: TrafficLine{Version: from, Endpoints: []NameCount{}},
			AtTarget: TrafficLine{Version: to, Endpoints: []NameCount{}}, Other: []TrafficLine{}},
		Items: []ChangeReport{},
	}
	atTarget := map[string]int64{}
	for _, t := range ev.Traffic {
		line := trafficLine(t)
		switch t.Version {
		case from:
			rep.Traffic.AtVersion = line
		case to:
			rep.Traffic.AtTarget = line
			for _, n := range t.Endpoints {
				atTarget[n.Name] = n.Count
			}
		default:
			rep.Traffic.Other = append(rep.Traffic.Other, line)
		}
	}
	vs := r.tl.Between(from, to)
	slices.Reverse(vs)
	for _, v := range vs {
		for i := range v.Changes {
			c := &v.Changes[i]
			item := ChangeReport{ID: c.ID, Version: v.ID, Description: c.Description,
				Breaking: c.IsBreaking(), Behavior: c.IsBehavior(), Todo: todo[c.ID], Anchor: changelog.ChangeAnchor(c.ID)}
			if item.Todo == nil {
				item.Todo = []string{}
			}
			if e := ev.Changes[c.ID]; e != nil && e.Requests+e.Responses+e.Deliveries > 0 {
				item.AffectsYou = Yes
				item.Evidence = evidenceJSON(e)
				if to != from {
					for _, n := range e.Endpoints {
						item.Tried += atTarget[n.Name]
					}
				}
			} else if item.Behavior {
				item.AffectsYou = Unknown
			}
			rep.Changes++
			if item.Breaking {
				rep.Breaking++
			}
			switch item.AffectsYou {
			case Yes:
				rep.AffectingYou++
				if item.Breaking {
					rep.BreakingAffectingYou++
				}
			case Unknown:
				rep.Unknown++
			}
			rep.Items = append(rep.Items, item)
		}
	}
	rep.Summary = summary(rep)
	return rep, nil
}

// todos returns the upgrade guide's "What to do" lines per change id.
func (r *Reporter) todos(from, to versions.Version) (map[string][]string, error) {
	out := map[string][]string{}
	if from == to {
		return out, nil
	}
	g, err := changelog.UpgradeGuide(r.tl, r.engine, from, to, nil)
	if err != nil {
		return nil, err
	}
	add := func(steps []changelog.Step) {
		for _, s := range steps {
			for _, t := range s.Todo {
				if !slices.Contains(out[s.ID], t) {
					out[s.ID] = append(out[s.ID], t)
				}
			}
		}
	}
	for _, s := range g.Resources {
		add(s.Steps)
	}
	for _, s := range g.Endpoints {
		add(s.Steps)
	}
	add(g.Other)
	return out, nil
}

func trafficLine(t VersionTraffic) TrafficLine {
	l := TrafficLine{Version: t.Version, Requests: t.Requests, Header: t.Header,
		Endpoints: nameCounts(t.Endpoints), OtherEndpoints: t.OtherEndpoints}
	if !t.FirstSeen.IsZero() {
		f, la := t.FirstSeen.Unix(), t.LastSeen.Unix()
		l.FirstSeen, l.LastSeen = &f, &la
	}
	return l
}

func evidenceJSON(e *ChangeEvidence) *ChangeEvidenceJSON {
	return &ChangeEvidenceJSON{
		Requests: e.Requests, Responses: e.Responses, Deliveries: e.Deliveries,
		Endpoints: nameCounts(e.Endpoints), OtherEndpoints: e.OtherEndpoints,
		Fields: nameCounts(e.Fields), EventTypes: nameCounts(e.EventTypes), OtherEventTypes: e.OtherEventTypes,
		FirstSeen: e.FirstSeen.Unix(), LastSeen: e.LastSeen.Unix(),
	}
}

func nameCounts(ns []Name) []NameCount {
	out := make([]NameCount, len(ns))
	for i, n := range ns {
		out[i] = NameCount(n)
	}
	return out
}

// summary says what a report found in one or two sentences.
func summary(r *Report) string {
	if r.Version == r.To {
		return fmt.Sprintf("Your account is at %s already: no change separates it from the target.", r.To)
	}
	var b strings.Builder
	switch {
	case r.Breaking == 0:
		fmt.Fprintf(&b, "No breaking change separates %s from %s", r.Version, r.To)
		if r.AffectingYou > 0 {
			fmt.Fprintf(&b, "; %d of %d %s touch%s your integration", r.AffectingYou, r.Changes, plural(r.Changes, "change", "changes"), verbS(r.AffectingYou))
		}
		b.WriteString(".")
	default:
		fmt.Fprintf(&b, "%d of %d breaking %s touch%s your integration.",
			r.BreakingAffectingYou, r.Breaking, plural(r.Breaking, "change", "changes"), verbS(r.BreakingAffectingYou))
	}
	if r.Unknown > 0 {
		fmt.Fprintf(&b, " %d behaviour %s no trace in traffic: check %s.",
			r.Unknown, plural(r.Unknown, "change leaves", "changes leave"), plural(r.Unknown, "it", "them"))
	}
	total := r.Traffic.AtVersion.Requests + r.Traffic.AtTarget.Requests
	for _, o := range r.Traffic.Other {
		total += o.Requests
	}
	if total == 0 {
		fmt.Fprintf(&b, " No request of your account was recorded in the last %d days, so none of the changes shows up yet.", r.WindowDays)
	} else if n := r.Traffic.AtTarget.Requests; n > 0 {
		fmt.Fprintf(&b, " You already sent %d %s at %s.", n, plural(int(min(n, 2)), "request", "requests"), r.To)
	}
	return b.String()
}

// verbS is the -es of "touches" for a count of one (or none).
func verbS(n int) string {
	if n == 1 {
		return "es"
	}
	return ""
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// JSON writes the report as indented JSON.
func (r *Report) JSON() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }
