package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/verso-api/verso/changelog"
	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/shadow"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/versions"
)

func init() {
	register(&command{name: "pins", summary: "print the census of versions; set or import accounts' pins", run: runPins, usage: `Usage: verso pins [--db verso.db] [--since 24h] [-f TIMELINE]
       verso pins set --db URL --version V (--account A | --authorization VALUE) [-f TIMELINE]
       verso pins import --db URL [--authorization] [-f TIMELINE] FILE

Prints, per version, how many accounts are pinned to it, how many
requests it served since --since ago and how many accounts sent them, so
an operator sees which versions can be retired. Every form of verso counts
(verso serve, verso proxy, the middleware with a pins.Counter as its
Usage): requests per hour, accounts per day, kept 90 days. Versions are
those of the timeline (default: the demo's), then any version the database
holds that the timeline does not list. With --version, it lists the
accounts that used that version instead, most requests first: whom to
tell before retiring it.

Flags:
  --db URL             a SQLite file (default verso.db) or postgres://...
  --since D            how far back requests are counted (default 24h)
  --version V          list the accounts that used V since --since
  --limit N            with --version, at most N accounts (default 50)
  -f, --timeline FILE  the timeline (default: the demo API's)

` + pinsSetUsage + "\n" + pinsImportUsage})
	register(&command{name: "retire", summary: "fold a version into its newer neighbour and move its pins", run: runRetire, usage: `Usage: verso retire -f TIMELINE --version V [--samples DIR] [-o FILE] [--db URL [--move-pins]]

Writes the timeline without version V: V's changes move to the version just
newer than it, which now walks responses all the way back past V, so every
other version answers exactly as before (if V is the base, the newer
version becomes the base and its changes, which only walked back to V, are
dropped). Before writing, it proves it: the samples are rendered at every
other version with the old and the new timeline (verso shadow), and every
endpoint the timeline names is routed at every other version with both;
any difference fails the command and nothing is written.

With --db, it refuses while accounts are pinned to V, unless --move-pins is
given: then they are moved to the version V folds into, in one
transaction, each move recorded in the account's pin history. It refuses
too while V served requests in the last --window (clients that send V in
the version header, whom no pin move reaches), unless --allow-traffic.

Flags:
  -f, --timeline FILE  the timeline to edit
  --version V          the version to retire (not the newest)
  --samples DIR        sample objects in the newest schema (default: verso's own)
  -o FILE              where to write the new timeline (default: TIMELINE
                       itself; - for standard output)
  --db URL             the database of the pins (SQLite file or postgres://...)
  --move-pins          move the accounts pinned to V instead of refusing
  --window D           how far back requests at V refuse it (default 720h)
  --allow-traffic      retire V though it served requests in the window
  --allow-uncovered    pass even when a moved change touches a field no
                       sample holds (nothing was compared for it)
  --stub-custom        stub custom functions only Go code supplies
`})
}

func runPins(e *env, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "set":
			return runPinsSet(e, args[1:])
		case "import":
			return runPinsImport(e, args[1:])
		}
	}
	fs := flag.NewFlagSet("pins", flag.ContinueOnError)
	dbURL := fs.String("db", "verso.db", "")
	since := fs.Duration("since", 24*time.Hour, "")
	vflag := fs.String("version", "", "")
	limit := fs.Int("limit", 50, "")
	file := timelineFlag(e, fs)
	if err := flagsOnly(fs, args); err != nil {
		return err
	}
	if *since <= 0 {
		return usagef("--since must be positive")
	}
	var tl *gates.Timeline
	var err error
	if file.path != "" {
		tl, err = loadTimeline(file)
	} else {
		tl, err = api.LoadDefaultTimeline()
	}
	if err != nil {
		return err
	}
	ctx := context.Background()
	store, db, err := openPins(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if *vflag != "" {
		v, err := versions.Parse(*vflag)
		if err != nil {
			return usagef("--version: %v", err)
		}
		users, err := store.Users(ctx, v, time.Now().Add(-*since), *limit)
		if err != nil {
			return err
		}
		return printUsers(e, v, users, *since)
	}
	census, err := store.Census(ctx, time.Now().Add(-*since))
	if err != nil {
		return err
	}
	return printCensus(e, tl, census, *since)
}

