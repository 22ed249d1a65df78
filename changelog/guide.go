package changelog

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// Guide is an upgrade guide: what an integration pinned at From must change
// to move to To, grouped by resource and by endpoint, with before and after
// examples. Steps are listed oldest first, in the order the integration
// meets them.
type Guide struct {
	API  string           `json:"api,omitempty"`
	From versions.Version `json:"from"`
	To   versions.Version `json:"to"`
	// Versions are the versions whose changes separate From and To,
	// oldest first.
	Versions []versions.Version `json:"versions"`
	// Breaking counts the breaking changes on the way.
	Breaking  int               `json:"breaking"`
	Resources []ResourceSection `json:"resources"`
	Endpoints []EndpointSection `json:"endpoints"`
	// Other holds changes that name no resource and no endpoint.
	Other []Step `json:"other"`
	// Report, when set, is the address of the reader's own upgrade
	// report (package reports): which of these changes its traffic met.
	Report string `json:"report,omitempty"`
}

// ResourceSection is what changes in one object type.
type ResourceSection struct {
	Resource string `json:"resource"`
	// Anchor is the HTML id of the section: "resource-charge".
	Anchor   string    `json:"anchor"`
	Steps    []Step    `json:"steps"`
	Examples []Example `json:"examples"`
	// MoreExamples counts the samples that would show the change too but
	// are left out (MaxExamples per resource).
	MoreExamples int `json:"more_examples"`
}

// EndpointSection is what changes in the request bodies an endpoint takes.
type EndpointSection struct {
	Endpoint string `json:"endpoint"`
	// Anchor is the HTML id of the section: "endpoint-post-v1-customers".
	Anchor string `json:"anchor"`
	Steps  []Step `json:"steps"`
}

// Step is one change as it applies to one section.
type Step struct {
	Version     versions.Version `json:"version"`
	ID          string           `json:"id"`
	Description string           `json:"description"`
	Breaking    bool             `json:"breaking"`
	Behavior    bool             `json:"behavior"`
	// Ops are the sentences about this section's resource or, in an
	// endpoint section, about request bodies: the net effect between the
	// guide's versions.
	Ops []OpEntry `json:"ops"`
	// Todo says what to do about a breaking step, one sentence per op
	// (empty when the step breaks nothing). Behaviour changes count as
	// breaking unless the change says `breaking: false`.
	Todo []string `json:"todo"`
}

// Example is one sample rendered at both ends of a guide.
type Example struct {
	// Sample names the sample ("charge.json").
	Sample string `json:"sample"`
	// Type is the sample's object type.
	Type string `json:"type"`
	// Before and After are the sample at From and at To, indented. When
	// Shortened is set, keys equal on both sides are left out and a "..."
	// line stands for them, so the text is not JSON.
	Before    string `json:"before"`
	After     string `json:"after"`
	Shortened bool   `json:"shortened"`
}

