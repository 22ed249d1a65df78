package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

func init() {
	register(&command{name: "render", summary: "walk a JSON body back (or forward) to a version", run: runRender, usage: `Usage: verso render -f TIMELINE --to VERSION [--from VERSION] [--endpoint "GET /v1/users/u_1"] [--status 200] [FILE]

Reads a response body in the newest schema (or --from's) from FILE or
standard input and writes it as version --to would have returned it.
Objects are found by their type field ("object" unless the timeline says
otherwise) at any depth; with --endpoint, the changes scoped to that
endpoint apply too, as they do to its responses. A status that is not 2xx
walks the body as an error. When no change altered the body, standard
error says so (the exit status is still 0).

Flags:
  -f, --timeline FILE   the YAML timeline (required)
  --stub-custom         accept custom ops whose Go functions are not here (they change nothing)
  --to VERSION          the version to render (required)
  --from VERSION        the schema of the input (default: the newest version)
  --endpoint "M /path"  the request the body answers, e.g. "GET /v1/users/u_1"
  --status CODE         the response's status (default 200)
`})
	register(&command{name: "upgrade", summary: "walk a request body forward to the newest schema", run: runUpgrade, usage: `Usage: verso upgrade -f TIMELINE --from VERSION [--endpoint "POST /v1/customers"] [FILE]

Reads a request body sent by a client on --from (JSON, or a form body in
Stripe's bracket syntax such as metadata[order]=6735) and writes it in the
newest schema. With --endpoint, the changes scoped to that endpoint apply;
without it, the body is walked as typed objects by their "object" field.
When no change altered the body, standard error says so (the exit status
is still 0).

Flags:
  -f, --timeline FILE   the YAML timeline (required)
  --stub-custom         accept custom ops whose Go functions are not here (they change nothing)
  --from VERSION        the client's version (required)
  --endpoint "M /path"  the request's method and path, e.g. "POST /v1/customers/cus_123"
`})
	register(&command{name: "check", summary: "validate a timeline", run: runCheck, usage: `Usage: verso check -f TIMELINE [--all]

Validates the timeline and prints a one-line summary. An invalid timeline
exits 1 with "file:line:col: change: message".

Flags:
  -f, --timeline FILE   the YAML timeline (required)
  --stub-custom         accept custom ops whose Go functions are not here (they change nothing)
  --all                 print every problem, one per line, not just the first
`})
	register(&command{name: "versions", summary: "list a timeline's versions, newest first", run: runVersions, usage: `Usage: verso versions -f TIMELINE

Prints the versions of the timeline, newest first, one per line.

Flags:
  -f, --timeline FILE   the YAML timeline (required)
  --stub-custom         accept custom ops whose Go functions are not here (they change nothing)
`})
}

// timelineArg is the -f/--timeline flag and --stub-custom.
type timelineArg struct {
	path string
	stub bool
	warn io.Writer
	// withoutGo names the command when it cannot run Go functions (the
	// proxy): a custom op is refused with a message saying so.
	withoutGo string
}

// timelineFlag registers -f, --timeline and --stub-custom on fs.
func timelineFlag(e *env, fs *flag.FlagSet) *timelineArg {
	a := &timelineArg{warn: e.stderr}
	fs.StringVar(&a.path, "f", "", "")
	fs.StringVar(&a.path, "timeline", "", "")
	fs.BoolVar(&a.stub, "stub-custom", false, "")
	return a
}

// loadTimeline loads the timeline, with the demo API's resolvers
// registered (api.Funcs). With --stub-custom, custom functions and
// resolvers that only Go code can supply are stubbed (changing nothing)
// and named on standard error.
func loadTimeline(a *timelineArg) (*gates.Timeline, error) {
	if a.path == "" {
		return nil, usagef("missing -f TIMELINE")
	}
	return loadTimelineOpts(a.path, &gates.Options{Funcs: api.Funcs(), StubMissing: a.stub, WithoutGo: a.withoutGo}, a.warn)
}

func loadTimelineFile(path string, stub bool, warn io.Writer) (*gates.Timeline, error) {
	return loadTimelineOpts(path, &gates.Options{Funcs: api.Funcs(), StubMissing: stub}, warn)
}

func loadTimelineOpts(path string, opts *gates.Options, warn io.Writer) (*gates.Timeline, error) {
	tl, err := gates.LoadFile(path, opts)
	if err != nil {
		return nil, err
	}
	warnStubbed(path, tl, warn)
	return tl, nil
}

// warnStubbed names on warn the custom functions and resolvers stubbed
// out.
func warnStubbed(path string, tl *gates.Timeline, warn io.Writer) {
	if s := tl.Stubbed(); len(s) > 0 {
		fmt.Fprintf(warn, "warning: %s: custom functions and resolvers stubbed, their ops change nothing here: %s\n", path, strings.Join(s, ", "))
	}
}