// printUsers prints the accounts that used a version.
func printUsers(e *env, v versions.Version, users []pins.Served, since time.Duration) error {
	if len(users) == 0 {
		fmt.Fprintf(e.stdout, "no account sent requests in %s in the last %s\n", v, shortDuration(since))
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "ACCOUNT\tREQUESTS IN %s (%s)\n", v, shortDuration(since))
	for _, u := range users {
		fmt.Fprintf(tw, "%s\t%d\n", u.Account, u.Requests)
	}
	return tw.Flush()
}

func openPins(ctx context.Context, dbURL string) (*pins.SQLStore, *storage.DB, error) {
	db, err := storage.Open(ctx, dbURL)
	if err != nil {
		return nil, nil, err
	}
	store, err := pins.NewSQLStore(ctx, db, nil)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return store, db, nil
}

func printCensus(e *env, tl *gates.Timeline, census []pins.Count, since time.Duration) error {
	by := map[versions.Version]pins.Count{}
	for _, c := range census {
		by[c.Version] = c
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "VERSION\tACCOUNTS\tREQUESTS (%s)\tACTIVE ACCOUNTS\tSTATUS\n", shortDuration(since))
	var total pins.Count
	for _, v := range tl.Versions().List() {
		c := by[v]
		delete(by, v)
		total.Accounts += c.Accounts
		total.Requests += c.Requests
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\n", v, c.Accounts, c.Requests, c.Active, versionStatus(tl, v, c))
	}
	for _, c := range census {
		if _, ok := by[c.Version]; ok {
			total.Accounts += c.Accounts
			total.Requests += c.Requests
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\n", c.Version, c.Accounts, c.Requests, c.Active, "not on the timeline")
		}
	}
	fmt.Fprintf(tw, "total\t%d\t%d\t\t\n", total.Accounts, total.Requests)
	return tw.Flush()
}

// shortDuration prints 24h for 24h0m0s and 1h30m for 1h30m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func versionStatus(tl *gates.Timeline, v versions.Version, c pins.Count) string {
	var s []string
	if v == tl.Newest() {
		s = append(s, "newest")
	}
	if v.IsPreview() {
		s = append(s, "preview")
	}
	if lc := tl.Lifecycle(v); lc.IsDeprecated() {
		d := "deprecated " + lc.Deprecated.Format(time.DateOnly)
		if !lc.Sunset.IsZero() {
			d += ", sunset " + lc.Sunset.Format(time.DateOnly)
		}
		s = append(s, d)
	}
	if v != tl.Newest() && c.Accounts == 0 && c.Requests == 0 {
		s = append(s, "unused: can be retired")
	}
	return strings.Join(s, "; ")
}