// UpgradeGuide returns what an integration pinned at from must change to
// move to to. Only the net effect of the versions between them is shown:
// a field added and removed on the way is left out, a field renamed twice
// is renamed once (see the package doc). Each breaking step (behaviour
// changes included) says what to do. Every sample (in the newest schema)
// that holds an object of a type the changes touch is rendered at both
// versions by e (a new engine for tl when nil) and shown under the first
// touched resource, at most MaxExamples per resource. An unknown version is
// an error wrapping versions.ErrUnknownVersion; from newer than to is
// ErrRange.
func UpgradeGuide(tl *gates.Timeline, e *transform.Engine, from, to versions.Version, samples []Sample) (*Guide, error) {
	if from.IsZero() || to.IsZero() {
		return nil, fmt.Errorf("docs: an upgrade guide needs both versions")
	}
	from, to, err := span(tl, from, to)
	if err != nil {
		return nil, err
	}
	if e == nil {
		e = transform.New(tl, nil)
	}
	g := &Guide{API: tl.API(), From: from, To: to, Versions: []versions.Version{},
		Resources: []ResourceSection{}, Endpoints: []EndpointSection{}, Other: []Step{}}
	vs := tl.Between(from, to)
	slices.Reverse(vs)
	// The changes on the way, oldest first, and each section's ops.
	var changes []changeAt
	res := map[string][]placed{}
	eps := map[string][]placed{}
	epByKey := map[string]gates.Endpoint{}
	var other []placed
	for _, v := range vs {
		g.Versions = append(g.Versions, v.ID)
		for i := range v.Changes {
			c := &v.Changes[i]
			ci := len(changes)
			changes = append(changes, changeAt{v.ID, c})
			for _, op := range c.Ops {
				for _, r := range c.Resources {
					res[r] = append(res[r], placed{step: ci, op: op})
				}
				for _, ep := range c.Endpoints {
					epByKey[ep.String()] = ep
					eps[ep.String()] = append(eps[ep.String()], placed{step: ci, op: op})
				}
				if len(c.Resources) == 0 && len(c.Endpoints) == 0 {
					other = append(other, placed{step: ci, op: op})
				}
			}
		}
	}
	breaking := map[string]bool{}
	for _, r := range sortedKeys(res) {
		steps := stepsOf(changes, netOps(res[r]), r, breaking)
		if len(steps) > 0 {
			g.Resources = append(g.Resources, ResourceSection{Resource: r, Anchor: "resource-" + r, Steps: steps, Examples: []Example{}})
		}
	}
	for _, k := range sortedKeys(eps) {
		steps := stepsOf(changes, netOps(eps[k]), "", breaking)
		if len(steps) > 0 {
			g.Endpoints = append(g.Endpoints, EndpointSection{Endpoint: k, Anchor: endpointAnchor(epByKey[k]), Steps: steps})
		}
	}
	g.Other = stepsOf(changes, other, "", breaking)
	if g.Other == nil {
		g.Other = []Step{}
	}
	g.Breaking = len(breaking)
	if err := g.addExamples(e, samples); err != nil {
		return nil, err
	}
	return g, nil
}

// MaxExamples is how many examples an upgrade guide shows per resource;
// ResourceSection.MoreExamples counts the samples left out.
const MaxExamples = 3

type changeAt struct {
	v versions.Version
	c *gates.Change
}

// stepsOf groups a section's surviving ops by their change, oldest first.
// resource is the section's object type ("" for request bodies and other
// changes). The ids of breaking steps are added to breaking.
func stepsOf(changes []changeAt, ops []placed, resource string, breaking map[string]bool) []Step {
	var steps []Step
	last := -1
	for _, p := range ops {
		if p.step != last {
			ca := changes[p.step]
			steps = append(steps, Step{Version: ca.v, ID: ca.c.ID, Description: ca.c.Description,
				Behavior: ca.c.IsBehavior(), Ops: []OpEntry{}, Todo: []string{}})
			last = p.step
		}
		s := &steps[len(steps)-1]
		var rs []string
		if resource != "" {
			rs = []string{resource}
		}
		s.Ops = append(s.Ops, opEntries(p.op, rs)...)
		if p.op.Breaking() || p.op.Kind == gates.KindBehavior {
			s.Breaking = true
		}
		if t := todo(p.op, resource); t != "" && !slices.Contains(s.Todo, t) {
			s.Todo = append(s.Todo, t)
		}
	}
	for i := range steps {
		s := &steps[i]
		c, _ := findChange(changes, s.ID)
		if c.Breaking != nil {
			s.Breaking = *c.Breaking
		}
		if !s.Breaking {
			s.Todo = []string{}
		} else {
			breaking[s.ID] = true
		}
	}
	return steps
}

func findChange(changes []changeAt, id string) (*gates.Change, bool) {
	for _, ca := range changes {
		if ca.c.ID == id {
			return ca.c, true
		}
	}
	return nil, false
}

// defaultError is the error body an upgrade guide shows, in Stripe's shape,
// when the changes touch error bodies and no sample is an error.
const defaultError = `{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such object: 'obj_123'","param":"id"}}`

