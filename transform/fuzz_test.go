package transform_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// FuzzWalk walks arbitrary bytes back through the Stripe-like timeline to
// every version: it never panics, valid JSON never fails to parse, and what
// it returns is valid JSON.
func FuzzWalk(f *testing.F) {
	for _, s := range []string{
		`{"object":"customer","balance":1,"default_source":"x"}`,
		`{"object":"list","data":[{"object":"charge","amount":"12","source":{"object":"card"},"status":"succeeded"}]}`,
		`{"object":"event","data":{"object":{"object":"customer","balance":1},"previous_attributes":{"balance":2}}}`,
		`{"object":"charge","amount":"1e5"}`, `[]`, `"x"`, `{"object":"charge","amount":{"a":[1,2]}}`,
		"{\"object\":\"payment_intent\",\"amount\":\"\\u0031\"}",
	} {
		f.Add([]byte(s))
	}
	e := stripeEngine(f)
	vs := e.Timeline().Versions().List()
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, v := range []versions.Version{vs[len(vs)-1], vs[len(vs)/2], vs[1]} {
			out, err := e.Back(body, v)
			if err != nil {
				if json.Valid(body) && e.Valid(body) == nil {
					// Valid JSON may still hold a value a retype cannot convert.
					var te *transform.Error
					if !asTransformError(err, &te) {
						t.Fatalf("valid JSON refused: %v\n%s", err, body)
					}
				}
				continue
			}
			if !json.Valid(out) {
				t.Fatalf("invalid output at %s:\nin:  %s\nout: %s", v, body, out)
			}
		}
	})
}

func asTransformError(err error, te **transform.Error) bool {
	e, ok := err.(*transform.Error)
	if ok {
		*te = e
	}
	return ok
}

// FuzzFormToJSON checks that any form body either is refused or becomes a
// JSON object that encodes back to a form with the same parameters.
func FuzzFormToJSON(f *testing.F) {
	for _, s := range []string{"a=1&b[c]=2", "expand[]=customer&expand[]=source", "items[0][price]=p&items[1][price]=q", "a[=1", "%zz=1", "a=1&a[b]=2", "metadata[order]=6735&amount=100"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, form string) {
		js, err := transform.FormToJSON(form)
		if err != nil {
			return
		}
		if !json.Valid(js) {
			t.Fatalf("invalid JSON from %q: %s", form, js)
		}
		back, err := transform.JSONToForm(js)
		if err != nil {
			t.Fatalf("re-encode %s: %v", js, err)
		}
		js2, err := transform.FormToJSON(back)
		if err != nil {
			t.Fatalf("re-parse %q: %v", back, err)
		}
		var a, b any
		_ = json.Unmarshal(js, &a)
		_ = json.Unmarshal(js2, &b)
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			t.Fatalf("form round trip changed %q:\n%s\n%s", form, js, js2)
		}
	})
}

// FuzzWalkOps walks arbitrary bytes through ../testdata/ops.yaml, whose
// ops reshape objects (nest, collapse, defaults, from through arrays, a
// flat error body): responses back and forward at a 2xx and an error
// status, and requests forward as JSON and as a form. No panic, valid
// output, and only syntax, form, conversion or conflict errors.
func FuzzWalkOps(f *testing.F) {
	for _, s := range []string{
		`{"object":"issue","author":{"id":"u_1","login":"a"},"assignees":[{"id":"u_2"}],"location":{"city":"Lyon","country":"FR"},"visibility":"public"}`,
		`{"object":"list","data":[{"object":"issue","assignees":[]},{"object":"comment","author":{"id":"u_4"}}]}`,
		`{"object":"issue","author":"u_1","assignees":{"0":1},"location":7,"city":"x"}`,
		`{"object":"issue","assignees":[[1],{"a":1}],"location":{"geo":{"lat":1}}}`,
		`{"error":{"code":"resource_missing","param":"id","message":"m"}}`, `{"error":"x","code":"resource_missing"}`,
		`{"error":{}}`, `{"error":{"error":{"code":"resource_missing"}}}`,
		`{"title":"t","author":"u_1","city":"Lyon","country":"FR"}`, `{"author":"u_1","author_id":"u_2"}`,
		`{"city":"Lyon","location":{"city":"Paris"}}`, `title=t&author=u_1&city=Lyon&location[country]=FR`,
		`city=a&location[city]=b`, `location=1&city=2`, `[]`, `"x"`,
	} {
		f.Add([]byte(s), uint8(0))
	}
	tl, err := gates.LoadFile("../testdata/ops.yaml", nil)
	if err != nil {
		f.Fatal(err)
	}
	e := transform.New(tl, nil)
	newest := tl.Newest()
	vs := tl.Versions().List()
	paths := []string{"/v1/issues", "/v1/comments", "/v1/issues/i_1"}
	f.Fuzz(func(t *testing.T, body []byte, sel uint8) {
		path := paths[int(sel)%len(paths)]
		status := []int{200, 404}[int(sel>>4)%2]
		v := vs[1+int(sel>>5)%(len(vs)-1)]
		valid := json.Valid(body) && e.Valid(body) == nil
		for _, pair := range [][2]versions.Version{{newest, v}, {v, newest}} {
			p, err := e.ResponsePlan(pair[0], pair[1], "GET", path)
			if err != nil {
				t.Fatal(err)
			}
			sp := p.ForStatus(status)
			if sp == nil {
				continue
			}
			out, err := sp.Apply(body)
			if err != nil {
				var te *transform.Error
				if valid && !errors.As(err, &te) {
					t.Fatalf("valid JSON refused: %v\n%s", err, body)
				}
				continue
			}
			if !json.Valid(out) {
				t.Fatalf("invalid output at %s -> %s:\nin:  %s\nout: %s", pair[0], pair[1], body, out)
			}
		}
		var ce *transform.ConflictError
		if form, err := e.UpgradeForm(string(body), v, "POST", "/v1/issues"); err != nil {
			if !errors.Is(err, transform.ErrForm) && !errors.As(err, &ce) {
				t.Fatalf("form %q refused with %v", body, err)
			}
		} else if _, err := transform.FormToJSON(form); err != nil {
			t.Fatalf("form %q walked to %q, which does not parse: %v", body, form, err)
		}
		out, err := e.Upgrade(body, v, "POST", "/v1/issues")
		if err != nil {
			if valid && !errors.As(err, &ce) {
				t.Fatalf("valid JSON refused: %v\n%s", err, body)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid upgrade:\nin:  %s\nout: %s", body, out)
		}
	})
}
