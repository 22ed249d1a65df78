package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// Links says where the pages of a reference point: the same pages are
// served by a server (/docs?version=V) and written as a static site
// (V.html). The zero value links like the static site.
type Links struct {
	// Version returns the URL of a version's reference page. Optional.
	// Default: "V.html".
	Version func(v versions.Version) string
	// Change returns the URL of a change's changelog entry. Optional.
	// Default: "changelog.html#change-ID".
	Change func(id string) string
	// OpenAPI returns the URL of a version's OpenAPI document. Optional.
	// Default: "openapi-V.json".
	OpenAPI func(v versions.Version) string
	// Guide returns the URL of the upgrade guide from a version to the
	// newest stable one. Optional. Default: "guide-V.html".
	Guide func(from versions.Version) string
}

func (l *Links) defaults() {
	if l.Version == nil {
		l.Version = func(v versions.Version) string { return v.String() + ".html" }
	}
	if l.Change == nil {
		l.Change = func(id string) string { return "changelog.html#change-" + id }
	}
	if l.OpenAPI == nil {
		l.OpenAPI = func(v versions.Version) string { return "openapi-" + v.String() + ".json" }
	}
	if l.Guide == nil {
		l.Guide = func(v versions.Version) string { return "guide-" + v.String() + ".html" }
	}
}

// Reference is the API reference of one version, ready to render: its
// objects with their fields and types, its endpoints with their
// parameters, and the changes that made the version so.
type Reference struct {
	API     string
	Version versions.Version
	// Newest is set on the newest stable version's page: the version new
	// accounts get.
	Newest bool
	// Stable is the newest version that is not a preview.
	Stable versions.Version
	// Preview is set when Version is a preview, served only to clients
	// that ask for it.
	Preview bool
	// Deprecated, Sunset and Successor are set when Version is
	// deprecated (dates as YYYY-MM-DD; Sunset may be empty).
	Deprecated, Sunset, Successor string
	// Guide is the URL of the upgrade guide from Version to Stable, when
	// Version is older than Stable.
	Guide    string
	Versions []VersionLink
	// Changes are the changes this version made, relative to the one
	// before it.
	Changes   []ChangeLink
	Objects   []Object
	Endpoints []Endpoint
	OpenAPI   string
}

// VersionLink is an entry of the version picker.
type VersionLink struct {
	Version versions.Version
	URL     string
	Current bool
	Preview bool
}

// ChangeLink is a change and the URL of its changelog entry.
type ChangeLink struct {
	ID, Description, URL string
	Version              versions.Version
	Breaking             bool
}

// Object is one resource's schema.
type Object struct {
	Name, Description, Anchor string
	Fields                    []Field
	// Changes are the changes at this version or older that touch the
	// resource: what made it look like this.
	Changes []ChangeLink
	// Example is an object of the type as this version returns it
	// (indented JSON), when AddExamples was given one.
	Example string
}

// Field is one property of an object or request body, or a parameter.
type Field struct {
	Name, Type, Description string
	Required, Nullable      bool
	// Enum lists the allowed values, if the schema lists them.
	Enum []string
	// Link is the anchor of the object the field holds (its id, or the
	// object when expanded; a list or an array of them), when the page
	// documents that object.
	Link string
	// Fields are the attributes of an object the field holds (of an
	// array's items), when the page does not document that object apart.
	Fields []Field
}

// Endpoint is one operation.
type Endpoint struct {
	Method, Path, Summary, Anchor string
	Parameters                    []Field
	Body                          []Field
	// Returns names the object type of the success response, if the
	// document says ("charge", "list of charge").
	Returns string
	// ReturnsAnchor is the anchor of the object Returns names (of a list's
	// items), or "" when the page documents no such object.
	ReturnsAnchor string
}