// isErrorSample reports whether a sample is an error body: its file name
// starts with "error" (error.json, error_not_found.json).
func isErrorSample(s Sample) bool {
	return strings.HasPrefix(strings.ToLower(filepath.Base(s.Name)), "error")
}

// addErrorExamples shows error bodies in the section of resource "error":
// the error samples, or Stripe's shape when there is none, walked as error
// responses are.
func (g *Guide) addErrorExamples(e *transform.Engine, samples []Sample) error {
	idx := slices.IndexFunc(g.Resources, func(r ResourceSection) bool { return r.Resource == gates.ErrorResource })
	if idx < 0 {
		return nil
	}
	var errs []Sample
	for _, s := range samples {
		if isErrorSample(s) {
			errs = append(errs, s)
		}
	}
	if len(errs) == 0 {
		errs = []Sample{{Name: "error (Stripe's shape)", Body: []byte(defaultError)}}
	}
	newest := e.Timeline().Newest()
	render := func(body []byte, to versions.Version) ([]byte, error) {
		p, err := e.Plan(newest, to)
		if err != nil {
			return nil, err
		}
		if p = p.ForStatus(400); p == nil {
			return body, nil
		}
		return p.Apply(body)
	}
	for _, s := range errs {
		before, err := render(s.Body, g.From)
		if err != nil {
			return fmt.Errorf("sample %s: render at %s: %w", s.Name, g.From, err)
		}
		after, err := render(s.Body, g.To)
		if err != nil {
			return fmt.Errorf("sample %s: render at %s: %w", s.Name, g.To, err)
		}
		ex, err := example(before, after)
		if err != nil {
			return fmt.Errorf("sample %s: %w", s.Name, err)
		}
		if ex.Before == ex.After {
			continue
		}
		if len(g.Resources[idx].Examples) >= MaxExamples {
			g.Resources[idx].MoreExamples++
			continue
		}
		ex.Sample, ex.Type = s.Name, gates.ErrorResource
		g.Resources[idx].Examples = append(g.Resources[idx].Examples, ex)
	}
	return nil
}

func (g *Guide) addExamples(e *transform.Engine, samples []Sample) error {
	if err := g.addErrorExamples(e, samples); err != nil {
		return err
	}
	newest := e.Timeline().Newest()
	for _, s := range samples {
		if isErrorSample(s) {
			continue
		}
		types := s.Types()
		// The sample's own type first, then the nested ones.
		if i := slices.Index(types, s.Type); i > 0 {
			types = append([]string{s.Type}, slices.Delete(types, i, i+1)...)
		}
		idx := -1
		for _, t := range types {
			idx = slices.IndexFunc(g.Resources, func(r ResourceSection) bool { return r.Resource == t })
			if idx >= 0 {
				break
			}
		}
		if idx < 0 {
			continue
		}
		before, err := e.Render(s.Body, newest, g.From)
		if err != nil {
			return fmt.Errorf("sample %s: render at %s: %w", s.Name, g.From, err)
		}
		after, err := e.Render(s.Body, newest, g.To)
		if err != nil {
			return fmt.Errorf("sample %s: render at %s: %w", s.Name, g.To, err)
		}
		ex, err := example(before, after)
		if err != nil {
			return fmt.Errorf("sample %s: %w", s.Name, err)
		}
		if ex.Before == ex.After {
			continue // the changes touch the type but not this sample
		}
		if len(g.Resources[idx].Examples) >= MaxExamples {
			g.Resources[idx].MoreExamples++
			continue
		}
		ex.Sample, ex.Type = s.Name, s.Type
		g.Resources[idx].Examples = append(g.Resources[idx].Examples, ex)
	}
	return nil
}

func endpointAnchor(ep gates.Endpoint) string {
	b := []byte("endpoint-")
	dash := false
	for _, r := range []byte(ep.String()) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			b, dash = append(b, r), false
		case r >= 'A' && r <= 'Z':
			b, dash = append(b, r+'a'-'A'), false
		case !dash && len(b) > len("endpoint-"):
			b, dash = append(b, '-'), true
		}
	}
	if dash {
		b = b[:len(b)-1]
	}
	return string(b)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