func runRetire(e *env, args []string) error {
	fs := flag.NewFlagSet("retire", flag.ContinueOnError)
	file := timelineFlag(e, fs)
	vflag := fs.String("version", "", "")
	samplesPath := fs.String("samples", "", "")
	out := fs.String("o", "", "")
	dbURL := fs.String("db", "", "")
	movePins := fs.Bool("move-pins", false, "")
	window := fs.Duration("window", 30*24*time.Hour, "")
	allowTraffic := fs.Bool("allow-traffic", false, "")
	allowUncovered := fs.Bool("allow-uncovered", false, "")
	if err := flagsOnly(fs, args); err != nil {
		return err
	}
	if *vflag == "" {
		return usagef("missing --version V")
	}
	if *movePins && *dbURL == "" {
		return usagef("--move-pins goes with --db")
	}
	tl, err := loadTimeline(file)
	if err != nil {
		return err
	}
	v, err := resolve(tl, "version", *vflag)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(file.path)
	if err != nil {
		return err
	}
	folded, into, err := foldVersion(data, v)
	if err != nil {
		return err
	}
	newTL, err := gates.Load(file.path, folded, &gates.Options{Funcs: api.Funcs(), StubMissing: file.stub})
	if err != nil {
		return fmt.Errorf("the timeline without %s is not valid (fold the changes by hand): %w", v, err)
	}
	samples := changelog.DefaultSamples()
	if *samplesPath != "" {
		if samples, err = changelog.LoadSamples(*samplesPath); err != nil {
			return err
		}
	}
	r, err := shadow.Compare(tl, newTL, shadowSamples(samples), &shadow.Options{AllowRemoved: true, AllowUncovered: *allowUncovered})
	if err != nil {
		return err
	}
	routes := compareRoutes(tl, newTL, r.Versions)
	if r.Failed() || len(routes) > 0 {
		r.Text(e.stderr)
		for _, d := range routes {
			fmt.Fprintln(e.stderr, d)
		}
		return fmt.Errorf("%w: retiring %s would change what other versions return (%d differences)", errFailed, v, len(r.Findings)+len(routes))
	}
	fmt.Fprintf(e.stdout, "verso: %s folds into %s; %d samples and %d routes answer alike at the %d other versions\n", v, into, r.Samples, len(routeProbes(tl)), len(r.Versions))

	if *dbURL != "" {
		ctx := context.Background()
		store, db, err := openPins(ctx, *dbURL)
		if err != nil {
			return err
		}
		defer db.Close()
		// Counted per day for accounts: the window starts at a day's start.
		since := time.Now().UTC().Add(-*window).Truncate(24 * time.Hour)
		census, err := store.Census(ctx, since)
		if err != nil {
			return err
		}
		var c pins.Count
		for _, x := range census {
			if x.Version == v {
				c = x
			}
		}
		strays, anonymous, err := strayTraffic(ctx, store, v, since, c.Requests)
		if err != nil {
			return err
		}
		switch {
		case c.Accounts > 0 && !*movePins:
			return fmt.Errorf("%d accounts are pinned to %s (%d requests in the last %s): pass --move-pins to move them to %s", c.Accounts, v, c.Requests, shortDuration(*window), into)
		case (len(strays) > 0 || anonymous > 0) && !*allowTraffic:
			var n int64
			for _, u := range strays {
				n += u.Requests
			}
			return fmt.Errorf("%s served requests in the last %s that no pin move reaches: %d from %d accounts not pinned to it (they send it in the version header; verso pins --version %s lists them) and %d with no account; they would be refused once it is gone: pass --allow-traffic to retire it anyway",
				v, shortDuration(*window), n, len(strays), v, anonymous)
		case c.Accounts > 0:
			n, err := store.MoveAll(ctx, v, into)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "verso: moved %d accounts from %s to %s\n", n, v, into)
		default:
			fmt.Fprintf(e.stdout, "verso: no account is pinned to %s\n", v)
		}
	}
	switch *out {
	case "-":
		_, err = e.stdout.Write(folded)
		return err
	case "":
		*out = file.path
	}
	if err := os.WriteFile(*out, folded, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "verso: wrote %s\n", *out)
	return nil
}

// strayTraffic returns the accounts that sent requests in v since then
// while not pinned to it, and the requests with no account: the traffic
// that moving v's pins would not carry over. requests is v's total.
func strayTraffic(ctx context.Context, store pins.Store, v versions.Version, since time.Time, requests int64) ([]pins.Served, int64, error) {
	users, err := store.Users(ctx, v, since, 0)
	if err != nil {
		return nil, 0, err
	}
	var strays []pins.Served
	for _, u := range users {
		requests -= u.Requests
		p, err := store.Get(ctx, u.Account)
		if err == nil && p.Version == v {
			continue
		}
		if err != nil && !errors.Is(err, pins.ErrNotPinned) {
			return nil, 0, err
		}
		strays = append(strays, u)
	}
	return strays, max(requests, 0), nil
}