func resolve(tl *gates.Timeline, flagName, s string) (versions.Version, error) {
	if s == "" {
		return versions.Version{}, usagef("missing --%s VERSION", flagName)
	}
	v, err := tl.Resolve(s)
	if err != nil {
		return v, fmt.Errorf("--%s: %w", flagName, err)
	}
	return v, nil
}

// vflag is a version flag: its name, its value, whether it is required,
// and the version it stands for when not given (zero: none).
type vflag struct {
	name, value string
	required    bool
	def         versions.Version
}

// loadVersions loads the timeline and resolves the version flags against it.
func loadVersions(file *timelineArg, flags ...vflag) (*gates.Timeline, []versions.Version, error) {
	tl, err := loadTimeline(file)
	if err != nil {
		return nil, nil, err
	}
	out := make([]versions.Version, len(flags))
	for i, f := range flags {
		if f.value == "" && !f.required {
			out[i] = f.def
			continue
		}
		if out[i], err = resolve(tl, f.name, f.value); err != nil {
			return nil, nil, err
		}
	}
	return tl, out, nil
}

func writeBody(e *env, b []byte) error {
	if _, err := e.stdout.Write(b); err != nil {
		return err
	}
	if !bytes.HasSuffix(b, []byte("\n")) {
		_, err := e.stdout.Write([]byte("\n"))
		return err
	}
	return nil
}

func runRender(e *env, args []string) error {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	file := timelineFlag(e, fs)
	to := fs.String("to", "", "")
	from := fs.String("from", "", "")
	endpoint := fs.String("endpoint", "", "")
	status := fs.Int("status", 200, "")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *status < 100 || *status > 599 {
		return usagef("--status: want an HTTP status code (100 to 599)")
	}
	ep, err := endpointFlag(*endpoint)
	if err != nil {
		return err
	}
	tl, vs, err := loadVersions(file, vflag{name: "to", value: *to, required: true}, vflag{name: "from", value: *from})
	if err != nil {
		return err
	}
	tv, fv := vs[0], vs[1]
	if fv.IsZero() {
		fv = tl.Newest()
	}
	body, err := readInput(e, pos)
	if err != nil {
		return err
	}
	eng := transform.New(tl, nil)
	var p *transform.Plan
	if ep.Method != "" {
		p, err = eng.ResponsePlan(fv, tv, ep.Method, ep.Path)
	} else {
		p, err = eng.Plan(fv, tv)
	}
	if err != nil {
		return err
	}
	var fired gates.Fired
	out := body
	if p = p.ForStatus(*status); p != nil {
		out, err = p.ApplyFired(body, &fired)
	} else {
		err = eng.Valid(body)
	}
	if err != nil {
		return err
	}
	if fired.Empty() {
		nothingFired(e, "render", eng, ep, fv, tv)
	}
	return writeBody(e, out)
}

// endpointFlag parses --endpoint; empty is no endpoint.
func endpointFlag(s string) (gates.Endpoint, error) {
	if s == "" {
		return gates.Endpoint{}, nil
	}
	ep, err := gates.ParseEndpoint(s)
	if err != nil {
		return ep, usagef("--endpoint: %v", err)
	}
	if ep.Method == "*" {
		return ep, usagef("--endpoint: name one method, not *")
	}
	return ep, nil
}

// nothingFired tells on standard error that no change of the timeline
// altered the body between from and to, and why that may be.
func nothingFired(e *env, cmd string, eng *transform.Engine, ep gates.Endpoint, from, to versions.Version) {
	msg := fmt.Sprintf("verso %s: nothing in the timeline changed this body between %s and %s", cmd, from, to)
	switch {
	case from == to:
		msg += ": they are the same version"
	case ep.Method == "" && eng.EndpointScoped():
		msg += fmt.Sprintf("; its objects were found by their %q field, and the changes scoped by endpoint apply only with --endpoint \"METHOD /path\"", eng.TypeField())
	case ep.Method == "":
		msg += fmt.Sprintf(" (objects are found by their %q field)", eng.TypeField())
	default:
		msg += fmt.Sprintf(" on %s", ep)
	}
	fmt.Fprintln(e.stderr, msg)
}

