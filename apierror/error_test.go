package apierror_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/verso-api/verso/apierror"
)

var errNoSuchUser = apierror.New(404, apierror.TypeInvalidRequest, "resource_missing", "No such user.")

func TestDerivedErrorsKeepTheirKind(t *testing.T) {
	cause := errors.New("row not found")
	derived := errNoSuchUser.With("No such user: 'u_9'").WithParam("id").Wrap(cause).WithRetryAfter(1500 * time.Millisecond)
	wrapped := fmt.Errorf("handler: %w", derived)

	if !errors.Is(wrapped, errNoSuchUser) {
		t.Error("errors.Is(derived, sentinel) = false")
	}
	if !errors.Is(wrapped, cause) {
		t.Error("errors.Is(derived, cause) = false")
	}
	if errors.Is(wrapped, apierror.ErrNotFound) {
		t.Error("a 404 of another kind matched")
	}
	if got := derived.Header.Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After = %q, want 2 (rounded up)", got)
	}
	if errNoSuchUser.Message != "No such user." || errNoSuchUser.Param != "" || errNoSuchUser.Header != nil {
		t.Errorf("the sentinel changed: %+v", errNoSuchUser)
	}
	if derived.Kind() != errNoSuchUser {
		t.Error("Kind is not the sentinel")
	}
	if got, want := derived.Error(), "No such user: 'u_9': row not found"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// TestDerivedSentinels checks errors.Is through a chain of derivations: a
// sentinel that is itself derived (ErrUnavailable carries its Retry-After)
// matches what is derived from it, and a sentinel derived from another one
// matches as both, while its parent's other children do not match it.
func TestDerivedSentinels(t *testing.T) {
	errStore := apierror.ErrUnavailable.With("The store does not answer.")
	cause := errors.New("connection refused")
	tests := []struct {
		name   string
		err    error
		target *apierror.Error
		want   bool
	}{
		{"derived from a derived sentinel", apierror.ErrUnavailable.Wrap(cause), apierror.ErrUnavailable, true},
		{"twice derived", apierror.ErrUnavailable.With("m").WithCode("c").Wrap(cause), apierror.ErrUnavailable, true},
		{"a child sentinel matches its parent", errStore.Wrap(cause), apierror.ErrUnavailable, true},
		{"and itself", errStore.Wrap(cause), errStore, true},
		{"the parent is not the child", apierror.ErrUnavailable.Wrap(cause), errStore, false},
		{"another sentinel", apierror.ErrUnavailable.Wrap(cause), apierror.ErrInternal, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errors.Is(tt.err, tt.target); got != tt.want {
				t.Errorf("errors.Is = %v, want %v", got, tt.want)
			}
			if !errors.Is(tt.err, cause) {
				t.Error("the cause is lost")
			}
		})
	}
	if apierror.ErrUnavailable.Wrap(cause).Kind() != errStore.Kind() {
		t.Error("Kind differs along one chain")
	}
}

func TestFrom(t *testing.T) {
	mbe := &http.MaxBytesError{Limit: 10}
	tests := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"nil", nil, 0, ""},
		{"api error", errNoSuchUser, 404, "resource_missing"},
		{"wrapped api error", fmt.Errorf("x: %w", errNoSuchUser), 404, "resource_missing"},
		{"max bytes", fmt.Errorf("read: %w", mbe), 413, "request_body_too_large"},
		{"anything else", errors.New("disk on fire"), 500, "api_error"},
		{"status out of range", apierror.New(200, "t", "c", "m"), 500, "c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := apierror.From(tt.err)
			if tt.err == nil {
				if e != nil {
					t.Fatalf("From(nil) = %v", e)
				}
				return
			}
			if e.Status != tt.status || e.Code != tt.code {
				t.Fatalf("From = %d %s, want %d %s", e.Status, e.Code, tt.status, tt.code)
			}
			if tt.status == 500 && strings.Contains(e.Message, "fire") {
				t.Errorf("a 500 reveals its cause: %q", e.Message)
			}
			if !errors.Is(e, tt.err) && !errors.Is(tt.err, e) {
				t.Errorf("the cause is lost")
			}
		})
	}
}

