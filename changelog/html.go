package changelog

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/yuin/goldmark"
)

// Document is a changelog or an upgrade guide: anything Write can render.
type Document interface {
	Markdown(w io.Writer) error
	JSON(w io.Writer) error
	HTML(w io.Writer) error
}

// Formats returns the names Write accepts: "md", "json" and "html".
func Formats() []string { return []string{"md", "json", "html"} }

// ErrFormat is returned by Write for a format it does not know.
var ErrFormat = errors.New("unknown format")

// Write renders d in format: "md" (or "markdown"), "json" or "html".
func Write(w io.Writer, d Document, format string) error {
	switch strings.ToLower(format) {
	case "md", "markdown":
		return d.Markdown(w)
	case "json":
		return d.JSON(w)
	case "html":
		return d.HTML(w)
	}
	return fmt.Errorf("%w %q: want one of %s", ErrFormat, format, strings.Join(Formats(), ", "))
}

// HTML writes the changelog as one self-contained page (inline CSS, no
// external assets) with a table of contents, an anchor per version
// ("#v2019-10-17") and per change ("#change-customer_balance"), and
// breaking and behaviour badges.
func (l *Log) HTML(w io.Writer) error {
	return pages.ExecuteTemplate(w, "changelog", l)
}

// HTML writes the guide as one self-contained page, like Log.HTML.
func (g *Guide) HTML(w io.Writer) error {
	return pages.ExecuteTemplate(w, "guide", g)
}

// prefixed is a step with the words its sentences start with.
type prefixed struct {
	Step
	Prefix string
}

// inline escapes s and turns `backquoted` spans into <code> elements.
func inline(s string) template.HTML {
	parts := strings.Split(s, "`")
	if len(parts)%2 == 0 { // an unpaired backquote: show it as it is
		return template.HTML(template.HTMLEscapeString(s))
	}
	var b strings.Builder
	for i, p := range parts {
		if i%2 == 1 {
			b.WriteString("<code>")
			b.WriteString(template.HTMLEscapeString(p))
			b.WriteString("</code>")
			continue
		}
		b.WriteString(template.HTMLEscapeString(p))
	}
	return template.HTML(b.String())
}

// mdRenderer renders descriptions: CommonMark with raw HTML left out and
// links to dangerous schemes (javascript:, data:) emptied, goldmark's
// defaults.
var mdRenderer = goldmark.New()

// markdown renders a description written in Markdown as HTML, safely: a
// "<" outside code spans is shown as text, raw HTML is never passed
// through, and link targets are checked.
func markdown(s string) template.HTML {
	parts := strings.Split(s, "`")
	if len(parts)%2 == 1 {
		for i := 0; i < len(parts); i += 2 {
			parts[i] = strings.ReplaceAll(parts[i], "<", "\\<")
		}
		s = strings.Join(parts, "`")
	} else {
		s = strings.ReplaceAll(s, "<", "\\<")
	}
	var b bytes.Buffer
	if err := mdRenderer.Convert([]byte(s), &b); err != nil {
		return template.HTML("<p>" + template.HTMLEscapeString(s) + "</p>")
	}
	return template.HTML(b.String())
}

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"inline":   inline,
	"markdown": markdown,
	"title":    title,
	"summary": func(g *Guide) template.HTML {
		var b strings.Builder
		g.summary(&b, func(v string) string { return "`" + v + "`" })
		return inline(b.String())
	},
	"step": func(s Step, prefix string) prefixed { return prefixed{s, prefix} },
	"prefix": func(kind, p string) string {
		switch kind {
		case "rename", "added", "removed", "retype", "enum":
			return p
		}
		return ""
	},
	"deprecation": func(v VersionEntry) template.HTML {
		link := fmt.Sprintf(`<a href="#%s">%s</a>`, template.HTMLEscapeString("v"+v.Successor), template.HTMLEscapeString(v.Successor))
		return template.HTML(deprecationText(v, link))
	},
}).Parse(pageCSS + pageTemplates))