// foldVersion returns the YAML timeline data without version v: v's changes
// are put first in the changes of the version just newer, into, or dropped
// with into's when v is the base. It edits the file's lines, so comments,
// folded descriptions and blank lines stay as they were; a timeline written
// in flow style ([...]) is re-encoded instead.
func foldVersion(data []byte, v versions.Version) ([]byte, versions.Version, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, versions.Version{}, fmt.Errorf("retire: %w", err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, versions.Version{}, errors.New("retire: the timeline is not a mapping")
	}
	root := doc.Content[0]
	seq := mapValue(root, "versions")
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return nil, versions.Version{}, errors.New("retire: the timeline has no list of versions")
	}
	at := -1
	for i, n := range seq.Content {
		if vn := mapValue(n, "version"); vn != nil {
			if pv, err := versions.Parse(vn.Value); err == nil && pv == v {
				at = i
			}
		}
	}
	switch {
	case at < 0:
		return nil, versions.Version{}, fmt.Errorf("retire: version %s is not in the file", v)
	case at == 0:
		return nil, versions.Version{}, fmt.Errorf("retire: %s is the newest version: there is no newer version to move its clients to", v)
	}
	old, newer := seq.Content[at], seq.Content[at-1]
	into, err := versions.Parse(mapValue(newer, "version").Value)
	if err != nil {
		return nil, versions.Version{}, fmt.Errorf("retire: %w", err)
	}
	base := at == len(seq.Content)-1
	if seq.Style&yaml.FlowStyle != 0 || old.Style&yaml.FlowStyle != 0 || newer.Style&yaml.FlowStyle != 0 {
		return foldNodes(&doc, seq, at, base, into)
	}
	for _, n := range []*yaml.Node{mapValue(old, "changes"), mapValue(newer, "changes")} {
		if n != nil && n.Style&yaml.FlowStyle != 0 {
			return foldNodes(&doc, seq, at, base, into)
		}
	}

	lines := strings.SplitAfter(string(data), "\n")
	// seqEnd is the last line of the versions list (1-based).
	seqEnd := len(lines)
	if k := nextKeyLine(root, "versions"); k > 0 {
		seqEnd = k - 1
	}
	itemEnd := func(i int) int {
		if i+1 < len(seq.Content) {
			return seq.Content[i+1].Line - 1
		}
		return seqEnd
	}
	// valueLines returns the lines of key's value in the mapping m, whose
	// block ends at line end, without trailing blank lines.
	valueLines := func(m *yaml.Node, key string, end int) (first, last int) {
		k := keyNode(m, key)
		last = end
		if n := nextKeyLine(m, key); n > 0 {
			last = n - 1
		}
		for last > k.Line && strings.TrimSpace(lines[last-1]) == "" {
			last--
		}
		return k.Line, last
	}
	oldStart, oldEnd := old.Line, itemEnd(at)
	var moved []string
	if cs := mapValue(old, "changes"); cs != nil && cs.Kind == yaml.SequenceNode && len(cs.Content) > 0 {
		_, last := valueLines(old, "changes", oldEnd)
		moved = append(moved, lines[cs.Content[0].Line-1:last]...)
		shift := 0
		if ncs := mapValue(newer, "changes"); ncs != nil && ncs.Kind == yaml.SequenceNode && len(ncs.Content) > 0 {
			shift = ncs.Content[0].Column - cs.Content[0].Column
		} else {
			shift = newer.Column - old.Column
		}
		moved = reindent(moved, shift)
	}
	// Edit bottom-up so that line numbers above stay right.
	out := append([]string{}, lines[:oldStart-1]...)
	rest := lines[oldEnd:]
	newerEnd := oldStart - 1
	switch ncs := mapValue(newer, "changes"); {
	case base && ncs != nil:
		first, last := valueLines(newer, "changes", newerEnd)
		out = append(append([]string{}, out[:first-1]...), out[last:]...)
	case base || len(moved) == 0:
	case ncs != nil && ncs.Kind == yaml.SequenceNode && len(ncs.Content) > 0:
		i := ncs.Content[0].Line - 1
		out = append(append(append([]string{}, out[:i]...), moved...), out[i:]...)
	default:
		if ncs != nil {
			first, last := valueLines(newer, "changes", newerEnd)
			out = append(append([]string{}, out[:first-1]...), out[last:]...)
			newerEnd -= last - first + 1
		}
		i := newerEnd
		for i > newer.Line && strings.TrimSpace(out[i-1]) == "" {
			i--
		}
		if !strings.HasSuffix(out[i-1], "\n") {
			out[i-1] += "\n"
		}
		ins := append([]string{strings.Repeat(" ", newer.Column-1) + "changes:\n"}, moved...)
		out = append(append(append([]string{}, out[:i]...), ins...), out[i:]...)
	}
	out = append(out, rest...)
	return []byte(strings.Join(out, "")), into, nil
}

// foldNodes is foldVersion for timelines in flow style: it edits the YAML
// nodes and encodes them again.
func foldNodes(doc *yaml.Node, seq *yaml.Node, at int, base bool, into versions.Version) ([]byte, versions.Version, error) {
	old, newer := seq.Content[at], seq.Content[at-1]
	moved := mapValue(old, "changes")
	switch {
	case base:
		deleteKey(newer, "changes")
	case moved != nil && moved.Kind == yaml.SequenceNode && len(moved.Content) > 0:
		if cs := mapValue(newer, "changes"); cs != nil && cs.Kind == yaml.SequenceNode {
			cs.Content = append(append([]*yaml.Node{}, moved.Content...), cs.Content...)
		} else {
			deleteKey(newer, "changes")
			newer.Content = append(newer.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "changes"}, moved)
		}
	}
	seq.Content = append(seq.Content[:at], seq.Content[at+1:]...)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, versions.Version{}, fmt.Errorf("retire: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, versions.Version{}, fmt.Errorf("retire: %w", err)
	}
	return buf.Bytes(), into, nil
}