// NewReference builds the reference of version v from its derived
// document (Derive's output for v) and the timeline.
func NewReference(derived []byte, tl *gates.Timeline, v versions.Version, links Links) (*Reference, error) {
	links.defaults()
	root, err := parse(derived)
	if err != nil {
		return nil, err
	}
	d := &doc{root: root, typeField: tl.TypeField()}
	d.schemas = root.child("components").child("schemas")
	stable := tl.NewestStable()
	r := &Reference{API: tl.API(), Version: v, Newest: v == stable, Stable: stable, Preview: v.IsPreview(), OpenAPI: links.OpenAPI(v)}
	if r.API == "" {
		r.API = root.child("info").str("title")
	}
	if v.Before(stable) {
		r.Guide = links.Guide(v)
	}
	if lc := tl.Lifecycle(v); lc.IsDeprecated() {
		r.Deprecated = lc.Deprecated.Format(time.DateOnly)
		r.Successor = lc.Successor.String()
		if !lc.Sunset.IsZero() {
			r.Sunset = lc.Sunset.Format(time.DateOnly)
		}
	}
	for _, x := range tl.Versions().List() {
		r.Versions = append(r.Versions, VersionLink{Version: x, URL: links.Version(x), Current: x == v, Preview: x.IsPreview()})
	}
	byResource := map[string][]ChangeLink{}
	var resources []string
	for _, gv := range tl.List() {
		for _, c := range gv.Changes {
			for _, res := range c.Resources {
				if !slices.Contains(resources, res) {
					resources = append(resources, res)
				}
			}
		}
	}
	for _, gv := range tl.List() {
		if gv.ID.After(v) {
			continue
		}
		for i := range gv.Changes {
			c := &gv.Changes[i]
			cl := ChangeLink{ID: c.ID, Description: c.Description, URL: links.Change(c.ID), Version: gv.ID, Breaking: c.IsBreaking()}
			if gv.ID == v {
				r.Changes = append(r.Changes, cl)
			}
			for _, res := range c.Resources {
				byResource[res] = append(byResource[res], cl)
			}
		}
	}
	objs := d.objectSchemas(resources)
	if len(objs) == 0 {
		return nil, fmt.Errorf("openapi: %w: no schema in components.schemas has an x-resourceId, the name of a resource of the timeline, or a %q property whose enum or const holds one type; mark each object's schema with x-resourceId: NAME", ErrNoObjects, d.typeFieldName())
	}
	d.anchors = map[*object]string{}
	for _, o := range objs {
		d.anchors[o.schema] = "object-" + o.name
		d.names = append(d.names, o)
	}
	for _, o := range objs {
		r.Objects = append(r.Objects, Object{Name: o.name, Description: o.schema.str("description"), Anchor: "object-" + o.name,
			Fields: d.fields(o.schema, 0), Changes: byResource[o.name]})
	}
	if paths := root.child("paths"); paths != nil {
		for _, p := range paths.keys {
			item := paths.child(p)
			for _, m := range []string{"get", "post", "put", "patch", "delete"} {
				op := item.child(m)
				if op == nil {
					continue
				}
				e := Endpoint{Method: strings.ToUpper(m), Path: p, Summary: op.str("summary"),
					Anchor: "endpoint-" + strings.ToLower(m) + strings.NewReplacer("/", "-", "{", "", "}", "").Replace(p)}
				for _, list := range [][]any{item.list("parameters"), op.list("parameters")} {
					for _, x := range list {
						pm := d.resolve(x)
						if pm == nil {
							continue
						}
						f := d.field1(pm.str("name"), pm.get("schema"), pm.get("required") == true, 0)
						f.Description = pm.str("description") + f.Description
						f.Type += " (" + pm.str("in") + ")"
						e.Parameters = append(e.Parameters, f)
					}
				}
				if body := d.resolve(op.get("requestBody")); body != nil {
					if content := body.child("content"); content != nil && len(content.keys) > 0 {
						e.Body = d.fields(d.resolve(content.child(content.keys[0]).get("schema")), 0)
					}
				}
				if resp := op.child("responses"); resp != nil {
					for _, code := range []string{"200", "201"} {
						rs := d.resolve(resp.get(code))
						media := rs.child("content").child("application/json")
						if media == nil {
							continue
						}
						e.Returns = d.typeName(media.get("schema"))
					}
				}
				r.Endpoints = append(r.Endpoints, e)
			}
		}
	}
	objects := map[string]string{}
	for _, o := range r.Objects {
		objects[o.Name] = o.Anchor
	}
	for i := range r.Endpoints {
		e := &r.Endpoints[i]
		e.ReturnsAnchor = objects[strings.TrimPrefix(e.Returns, "list of ")]
	}
	return r, nil
}

// maxFieldDepth bounds how deeply the reference nests attributes.
const maxFieldDepth = 6