const pageCSS = `{{define "css"}}<style>
:root{--fg:#1a1f36;--muted:#5b6478;--line:#e3e8ee;--bg:#fff;--side:#f6f8fa;--accent:#3a4fd8;
--red:#b42318;--redbg:#fef3f2;--amber:#8a4b00;--amberbg:#fff6e5;--code:#f2f4f7}
*{box-sizing:border-box}
html{scroll-padding-top:1rem}
body{margin:0;font:16px/1.55 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
.layout{display:grid;grid-template-columns:17rem minmax(0,1fr);grid-template-areas:"toc main";max-width:76rem;margin:0 auto}
.skip{position:absolute;left:-100vw;top:.5rem;z-index:2;padding:.5rem .8rem;background:var(--fg);color:#fff;border-radius:4px}
.skip:focus{left:.5rem}
nav.toc{grid-area:toc;position:sticky;top:0;align-self:start;height:100vh;overflow:auto;padding:2rem 1.25rem;border-right:1px solid var(--line);background:var(--side)}
nav.toc h2{font-size:.8rem;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);margin:0 0 .6rem}
nav.toc ol{list-style:none;margin:0 0 1.5rem;padding:0}
nav.toc li{margin:.15rem 0}
nav.toc a{color:var(--fg);text-decoration:none;font-size:.92rem;overflow-wrap:anywhere}
nav.toc a:hover{color:var(--accent)}
main{grid-area:main;padding:2rem 2.5rem 4rem;min-width:0}
.desc p{margin:.2rem 0 .5rem}
p.todo{margin:.5rem 0 0;padding:.45rem .7rem;background:var(--redbg);border-radius:4px}
p.more{color:var(--muted);font-size:.9rem}
header h1{font-size:1.9rem;line-height:1.2;margin:0 0 .5rem}
header p{color:var(--muted);margin:0 0 1rem}
header p code,h1 .v{white-space:nowrap}
nav.toc ol ol{margin:.1rem 0 .4rem .8rem}
nav.toc ol ol a{font-size:.8rem;color:var(--muted)}
section.version,section.group{border-top:1px solid var(--line);padding-top:1.2rem;margin-top:1.6rem}
h2{font-size:1.45rem;margin:0 0 .6rem}
h3{font-size:1.1rem;margin:1.2rem 0 .3rem}
h2 a,h3 a{color:inherit;text-decoration:none}
h2 a:hover,h3 a:hover{text-decoration:underline}
article.change{margin:0 0 1.3rem;padding:.2rem 0 0 1rem;border-left:3px solid var(--line)}
article.change.breaking{border-left-color:var(--red)}
article.change.behavior{border-left-color:#f0b429}
.desc{margin:.2rem 0 .5rem}
.meta{font-size:.9rem;color:var(--muted);margin:.2rem 0}
.meta code{color:var(--fg)}
ul.ops{margin:.4rem 0 0;padding-left:1.2rem}
ul.ops li{margin:.15rem 0}
code{font:.88em/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--code);padding:.1em .3em;border-radius:4px;overflow-wrap:break-word}
.badge{display:inline-block;font-size:.72rem;font-weight:600;letter-spacing:.03em;text-transform:uppercase;padding:.12rem .45rem;border-radius:999px;vertical-align:middle;margin-left:.35rem}
.badge.breaking{color:var(--red);background:var(--redbg);border:1px solid #fecdca}
.badge.behavior{color:var(--amber);background:var(--amberbg);border:1px solid #fedf89}
.badge.base{color:var(--muted);background:var(--side);border:1px solid var(--line)}
nav.toc .badge{font-size:.62rem;padding:.05rem .35rem;margin-left:.25rem}
.empty{color:var(--muted);font-style:italic}
.examples{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:1rem;margin:.6rem 0 1.2rem}
.examples h4{margin:0 0 .3rem;font-size:.85rem;color:var(--muted);font-weight:600}
.examples .name{grid-column:1/-1;margin:.6rem 0 -.4rem;font-size:.9rem;color:var(--muted)}
pre{margin:0;padding:.8rem 1rem;background:#0f1729;color:#e6edf3;border-radius:6px;overflow:auto;font:.82rem/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
footer{margin-top:3rem;color:var(--muted);font-size:.85rem}
@media (max-width:52rem){.layout{display:flex;flex-direction:column}nav.toc{order:-1;align-self:stretch;position:static;height:auto;max-height:40vh;border-right:0;border-bottom:1px solid var(--line);padding:1rem}main{padding:1.5rem 1rem}.examples{grid-template-columns:minmax(0,1fr)}}
</style>{{end}}`