// reindent shifts lines right (shift > 0) or left by shift spaces.
func reindent(lines []string, shift int) []string {
	if shift == 0 {
		return lines
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		switch {
		case strings.TrimSpace(l) == "":
			out[i] = l
		case shift > 0:
			out[i] = strings.Repeat(" ", shift) + l
		default:
			n := min(-shift, len(l)-len(strings.TrimLeft(l, " ")))
			out[i] = l[n:]
		}
	}
	return out
}

func keyNode(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i]
		}
	}
	return nil
}

// nextKeyLine returns the line of the key after key in the mapping m, or 0
// when key is the last.
func nextKeyLine(m *yaml.Node, key string) int {
	for i := 0; i+3 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+2].Line
		}
	}
	return 0
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func deleteKey(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}

// routeProbe is a request to route with both timelines: an endpoint some op
// names, with its parameters filled in.
type routeProbe struct{ method, path string }

// routeProbes returns a request for every endpoint the timeline's endpoint,
// status and header ops name.
func routeProbes(tl *gates.Timeline) []routeProbe {
	seen := map[routeProbe]bool{}
	var out []routeProbe
	add := func(e gates.Endpoint) {
		if e.Method == "" || e.Method == "*" {
			return
		}
		segs := strings.Split(e.Path, "/")
		for i, s := range segs {
			if gates.IsParam(s) {
				segs[i] = strings.Trim(s, ":{}") + "_1"
			}
		}
		p := routeProbe{e.Method, strings.Join(segs, "/")}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, v := range tl.List() {
		for _, c := range v.Changes {
			for _, op := range c.Ops {
				switch {
				case op.Kind.Endpoint():
					add(op.Endpoint)
					add(op.WasEndpoint)
				case op.Kind.Response():
					for _, e := range c.Endpoints {
						add(e)
					}
				}
			}
		}
	}
	return out
}

// compareRoutes routes every probe at every version with both timelines and
// describes each difference: existence, where it is served, its status
// codes and headers.
func compareRoutes(oldTL, newTL *gates.Timeline, vs []versions.Version) []string {
	var codes []int
	var headers []string
	for _, v := range oldTL.List() {
		for _, c := range v.Changes {
			for _, op := range c.Ops {
				switch op.Kind {
				case gates.KindStatus:
					codes = append(codes, op.Code, op.WasCode)
				case gates.KindHeaderRename, gates.KindHeaderAdded:
					headers = append(headers, op.Header, op.WasHeader)
				}
			}
		}
	}
	if len(codes) == 0 {
		codes = []int{http.StatusOK}
	}
	describe := func(d gates.RouteDecision) string {
		h := http.Header{}
		for _, name := range headers {
			if name != "" {
				h.Set(name, name)
			}
		}
		d.Header(h)
		var st []string
		for _, c := range codes {
			st = append(st, fmt.Sprintf("%d→%d", c, d.Status(c)))
		}
		return fmt.Sprintf("absent=%t at=%s %s status=%s headers=%v", d.Absent, d.Method, d.Path, strings.Join(st, ","), h)
	}
	var out []string
	for _, p := range routeProbes(oldTL) {
		var at []string
		var first string
		for _, v := range vs {
			o, n := describe(oldTL.Route(v, p.method, p.path)), describe(newTL.Route(v, p.method, p.path))
			if o != n {
				if first == "" {
					first = fmt.Sprintf("was %s, now %s", o, n)
				}
				at = append(at, v.String())
			}
		}
		if len(at) > 0 {
			hint := ""
			if !namesEndpoint(newTL, p) {
				hint = " (the new timeline no longer names this endpoint: remove its route from the application first, or keep the version)"
			}
			out = append(out, fmt.Sprintf("route %s %s differs at %d versions (%s): %s%s", p.method, p.path, len(at), strings.Join(at, ", "), first, hint))
		}
	}
	return out
}

// namesEndpoint reports whether an op of tl names the probe's endpoint.
func namesEndpoint(tl *gates.Timeline, p routeProbe) bool {
	for _, q := range routeProbes(tl) {
		if q == p {
			return true
		}
	}
	return false
}