func TestShapes(t *testing.T) {
	e := errNoSuchUser.With(`No such user: "u_9"`).WithParam("id")
	tmpl, err := apierror.Template([]byte(`{"ok":false,"error":{"msg":"{message}","kind":"{code}","http":"{status}","field":"{param}"}}`), "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		shape       apierror.Shape
		name        string
		contentType string
		wrapper     string
		body        string
	}{
		{apierror.Shape{}, "stripe", "application/json", "error",
			`{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such user: \"u_9\"","param":"id"}}`},
		{apierror.Flat(), "flat", "application/json", "",
			`{"message":"No such user: \"u_9\"","code":"resource_missing","type":"invalid_request_error","param":"id"}`},
		{apierror.Problem(""), "problem", "application/problem+json", "",
			`{"type":"about:blank","title":"Not Found","status":404,"detail":"No such user: \"u_9\"","code":"resource_missing","param":"id"}`},
		{apierror.Problem("https://example.com/errors/"), "problem", "application/problem+json", "",
			`{"type":"https://example.com/errors/resource_missing","title":"Not Found","status":404,"detail":"No such user: \"u_9\"","code":"resource_missing","param":"id"}`},
		{tmpl, "template", "application/json", "error",
			`{"ok":false,"error":{"msg":"No such user: \"u_9\"","kind":"resource_missing","http":404,"field":"id"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(tt.shape.Marshal(e))
			if got != tt.body {
				t.Errorf("body\n got %s\nwant %s", got, tt.body)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("not JSON: %s", got)
			}
			if tt.shape.Name() != tt.name || tt.shape.ContentType() != tt.contentType || tt.shape.Wrapper() != tt.wrapper {
				t.Errorf("name, content type, wrapper = %s %s %q", tt.shape.Name(), tt.shape.ContentType(), tt.shape.Wrapper())
			}
		})
	}
	// An empty field is left out, in every shape.
	bare := apierror.New(500, apierror.TypeAPI, "", "boom")
	for _, s := range []apierror.Shape{apierror.Stripe(), apierror.Flat(), apierror.Problem(""), tmpl} {
		if got := string(s.Marshal(bare)); strings.Contains(got, `"param"`) || strings.Contains(got, `"field"`) || strings.Contains(got, `"code"`) || strings.Contains(got, `"kind"`) {
			t.Errorf("%s: empty members written: %s", s.Name(), got)
		}
	}
}

func TestTemplateRefused(t *testing.T) {
	for _, src := range []string{
		``, `[]`, `"{message}"`, `{"a":1}`, `{"m":"{mesage}"}`, `{"m":"{message}"} {}`,
		`{"m":["{message}"]}`, `{"m":"{message}"`, strings.Repeat(`{"a":`, 20) + `"{message}"` + strings.Repeat(`}`, 20),
	} {
		if _, err := apierror.Template([]byte(src), ""); !errors.Is(err, apierror.ErrTemplate) {
			t.Errorf("Template(%q) = %v, want ErrTemplate", src, err)
		}
	}
}

func TestParseShape(t *testing.T) {
	for _, name := range []string{"", "stripe", "problem", "flat"} {
		s, err := apierror.ParseShape(name)
		if err != nil {
			t.Errorf("ParseShape(%q): %v", name, err)
			continue
		}
		if want := name; want != "" && s.Name() != want {
			t.Errorf("ParseShape(%q).Name() = %s", name, s.Name())
		}
	}
	if _, err := apierror.ParseShape("xml"); err == nil {
		t.Error("ParseShape(xml) accepted")
	}
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name   string
		method string
		shape  *apierror.Shape
		err    error
		status int
		ctype  string
		body   string
		header map[string]string
	}{
		{"stripe by default", "GET", nil, errNoSuchUser, 404, "application/json",
			`{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such user."}}`, nil},
		{"shape from the context", "GET", ptr(apierror.Flat()), errNoSuchUser, 404, "application/json",
			`{"message":"No such user.","code":"resource_missing","type":"invalid_request_error"}`, nil},
		{"head: no body", "HEAD", nil, errNoSuchUser, 404, "application/json", ``, nil},
		{"headers of the error", "GET", nil, apierror.ErrUnavailable, 503, "application/json",
			`{"error":{"type":"api_error","code":"service_unavailable","message":"The service is temporarily unavailable. Please retry the request."}}`,
			map[string]string{"Retry-After": "1"}},
		{"a plain error is a 500", "GET", ptr(apierror.Problem("")), errors.New("secret detail"), 500, "application/problem+json",
			`{"type":"about:blank","title":"Internal Server Error","status":500,"detail":"An internal error occurred. Please retry the request.","code":"api_error"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/v1/users/u_9", nil)
			if tt.shape != nil {
				r = r.WithContext(apierror.WithShape(r.Context(), *tt.shape))
			}
			w := httptest.NewRecorder()
			w.Header().Set("Content-Encoding", "gzip")
			apierror.Write(w, r, tt.err)
			if w.Code != tt.status {
				t.Errorf("status %d, want %d", w.Code, tt.status)
			}
			if got := w.Header().Get("Content-Type"); got != tt.ctype {
				t.Errorf("Content-Type %q, want %q", got, tt.ctype)
			}
			if got := w.Body.String(); got != tt.body {
				t.Errorf("body\n got %s\nwant %s", got, tt.body)
			}
			if w.Header().Get("Content-Encoding") != "" {
				t.Error("Content-Encoding kept on an error body")
			}
			for k, v := range tt.header {
				if got := w.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestBound(t *testing.T) {
	long := strings.Repeat("[a]", 100000)
	tests := []struct{ in, want string }{
		{"metadata", "metadata"},
		{strings.Repeat("é", 100), strings.Repeat("é", 100)},
		{strings.Repeat("é", 101), strings.Repeat("é", 100) + "…"},
		{long, long[:100] + "…"},
		{"a\xffb", "a\uFFFDb"},
	}
	for _, tt := range tests {
		if got := apierror.Bound(tt.in); got != tt.want {
			t.Errorf("Bound(%.20q…) = %.40q…, want %.40q…", tt.in, got, tt.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func FuzzTemplate(f *testing.F) {
	f.Add([]byte(`{"error":{"message":"{message}","code":"{code}"}}`), "msg", "code")
	f.Add([]byte(`{"status":"{status}","detail":"{message}","n":1.5,"b":true,"z":null}`), "", "")
	f.Fuzz(func(t *testing.T, tmpl []byte, message, code string) {
		s, err := apierror.Template(tmpl, "")
		if err != nil {
			return
		}
		out := s.Marshal(apierror.New(418, "t", code, message))
		if !json.Valid(out) {
			t.Fatalf("template %q wrote invalid JSON %q", tmpl, out)
		}
	})
}