// fields lists the properties of an object schema, following $ref and
// allOf.
func (d *doc) fields(s *object, depth int) []Field {
	s = d.object(d.resolve(s))
	if s == nil || depth > maxFieldDepth {
		return nil
	}
	var out []Field
	props := s.child("properties")
	for _, k := range props.keysOrNil() {
		out = append(out, d.field1(k, props.get(k), isRequired(s, k), depth))
	}
	return out
}

func (o *object) keysOrNil() []string {
	if o == nil {
		return nil
	}
	return o.keys
}

// field1 describes one property, its schema v as the document has it
// (a $ref, or the schema).
func (d *doc) field1(name string, v any, required bool, depth int) Field {
	f := Field{Name: name, Required: required}
	s := d.resolve(v)
	if s == nil {
		f.Type = "any"
		return f
	}
	f.Description = s.str("description")
	if f.Description == "" {
		if raw, ok := v.(*object); ok {
			f.Description = raw.str("description")
		}
	}
	f.Nullable = s.get("nullable") == true || slices.Contains(s.list("type"), any("null"))
	f.Type = d.typeName(v)
	enum := s.list("enum")
	if items := d.resolve(s.get("items")); enum == nil && items != nil {
		enum = items.list("enum")
	}
	for _, e := range enum {
		f.Enum = append(f.Enum, fmt.Sprint(e))
	}
	f.Link, f.Fields = d.holds(s, depth)
	return f
}

// holds returns the anchor of the documented object a property's schema
// s holds (itself, an anyOf member, a list's or an array's items), or
// else the attributes of the undocumented object it holds.
func (d *doc) holds(s *object, depth int) (string, []Field) {
	if s == nil || depth >= maxFieldDepth {
		return "", nil
	}
	if a := d.anchors[s]; a != "" {
		return a, nil
	}
	if typeOf(s) == "array" {
		return d.holds(d.resolve(s.get("items")), depth)
	}
	for _, comb := range []string{"anyOf", "oneOf", "allOf"} {
		for _, x := range s.list(comb) {
			m := d.resolve(x)
			if a := d.anchors[m]; a != "" {
				return a, nil
			}
		}
	}
	o := d.object(s)
	if o == nil {
		return "", nil
	}
	if a := d.anchors[o]; a != "" {
		return a, nil
	}
	if e := d.listItems(o); e != nil {
		if a := d.anchors[e]; a != "" {
			return a, nil
		}
	}
	return "", d.fields(o, depth+1)
}

// listItems returns the items schema of a list object's schema (an
// object whose type field is "list" and whose data is an array), or nil.
func (d *doc) listItems(o *object) *object {
	if d.typeOfSchema(o) != "list" {
		return nil
	}
	data := d.resolve(o.child("properties").get("data"))
	if data == nil || typeOf(data) != "array" {
		return nil
	}
	return d.resolve(data.get("items"))
}

// typeName says what a schema holds: "string", "integer", "array of
// charge", "string or customer", the resource a $ref names.
func (d *doc) typeName(v any) string {
	return d.typeNameDepth(v, 0)
}

func (d *doc) typeNameDepth(v any, depth int) string {
	s, ok := v.(*object)
	if !ok || depth > maxDepth {
		return "any"
	}
	if ref := s.str("$ref"); ref != "" {
		t := d.resolve(s)
		if id := t.str("x-resourceId"); id != "" {
			return id
		}
		for _, o := range d.names {
			if o.schema == t {
				return o.name
			}
		}
		if t != nil && t.has("properties") && t.child("properties").child("object").list("enum") != nil {
			if e := t.child("properties").child("object").list("enum"); len(e) == 1 && e[0] == "list" {
				return "list of " + d.typeNameDepth(t.child("properties").child("data").get("items"), depth+1)
			}
		}
		return d.typeNameDepth(t, depth+1)
	}
	for _, comb := range []string{"anyOf", "oneOf", "allOf"} {
		if list := s.list(comb); len(list) > 0 {
			var parts []string
			for _, x := range list {
				if n := d.typeNameDepth(x, depth+1); !slices.Contains(parts, n) {
					parts = append(parts, n)
				}
			}
			return strings.Join(parts, " or ")
		}
	}
	t := typeOf(s)
	switch t {
	case "array":
		return "array of " + d.typeNameDepth(s.get("items"), depth+1)
	case "":
		if s.has("properties") {
			return "object"
		}
		return "any"
	case "string":
		if f := s.str("format"); f != "" {
			return "string (" + f + ")"
		}
		if e, ok := s.get("additionalProperties").(*object); ok && t == "object" {
			return "map of " + d.typeNameDepth(e, depth+1)
		}
	case "object":
		if e, ok := s.get("additionalProperties").(*object); ok && !s.has("properties") {
			return "map of " + d.typeNameDepth(e, depth+1)
		}
	}
	return t
}