const pageTemplates = `
{{define "badges"}}{{if .Breaking}}<span class="badge breaking">Breaking</span>{{end}}{{if .Behavior}}<span class="badge behavior">Behaviour</span>{{end}}{{end}}

{{define "changelog"}}<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title .API "Changelog"}}</title>
{{template "css"}}
</head>
<body>
<a class="skip" href="#content">Skip to content</a>
<div class="layout">
<main id="content">
<header>
<h1>{{title .API "Changelog"}}</h1>
<p>Versions {{.From}} to {{.To}}, newest first. Each entry says what the version changed relative to the one before it.</p>
</header>
{{- range .Versions}}
<section class="version" id="{{.Anchor}}">
<h2><a href="#{{.Anchor}}">{{.Version}}</a>{{if .Breaking}}<span class="badge breaking">Breaking</span>{{end}}{{if .Base}}<span class="badge base">Base</span>{{end}}{{if .Preview}}<span class="badge behavior">Preview</span>{{end}}</h2>
{{- if .Preview}}
<p class="meta preview">A preview: served only to clients that ask for it by name, never a default; it may change or go away.</p>
{{- end}}
{{- if .Guide}}
<p class="meta"><a href="{{.Guide}}">Upgrade guide from {{.Version}}</a></p>
{{- end}}
{{- if .Deprecated}}
<p class="meta deprecated">{{deprecation .}}</p>
{{- end}}
{{- if .Base}}
<p class="empty">The first version: the base every later change is relative to.</p>
{{- else if not .Changes}}
<p class="empty">No changes.</p>
{{- end}}
{{- range .Changes}}
<article class="change{{if .Breaking}} breaking{{else if .Behavior}} behavior{{end}}" id="{{.Anchor}}">
<h3><a href="#{{.Anchor}}"><code>{{.ID}}</code></a>{{template "badges" .}}</h3>
<div class="desc">{{markdown .Description}}</div>
{{- if .Resources}}
<p class="meta">Resources: {{range $i, $r := .Resources}}{{if $i}}, {{end}}<code>{{$r}}</code>{{end}}</p>
{{- end}}
{{- if .Endpoints}}
<p class="meta">Endpoints: {{range $i, $e := .Endpoints}}{{if $i}}, {{end}}<code>{{$e}}</code>{{end}}</p>
{{- end}}
<ul class="ops">
{{- range .Ops}}
<li>{{inline .Text}}</li>
{{- end}}
</ul>
</article>
{{- end}}
</section>
{{- end}}
<footer>Generated by verso from the API's version timeline.</footer>
</main>
<nav class="toc" aria-label="Versions">
<h2>Versions</h2>
<ol>
{{- range .Versions}}
<li><a href="#{{.Anchor}}">{{.Version}}</a>{{if .Breaking}}<span class="badge breaking">Breaking</span>{{end}}{{if .Base}}<span class="badge base">Base</span>{{end}}{{if .Preview}}<span class="badge behavior">Preview</span>{{end}}
{{- if .Changes}}
<ol>
{{- range .Changes}}
<li><a href="#{{.Anchor}}">{{.ID}}</a></li>
{{- end}}
</ol>
{{- end}}
</li>
{{- end}}
</ol>
</nav>
</div>
</body>
</html>
{{end}}

{{define "step"}}
<article class="change{{if .Breaking}} breaking{{else if .Behavior}} behavior{{end}}">
<h3>{{.Version}}: <code>{{.ID}}</code>{{template "badges" .}}</h3>
<div class="desc">{{markdown .Description}}</div>
<ul class="ops">
{{- $p := .Prefix}}
{{- range .Ops}}
<li>{{prefix .Kind $p}}{{inline .Text}}</li>
{{- end}}
</ul>
{{- if .Todo}}
<p class="todo"><strong>What to do:</strong> {{range $i, $t := .Todo}}{{if $i}} {{end}}{{inline $t}}{{end}}</p>
{{- end}}
</article>
{{- end}}

{{define "guide"}}<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title .API (printf "Upgrading from %s to %s" .From .To)}}</title>
{{template "css"}}
</head>
<body>
<a class="skip" href="#content">Skip to content</a>
<div class="layout">
<main id="content">
<header>
<h1>{{title .API (printf "Upgrading from %s to %s" .From .To)}}</h1>
<p>{{summary .}}</p>
{{- if .Report}}
<p class="report">Which of these changes touch your own integration? <a href="{{.Report}}">Your upgrade report</a> tells, measured on your account's traffic.</p>
{{- end}}
</header>
{{- $g := .}}
{{- range .Resources}}
<section class="group" id="{{.Anchor}}">
<h2><a href="#{{.Anchor}}"><code>{{.Resource}}</code></a></h2>
{{- range .Steps}}
{{- template "step" (step . "")}}
{{- end}}
{{- range .Examples}}
<div class="examples">
<p class="name">Example <code>{{.Sample}}</code>{{if .Shortened}} (keys equal in both versions are left out: <code>...</code>){{end}}</p>
<div><h4>At {{$g.From}}</h4><pre>{{.Before}}</pre></div>
<div><h4>At {{$g.To}}</h4><pre>{{.After}}</pre></div>
</div>
{{- end}}
{{- if .MoreExamples}}
<p class="more">{{.MoreExamples}} more {{if eq .MoreExamples 1}}sample shows{{else}}samples show{{end}} these changes; not shown.</p>
{{- end}}
</section>
{{- end}}
{{- range .Endpoints}}
<section class="group" id="{{.Anchor}}">
<h2><a href="#{{.Anchor}}"><code>{{.Endpoint}}</code></a></h2>
{{- range .Steps}}
{{- template "step" (step . "In request bodies: ")}}
{{- end}}
</section>
{{- end}}
{{- if .Other}}
<section class="group" id="other">
<h2><a href="#other">Other changes</a></h2>
{{- range .Other}}
{{- template "step" (step . "")}}
{{- end}}
</section>
{{- end}}
<footer>Generated by verso from the API's version timeline.</footer>
</main>
<nav class="toc" aria-label="Contents">
{{- if .Resources}}
<h2>Resources</h2>
<ol>
{{- range .Resources}}
<li><a href="#{{.Anchor}}">{{.Resource}}</a></li>
{{- end}}
</ol>
{{- end}}
{{- if .Endpoints}}
<h2>Endpoints</h2>
<ol>
{{- range .Endpoints}}
<li><a href="#{{.Anchor}}">{{.Endpoint}}</a></li>
{{- end}}
</ol>
{{- end}}
{{- if .Other}}
<h2>Other</h2>
<ol><li><a href="#other">Other changes</a></li></ol>
{{- end}}
</nav>
</div>
</body>
</html>
{{end}}
`
