package changelog

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Markdown writes the changelog as Markdown: a heading per version, newest
// first, and per change its description, what it touches and one bullet
// per operation.
func (l *Log) Markdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# %s\n\n", title(l.API, "Changelog"))
	fmt.Fprintf(bw, "Versions %s to %s, newest first. Each entry says what the version changed relative to the one before it.\n", l.From, l.To)
	for _, v := range l.Versions {
		fmt.Fprintf(bw, "\n## %s%s\n", v.Version, mdBadges(v.Breaking, false))
		if v.Preview {
			fmt.Fprintf(bw, "\n*Preview*: served only to clients that ask for it by name, never a default; it may change or go away.\n")
		}
		if v.Guide != "" {
			fmt.Fprintf(bw, "\n[Upgrade guide from %s](%s)\n", v.Version, v.Guide)
		}
		if v.Deprecated != "" {
			fmt.Fprintf(bw, "\n%s\n", deprecationText(v, fmt.Sprintf("[%s](#v%s)", v.Successor, v.Successor)))
		}
		if v.Base {
			fmt.Fprintf(bw, "\nThe first version: the base every later change is relative to.\n")
		} else if len(v.Changes) == 0 {
			fmt.Fprintf(bw, "\nNo changes.\n")
		}
		for _, c := range v.Changes {
			fmt.Fprintf(bw, "\n### `%s`%s\n\n%s\n\n", c.ID, mdBadges(c.Breaking, c.Behavior), strings.TrimSpace(c.Description))
			var meta []string
			if len(c.Resources) > 0 {
				meta = append(meta, "Resources: "+mdCodes(c.Resources)+".")
			}
			if len(c.Endpoints) > 0 {
				meta = append(meta, "Endpoints: "+mdCodes(c.Endpoints)+".")
			}
			if len(meta) > 0 {
				fmt.Fprintf(bw, "%s\n\n", strings.Join(meta, " "))
			}
			for _, op := range c.Ops {
				fmt.Fprintf(bw, "- %s\n", op.Text)
			}
		}
	}
	return bw.Flush()
}

// Markdown writes the guide as Markdown: the steps by resource with their
// examples, then by endpoint.
func (g *Guide) Markdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# %s\n\n", title(g.API, fmt.Sprintf("Upgrading from %s to %s", g.From, g.To)))
	g.summary(bw, func(v string) string { return v })
	if g.Report != "" {
		fmt.Fprintf(bw, "\nWhich of these changes touch your own integration? [Your upgrade report](%s) tells, measured on your account's traffic.\n", g.Report)
	}
	if len(g.Resources) > 0 {
		bw.WriteString("\n## By resource\n")
	}
	for _, r := range g.Resources {
		fmt.Fprintf(bw, "\n### `%s`\n", r.Resource)
		for _, s := range r.Steps {
			mdStep(bw, s, "")
		}
		for _, ex := range r.Examples {
			lang := "json"
			if ex.Shortened {
				lang = "text"
			}
			note := ""
			if ex.Shortened {
				note = " (keys equal in both versions are left out: `...`)"
			}
			fmt.Fprintf(bw, "\nExample `%s`%s. At %s:\n\n```%s\n%s\n```\n\nAt %s:\n\n```%s\n%s\n```\n",
				ex.Sample, note, g.From, lang, ex.Before, g.To, lang, ex.After)
		}
		if r.MoreExamples > 0 {
			fmt.Fprintf(bw, "\n%d more %s these changes; not shown.\n", r.MoreExamples, plural(r.MoreExamples, "sample shows", "samples show"))
		}
	}
	if len(g.Endpoints) > 0 {
		bw.WriteString("\n## By endpoint\n\nWhat changes in the request bodies these endpoints take.\n")
	}
	for _, e := range g.Endpoints {
		fmt.Fprintf(bw, "\n### `%s`\n", e.Endpoint)
		for _, s := range e.Steps {
			mdStep(bw, s, "In request bodies: ")
		}
	}
	if len(g.Other) > 0 {
		bw.WriteString("\n## Other changes\n")
		for _, s := range g.Other {
			mdStep(bw, s, "")
		}
	}
	return bw.Flush()
}

func (g *Guide) summary(w io.Writer, code func(string) string) {
	if len(g.Versions) == 0 {
		fmt.Fprintf(w, "Nothing changes between %s and %s.\n", g.From, g.To)
		return
	}
	vs := make([]string, len(g.Versions))
	for i, v := range g.Versions {
		vs[i] = code(v.String())
	}
	fmt.Fprintf(w, "An integration pinned at %s meets the changes of %d %s on the way to %s (%s), oldest first. %s\n",
		g.From, len(vs), plural(len(vs), "version", "versions"), g.To, strings.Join(vs, ", "), breakingSentence(g.Breaking))
}

func breakingSentence(n int) string {
	switch n {
	case 0:
		return "None of them is breaking."
	case 1:
		return "One change is breaking."
	}
	return fmt.Sprintf("%d changes are breaking.", n)
}

func mdStep(w io.Writer, s Step, prefix string) {
	fmt.Fprintf(w, "\n#### %s: `%s`%s\n\n%s\n\n", s.Version, s.ID, mdBadges(s.Breaking, s.Behavior), strings.TrimSpace(s.Description))
	for _, op := range s.Ops {
		p := prefix
		if op.Kind == "behavior" || op.Kind == "custom" {
			p = ""
		}
		fmt.Fprintf(w, "- %s%s\n", p, op.Text)
	}
	if len(s.Todo) > 0 {
		fmt.Fprintf(w, "\n**What to do:** %s\n", strings.Join(s.Todo, " "))
	}
}

func mdBadges(breaking, behavior bool) string {
	s := ""
	if breaking {
		s += " **Breaking**"
	}
	if behavior {
		s += " *Behaviour*"
	}
	return s
}

func mdCodes(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = "`" + x + "`"
	}
	return strings.Join(q, ", ")
}

func title(api, what string) string {
	if api == "" {
		return what
	}
	return api + ": " + what
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// deprecationText says since when a version is deprecated, its sunset and
// the version to move to (successor, already formatted as a link).
func deprecationText(v VersionEntry, successor string) string {
	s := "Deprecated since " + v.Deprecated
	if v.Sunset != "" {
		s += "; sunset on " + v.Sunset
	}
	return s + ". Move to " + successor + "."
}