// AddExamples sets the example of each object the reference documents
// that samples holds one of: samples maps an object type to an object of
// that type in the newest version's schema, which e renders at the
// reference's version, as the API would answer it. Types the reference
// does not document are left out.
func (r *Reference) AddExamples(e *transform.Engine, samples map[string][]byte) error {
	for i := range r.Objects {
		o := &r.Objects[i]
		body, ok := samples[o.Name]
		if !ok {
			continue
		}
		out, err := e.Back(body, r.Version)
		if err != nil {
			return fmt.Errorf("openapi: example %s at %s: %w", o.Name, r.Version, err)
		}
		var b bytes.Buffer
		if err := json.Indent(&b, out, "", "  "); err != nil {
			return fmt.Errorf("openapi: example %s: %w", o.Name, err)
		}
		o.Example = b.String()
	}
	return nil
}

// fieldTable is one table of fields as the page template renders it: its
// heading and the word marking a required field.
type fieldTable struct {
	Fields     []Field
	Head, Mark string
}

// HTML writes the reference as one self-contained page.
func (r *Reference) HTML(w io.Writer) error { return referencePage.Execute(w, r) }

var referencePage = htmltemplate.Must(htmltemplate.New("reference").Funcs(htmltemplate.FuncMap{
	"lower": strings.ToLower,
	"fieldTable": func(fields []Field, head, mark string) fieldTable {
		return fieldTable{Fields: fields, Head: head, Mark: mark}
	},
	"code": func(s string) htmltemplate.HTML {
		parts := strings.Split(s, "`")
		if len(parts)%2 == 0 {
			return htmltemplate.HTML(htmltemplate.HTMLEscapeString(s))
		}
		var b strings.Builder
		for i, p := range parts {
			if i%2 == 1 {
				b.WriteString("<code>" + htmltemplate.HTMLEscapeString(p) + "</code>")
			} else {
				b.WriteString(htmltemplate.HTMLEscapeString(p))
			}
		}
		return htmltemplate.HTML(b.String())
	},
}).Parse(referenceTemplate))

