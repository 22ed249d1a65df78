package transform_test

import (
	"encoding/json"
	"testing"

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