func runUpgrade(e *env, args []string) error {
	fs := flag.NewFlagSet("upgrade", flag.ContinueOnError)
	file := timelineFlag(e, fs)
	from := fs.String("from", "", "")
	endpoint := fs.String("endpoint", "", "")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	tl, vs, err := loadVersions(file, vflag{name: "from", value: *from, required: true})
	if err != nil {
		return err
	}
	fv := vs[0]
	ep, err := endpointFlag(*endpoint)
	if err != nil {
		return err
	}
	body, err := readInput(e, pos)
	if err != nil {
		return err
	}
	eng := transform.New(tl, nil)
	trimmed := bytes.TrimSpace(body)
	isJSON := len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[')
	var out []byte
	var fired gates.Fired
	switch {
	case ep.Method == "":
		if !isJSON {
			return errors.New("without --endpoint the body must be JSON objects with an \"object\" field")
		}
		out, err = eng.RenderFired(body, fv, tl.Newest(), &fired)
	default:
		d := tl.RouteFired(fv, ep.Method, ep.Path, &fired)
		if d.Absent {
			fmt.Fprintf(e.stderr, "verso upgrade: %s does not exist at %s: the API answers 404 there\n", ep, fv)
		}
		if d.Moved {
			fmt.Fprintf(e.stderr, "verso upgrade: %s is served at %s %s in the newest version\n", ep, d.Method, d.Path)
		}
		if isJSON {
			out, err = eng.UpgradeFired(body, fv, ep.Method, ep.Path, &fired)
		} else {
			var s string
			s, err = eng.UpgradeFormFired(string(trimmed), fv, ep.Method, ep.Path, &fired)
			out = []byte(s)
		}
	}
	if err != nil {
		return err
	}
	if fired.Empty() {
		nothingFired(e, "upgrade", eng, ep, fv, tl.Newest())
	}
	return writeBody(e, out)
}

func runCheck(e *env, args []string) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	file := timelineFlag(e, fs)
	all := fs.Bool("all", false, "")
	if err := flagsOnly(fs, args); err != nil {
		return err
	}
	tl, err := loadTimeline(file)
	if err != nil {
		var list gates.ErrorList
		if *all && errors.As(err, &list) {
			for _, x := range list[1:] {
				fmt.Fprintln(e.stderr, x)
			}
			return list[0]
		}
		return err
	}
	changes, ops := 0, 0
	for _, v := range tl.List() {
		changes += len(v.Changes)
		for _, c := range v.Changes {
			ops += len(c.Ops)
		}
	}
	vt := tl.Versions()
	fmt.Fprintf(e.stdout, "ok: %s: %d versions (newest %s, base %s), %d changes, %d ops\n", file.path, vt.Len(), vt.Newest(), vt.Base(), changes, ops)
	printLifecycle(e, tl)
	return nil
}

// reshapes reports whether a body op reshapes objects in a way a reader
// of check's output should see spelled out: a nest, a collapse, a default
// given to old clients' requests, a field put back from an array's
// element or with a fallback.
func reshapes(op gates.Op) bool {
	switch op.Kind {
	case gates.KindNest, gates.KindCollapse:
		return true
	case gates.KindAdded:
		return op.Default != nil
	case gates.KindRemoved:
		if op.From == "" {
			return false
		}
		if op.Default != nil {
			return true
		}
		for _, step := range gates.SplitFromPath(op.From) {
			if strings.Trim(step, "0123456789") == "" {
				return true // an array's element
			}
		}
	}
	return false
}

// printLifecycle prints, after check's summary, the ops of each version
// that reshape objects (nest, collapse, defaults, from through arrays),
// its endpoint, status and header ops, and which versions are deprecated
// or sunset.
func printLifecycle(e *env, tl *gates.Timeline) {
	for _, v := range tl.List() {
		var lines []string
		for _, c := range v.Changes {
			for _, op := range c.Ops {
				if reshapes(op) {
					eps := make([]string, len(c.Endpoints))
					for i, ep := range c.Endpoints {
						eps[i] = ep.String()
					}
					switch {
					case len(c.Resources) > 0:
						for _, r := range c.Resources {
							lines = append(lines, fmt.Sprintf("  %s: %s", c.ID, op.Describe(r)))
						}
					default:
						lines = append(lines, fmt.Sprintf("  %s: %s (%s)", c.ID, op.Describe(""), strings.Join(eps, ", ")))
					}
					continue
				}
				if op.Kind.Endpoint() || op.Kind.Response() {
					scope := ""
					if op.Kind.Response() && len(c.Endpoints) > 0 {
						eps := make([]string, len(c.Endpoints))
						for i, ep := range c.Endpoints {
							eps[i] = ep.String()
						}
						scope = " (" + strings.Join(eps, ", ") + ")"
					}
					lines = append(lines, fmt.Sprintf("  %s: %s%s", c.ID, op.Describe(""), scope))
				}
			}
		}
		l := tl.Lifecycle(v.ID)
		if l.IsDeprecated() {
			s := "  deprecated " + l.Deprecated.Format(time.DateOnly)
			if !l.Sunset.IsZero() {
				s += ", sunset " + l.Sunset.Format(time.DateOnly) + " (after it: " + l.Policy.String() + ")"
			}
			lines = append(lines, s+"; move to "+l.Successor.String())
		}
		if len(lines) > 0 {
			fmt.Fprintf(e.stdout, "%s:\n%s\n", v.ID, strings.Join(lines, "\n"))
		}
	}
}

func runVersions(e *env, args []string) error {
	fs := flag.NewFlagSet("versions", flag.ContinueOnError)
	file := timelineFlag(e, fs)
	if err := flagsOnly(fs, args); err != nil {
		return err
	}
	tl, err := loadTimeline(file)
	if err != nil {
		return err
	}
	for _, v := range tl.Versions().List() {
		fmt.Fprintln(e.stdout, v)
	}
	return nil
}