const referenceTemplate = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.API}}: API reference, version {{.Version}}</title>
<style>
:root{--fg:#1a1f36;--muted:#5b6478;--line:#e3e8ee;--side:#f6f8fa;--accent:#3a4fd8;--red:#b42318;--redbg:#fef3f2;--code:#f2f4f7}
*{box-sizing:border-box}
body{margin:0;font:16px/1.55 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg)}
.skip{position:absolute;left:-100vw;top:.5rem;z-index:2;padding:.5rem .8rem;background:var(--fg);color:#fff;border-radius:4px}
.skip:focus{left:.5rem}
.layout{display:grid;grid-template-columns:17rem minmax(0,1fr);grid-template-areas:"toc main";max-width:78rem;margin:0 auto}
main{grid-area:main;padding:2rem 2.5rem 4rem;min-width:0}
nav.toc{grid-area:toc;position:sticky;top:0;align-self:start;height:100vh;overflow:auto;padding:2rem 1.25rem;border-right:1px solid var(--line);background:var(--side)}
nav.toc h2{font-size:.8rem;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);margin:0 0 .6rem}
nav.toc ol{list-style:none;margin:0 0 1.5rem;padding:0}
nav.toc a{color:var(--fg);text-decoration:none;font-size:.9rem;overflow-wrap:anywhere}
nav.toc a[aria-current]{font-weight:700;color:var(--accent)}
h1{font-size:1.9rem;line-height:1.2;margin:0 0 .5rem}
h2{font-size:1.4rem;margin:2rem 0 .6rem;border-top:1px solid var(--line);padding-top:1.2rem}
h3{font-size:1.1rem;margin:1.4rem 0 .3rem}
.meta{color:var(--muted);font-size:.92rem}
.picker{margin:.8rem 0 1.2rem}
.picker summary{cursor:pointer;font-weight:600}
.picker ol{columns:12rem;list-style:none;padding:0;margin:.5rem 0}
.picker a[aria-current]{font-weight:700}
table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem;font-size:.93rem}
th,td{text-align:left;vertical-align:top;padding:.4rem .5rem;border-bottom:1px solid var(--line)}
th{font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
td.name code{font-weight:600}
.type{color:var(--muted);font-size:.88rem}
.req{color:var(--red);font-size:.75rem;font-weight:600;text-transform:uppercase}
code{font:.88em/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--code);padding:.1em .3em;border-radius:4px;overflow-wrap:anywhere}
.method{display:inline-block;min-width:4.2rem;font-weight:700;font-size:.8rem}
.badge{font-size:.7rem;font-weight:600;text-transform:uppercase;padding:.1rem .4rem;border-radius:999px;color:var(--red);background:var(--redbg);margin-left:.3rem}
ul.changes{padding-left:1.2rem}
.badge.preview{color:#8a4b00;background:#fff6e5}
.banner{padding:.6rem .8rem;border-radius:6px;margin:.6rem 0}
.banner.warn{background:#fff6e5;border:1px solid #fedf89}
.banner.deprecated{background:var(--redbg);border:1px solid #fecdca}
.search input{font:inherit;padding:.3rem .5rem;border:1px solid var(--line);border-radius:4px;width:min(100%,22rem)}
[hidden]{display:none!important}
details.attrs{margin:.3rem 0 0}
details.attrs summary,details.example summary{cursor:pointer;color:var(--muted);font-size:.88rem}
details.attrs table{margin:.2rem 0 0 .2rem;border-left:2px solid var(--line)}
details.example pre{background:var(--code);padding:.8rem;border-radius:6px;overflow:auto;font-size:.85rem;max-height:28rem}
@media (max-width:52rem){.layout{display:flex;flex-direction:column}nav.toc{order:-1;align-self:stretch;position:static;height:auto;max-height:40vh;border-right:0;border-bottom:1px solid var(--line);padding:1rem}main{padding:1.5rem 1rem}
table,thead,tbody,tr,td{display:block;width:100%}thead{display:none}td{border:0;padding:.1rem 0}tr{border-bottom:1px solid var(--line);padding:.4rem 0}}
</style>
</head>
<body>
<a class="skip" href="#content">Skip to content</a>
<div class="layout">
<main id="content">
<header>
<h1>{{.API}}: API reference</h1>
<p class="meta">Version <code>{{.Version}}</code>{{if .Newest}} (the newest stable version: new accounts get it){{end}}{{if .Preview}} <span class="badge preview">Preview</span>{{end}}. <a href="{{.OpenAPI}}">OpenAPI document</a> of this version.{{if .Guide}} <a href="{{.Guide}}">Upgrade from this version</a> to {{.Stable}}.{{end}}</p>
{{- if .Preview}}
<p class="banner warn" role="note"><strong>Preview.</strong> {{.Version}} is served only to clients that ask for it by name; it may change or go away. New accounts and clients that send no version get <a href="{{range .Versions}}{{if eq .Version $.Stable}}{{.URL}}{{end}}{{end}}">{{.Stable}}</a>.</p>
{{- end}}
{{- if .Deprecated}}
<p class="banner deprecated" role="note"><strong>Deprecated</strong> since {{.Deprecated}}{{if .Sunset}}; its sunset is {{.Sunset}}, after which requests for it may be refused{{end}}. Move to {{.Successor}}{{if .Guide}}: <a href="{{.Guide}}">the upgrade guide</a> says what changes{{end}}.</p>
{{- end}}
<p class="legend meta"><span class="req">always</span> marks a field every object of this version carries (it may still be null when the type says nullable); <span class="req">required</span> marks a parameter a request must send.</p>
<p class="search"><label for="q">Search this page</label> <input id="q" type="search" placeholder="field, object or endpoint" autocomplete="off"></p>
<details class="picker">
<summary>Other versions</summary>
<ol>
{{- range .Versions}}
<li><a href="{{.URL}}"{{if .Current}} aria-current="page"{{end}}>{{.Version}}</a>{{if .Preview}} (preview){{end}}</li>
{{- end}}
</ol>
</details>
{{- if .Changes}}
<p>What this version changed:</p>
<ul class="changes">
{{- range .Changes}}
<li><a href="{{.URL}}"><code>{{.ID}}</code></a>{{if .Breaking}}<span class="badge">Breaking</span>{{end}}: {{code .Description}}</li>
{{- end}}
</ul>
{{- else if .Deprecated}}
<p class="meta">This version is the base the later versions' changes are relative to.</p>
{{- else}}
<p class="meta">This version changed nothing on the objects and endpoints documented here.</p>
{{- end}}
</header>
{{- range .Objects}}
<section id="{{.Anchor}}">
<h2>The <code>{{.Name}}</code> object</h2>
{{- if .Description}}<p>{{code .Description}}</p>{{end}}
{{template "fields" (fieldTable .Fields "Field" "always")}}
{{- if .Example}}
<details class="example">
<summary>Example <code>{{.Name}}</code> at {{$.Version}}</summary>
<pre><code>{{.Example}}</code></pre>
</details>
{{- end}}
{{- if .Changes}}
<p class="meta">Shaped by: {{range $i, $c := .Changes}}{{if $i}}, {{end}}<a href="{{$c.URL}}"><code>{{$c.ID}}</code></a> ({{$c.Version}}){{end}}.</p>
{{- end}}
</section>
{{- end}}
<h2 id="endpoints">Endpoints</h2>
{{- range .Endpoints}}
<section id="{{.Anchor}}">
<h3><span class="method">{{.Method}}</span> <code>{{.Path}}</code></h3>
{{- if .Summary}}<p>{{code .Summary}}</p>{{end}}
{{- if .Parameters}}
{{template "fields" (fieldTable .Parameters "Parameter" "required")}}
{{- end}}
{{- if .Body}}
{{template "fields" (fieldTable .Body "Body parameter" "required")}}
{{- end}}
{{- if .Returns}}<p class="meta">Returns: {{if .ReturnsAnchor}}<a href="#{{.ReturnsAnchor}}">{{.Returns}}</a>{{else}}{{.Returns}}{{end}}</p>{{end}}
</section>
{{- end}}
</main>
<nav class="toc" aria-label="Contents">
<h2>Objects</h2>
<ol>
{{- range .Objects}}
<li><a href="#{{.Anchor}}">{{.Name}}</a></li>
{{- end}}
</ol>
<h2>Endpoints</h2>
<ol>
{{- range .Endpoints}}
<li><a href="#{{.Anchor}}">{{.Method}} {{.Path}}</a></li>
{{- end}}
</ol>
</nav>
</div>
<script>
(function () {
  var q = document.getElementById("q");
  if (!q) return;
  q.addEventListener("input", function () {
    var words = q.value.toLowerCase().split(/\s+/).filter(Boolean);
    document.querySelectorAll("main section, main tbody tr").forEach(function (el) { el.hidden = false; });
    if (!words.length) {
      document.querySelectorAll("main details.attrs").forEach(function (d) { d.open = false; });
      return;
    }
    document.querySelectorAll("main section").forEach(function (sec) {
      var rows = sec.querySelectorAll("tbody tr"), any = false;
      var head = (sec.querySelector("h2, h3") || {}).textContent || "";
      var headHit = words.every(function (w) { return head.toLowerCase().indexOf(w) >= 0; });
      rows.forEach(function (tr) {
        var hit = headHit || words.every(function (w) { return tr.textContent.toLowerCase().indexOf(w) >= 0; });
        tr.hidden = !hit;
        any = any || hit;
      });
      sec.hidden = !(headHit || any);
    });
    document.querySelectorAll("main details.attrs").forEach(function (d) {
      d.open = !!d.querySelector("tbody tr:not([hidden])") && !d.closest("[hidden]");
    });
  });
})();
</script>
</body>
</html>
{{- define "fields"}}
<table>
<thead><tr><th>{{.Head}}</th><th>Type</th><th>Description</th></tr></thead>
<tbody>
{{- range .Fields}}
<tr><td class="name"><code>{{.Name}}</code>{{if .Required}} <span class="req">{{$.Mark}}</span>{{end}}</td><td class="type">{{if .Link}}<a href="#{{.Link}}">{{.Type}}</a>{{else}}{{.Type}}{{end}}{{if .Nullable}}, nullable{{end}}{{if .Enum}}: {{range $i, $e := .Enum}}{{if $i}}, {{end}}<code>{{$e}}</code>{{end}}{{end}}</td><td>{{code .Description}}
{{- if .Fields}}
<details class="attrs"><summary>{{len .Fields}} attributes of <code>{{.Name}}</code></summary>
{{- template "fields" (fieldTable .Fields "Attribute" $.Mark)}}
</details>
{{- end}}</td></tr>
{{- end}}
</tbody>
</table>
{{- end}}
`
