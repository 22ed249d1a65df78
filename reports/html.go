package reports

import (
	"html/template"
	"io"
	"strings"
	"time"
)

// HTMLOptions configure Report.WriteHTML; nil means the defaults.
type HTMLOptions struct {
	// ChangelogURL is where the changelog lives: each change links to
	// its entry (ChangelogURL#change-ID).
	// Optional. Default value "": no links.
	ChangelogURL string
}

// WriteHTML writes the report as a page for people: the summary, the
// account's traffic, then every change with its evidence and what to do.
func (r *Report) WriteHTML(w io.Writer, opts *HTMLOptions) error {
	var o HTMLOptions
	if opts != nil {
		o = *opts
	}
	return page.Execute(w, struct {
		*Report
		Changelog string
	}{r, o.ChangelogURL})
}

// code escapes s and turns `backquoted` spans into <code> elements.
func code(s string) template.HTML {
	parts := strings.Split(s, "`")
	if len(parts)%2 == 0 {
		return template.HTML(template.HTMLEscapeString(s))
	}
	var b strings.Builder
	for i, p := range parts {
		if i%2 == 1 {
			b.WriteString("<code>" + template.HTMLEscapeString(p) + "</code>")
		} else {
			b.WriteString(template.HTMLEscapeString(p))
		}
	}
	return template.HTML(b.String())
}

func date(unix int64) string { return time.Unix(unix, 0).UTC().Format("2006-01-02 15:04 UTC") }

func datep(unix *int64) string {
	if unix == nil {
		return "—"
	}
	return date(*unix)
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"code":  code,
	"date":  date,
	"datep": datep,
	"affects": func(a Affects) string {
		switch a {
		case Yes:
			return "affects you"
		case Unknown:
			return "unknown: a behaviour change"
		}
		return "does not affect you"
	},
	"class": func(a Affects) string { return "affects-" + a.String() },
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Upgrade report: {{.Version}} to {{.To}}</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
code{font:0.9em ui-monospace,monospace;background:#f2f2f2;padding:0 .2em;border-radius:3px}
.summary{font-size:1.15em}
table{border-collapse:collapse;margin:.5rem 0 1rem}
td,th{border-bottom:1px solid #ddd;padding:.25rem .75rem .25rem 0;text-align:left;vertical-align:top}
article{border-left:4px solid #bbb;padding:.25rem 1rem;margin:1rem 0}
article.affects-true{border-color:#c0392b}
article.affects-unknown{border-color:#d68910}
article.affects-false{border-color:#27ae60;opacity:.8}
.badge{font-size:.8em;padding:.05rem .4rem;border-radius:3px;margin-left:.4rem;background:#eee}
.b-breaking{background:#fdecea;color:#a61b1b}
.affects-true .b-affects{background:#a61b1b;color:#fff}
.affects-unknown .b-affects{background:#f9e79f}
.todo{background:#fef9e7;padding:.25rem .5rem}
</style>
</head>
<body>
<h1>Upgrade report: <code>{{.Version}}</code> to <code>{{.To}}</code></h1>
<p class="summary">{{.Summary}}</p>
<p>Measured on your account's own requests, responses and webhook deliveries of the last {{.WindowDays}} days (since {{date .Since}}): which changes altered something your integration sent or received. Only names and counts are recorded, never values.</p>
<h2>Your traffic</h2>
<table>
<tr><th>version</th><th>requests</th><th>with the header</th><th>first seen</th><th>last seen</th><th>endpoints</th></tr>
{{- define "line"}}<tr><td><code>{{.Version}}</code></td><td>{{.Requests}}</td><td>{{.Header}}</td><td>{{datep .FirstSeen}}</td><td>{{datep .LastSeen}}</td><td>{{range $i, $e := .Endpoints}}{{if $i}}, {{end}}<code>{{$e.Name}}</code> ({{$e.Count}}){{end}}{{if .OtherEndpoints}}, others ({{.OtherEndpoints}}){{end}}</td></tr>{{end}}
{{template "line" .Traffic.AtVersion}}
{{- if ne .Version .To}}
{{template "line" .Traffic.AtTarget}}
{{- end}}
{{- range .Traffic.Other}}
{{template "line" .}}
{{- end}}
</table>
<h2>{{.Changes}} {{if eq .Changes 1}}change{{else}}changes{{end}}, oldest first</h2>
{{- $log := .Changelog}}
{{- range .Items}}
<article class="{{class .AffectsYou}}" id="{{.Anchor}}">
<h3>{{.Version}}: {{if $log}}<a href="{{$log}}#{{.Anchor}}"><code>{{.ID}}</code></a>{{else}}<code>{{.ID}}</code>{{end}}
{{- if .Breaking}}<span class="badge b-breaking">breaking</span>{{end}}<span class="badge b-affects">{{affects .AffectsYou}}</span></h3>
<p>{{code .Description}}</p>
{{- with .Evidence}}
<table>
<tr><th>requests</th><td>{{.Requests}}</td></tr>
<tr><th>responses</th><td>{{.Responses}}</td></tr>
<tr><th>webhook deliveries</th><td>{{.Deliveries}}</td></tr>
{{- if .Endpoints}}<tr><th>endpoints</th><td>{{range $i, $e := .Endpoints}}{{if $i}}, {{end}}<code>{{$e.Name}}</code> ({{$e.Count}}){{end}}{{if .OtherEndpoints}}, others ({{.OtherEndpoints}}){{end}}</td></tr>{{end}}
{{- if .Fields}}<tr><th>fields</th><td>{{range $i, $e := .Fields}}{{if $i}}, {{end}}<code>{{$e.Name}}</code>{{end}}</td></tr>{{end}}
{{- if .EventTypes}}<tr><th>event types</th><td>{{range $i, $e := .EventTypes}}{{if $i}}, {{end}}<code>{{$e.Name}}</code> ({{$e.Count}}){{end}}</td></tr>{{end}}
<tr><th>seen</th><td>{{date .FirstSeen}} to {{date .LastSeen}}</td></tr>
</table>
{{- end}}
{{- if .Tried}}
<p>You already sent {{.Tried}} {{if eq .Tried 1}}request{{else}}requests{{end}} at <code>{{$.To}}</code> to these endpoints.</p>
{{- end}}
{{- if .Todo}}
<p class="todo"><strong>What to do:</strong> {{range $i, $t := .Todo}}{{if $i}} {{end}}{{code $t}}{{end}}</p>
{{- end}}
</article>
{{- end}}
</body>
</html>
`))
