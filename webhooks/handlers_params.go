package webhooks

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// params holds a request's parameters: single values and lists of values.
type params struct {
	values map[string]string
	lists  map[string][]string
}

const maxBody = 1 << 20

// readParams reads a JSON object or a form body in Stripe's bracket syntax
// (transform.FormToJSON, the parser the versioning middleware uses): a
// parameter is a string, number or boolean (read as its text), or a list
// of them (name[]=a&name[]=b, name[0]=a&name[1]=b, or a JSON array).
// null is absent.
func readParams(r *http.Request) (params, error) {
	p := params{values: map[string]string{}, lists: map[string][]string{}}
	if r.Body == nil || r.Body == http.NoBody {
		return p, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return p, apierror.From(err)
	}
	if len(body) > maxBody {
		return p, apierror.ErrBodyTooLarge.With("The request body is larger than 1 MiB.")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return p, nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/json" && !strings.HasSuffix(ct, "+json") {
		js, err := transform.FormToJSON(string(body))
		if err != nil {
			return p, badParam("", "invalid form body: %v", err)
		}
		body = js
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return p, badParam("", "invalid JSON body: the body must be a JSON object")
	}
	for k, raw := range m {
		if string(raw) == "null" {
			continue
		}
		if v, ok := scalar(raw); ok {
			p.values[k] = v
			continue
		}
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) != nil {
			return p, badParam(apierror.Bound(k), "%s must be a string or a list of strings", apierror.Bound(k))
		}
		l := make([]string, 0, len(list))
		for _, e := range list {
			v, ok := scalar(e)
			if !ok {
				return p, badParam(apierror.Bound(k), "%s must be a list of strings", apierror.Bound(k))
			}
			l = append(l, v)
		}
		p.lists[k] = l
	}
	return p, nil
}

// scalar returns the text of a JSON string, number or boolean.
func scalar(raw json.RawMessage) (string, bool) {
	switch raw[0] {
	case '"':
		var s string
		return s, json.Unmarshal(raw, &s) == nil
	case 't', 'f':
		return string(raw), true
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return string(raw), true
	}
	return "", false
}

// only refuses a parameter not in allowed; lists names the ones that may
// be lists.
func (p params) only(allowed []string, lists ...string) error {
	for k := range p.values {
		if !contains(allowed, k) {
			return unknownParam(k)
		}
	}
	for k := range p.lists {
		if !contains(lists, k) {
			return unknownParam(k)
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// list returns a list parameter; a single value counts as a list of one.
func (p params) list(name string) []string {
	if l, ok := p.lists[name]; ok {
		return l
	}
	if v, ok := p.values[name]; ok {
		return []string{v}
	}
	return nil
}

// listParams reads limit and starting_after from the query string.
func listParams(r *http.Request) (ListParams, error) {
	q := r.URL.Query()
	lp := ListParams{StartingAfter: q.Get("starting_after")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			return lp, badParam("limit", "limit must be an integer from 1 to 100, got %q", clip(s))
		}
		lp.Limit = n
	}
	return lp, nil
}

// version resolves an api_version parameter.
func (h *Handlers) version(s string) (v versions.Version, err error) {
	switch {
	case h.cfg.Timeline != nil && h.cfg.NearestVersion:
		if _, err = h.cfg.Timeline.ResolveNearest(s); err == nil {
			v, err = versions.Parse(s) // the version asked for, served as its nearest
		}
	case h.cfg.Timeline != nil:
		v, err = h.cfg.Timeline.Resolve(s)
	default:
		v, err = versions.Parse(s)
	}
	if err != nil {
		return v, badParam("api_version", "invalid api_version %q: %v", clip(s), err)
	}
	return v, nil
}
