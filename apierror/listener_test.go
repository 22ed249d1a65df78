package apierror_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verso-api/verso/apierror"
)

// serveShaped serves h on 127.0.0.1 through apierror.Listener in shape.
func serveShaped(t *testing.T, shape apierror.Shape, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, MaxHeaderBytes: 4 << 10, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(apierror.Listener(ln, shape))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// exchange writes raw on a new connection and reads one response.
func exchange(t *testing.T, addr, raw string) (*http.Response, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

// TestListener sends requests net/http refuses before any handler runs
// and checks each answer is in the shape, with its status and code; and
// that the handlers' own answers, plain text included, pass unchanged.
func TestListener(t *testing.T) {
	h := http.NewServeMux()
	h.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "fine") })
	h.HandleFunc("/plain", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "Bad Request", http.StatusBadRequest) })
	file := filepath.Join(t.TempDir(), "f.txt")
	content := strings.Repeat("verso ", 20_000)
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	h.HandleFunc("/file", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, file) })
	big := strings.Repeat("x", 8<<10)
	tests := []struct {
		name, raw string
		status    int
		code, msg string
	}{
		{"headers too large", "GET /ok HTTP/1.1\r\nHost: a\r\nX-Big: " + big + "\r\n\r\n", 431, "request_headers_too_large", "larger than this server accepts"},
		{"NUL in a header value", "GET /ok HTTP/1.1\r\nHost: a\r\nX-A: a\x00b\r\n\r\n", 400, "request_malformed", "malformed"},
		{"CR in a header value", "GET /ok HTTP/1.1\r\nHost: a\r\nX-A: a\rb\r\n\r\n", 400, "request_malformed", "malformed"},
		{"space in a header name", "GET /ok HTTP/1.1\r\nHost: a\r\nX A: b\r\n\r\n", 400, "request_malformed", "invalid header name"},
		{"no Host", "GET /ok HTTP/1.1\r\n\r\n", 400, "request_malformed", "missing required Host header"},
		{"two Hosts", "GET /ok HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "request_malformed", ""},
		{"a bad request line", "GET\r\n\r\n", 400, "request_malformed", "malformed"},
		{"HTTP/3.0", "GET /ok HTTP/3.0\r\nHost: a\r\n\r\n", 505, "", "HTTP Version Not Supported"},
		{"gzip transfer encoding", "POST /ok HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "transfer_encoding_unsupported", "not supported"},
	}
	shapes := []struct {
		name  string
		shape apierror.Shape
		ctype string
		get   func(map[string]any) (code, msg string)
	}{
		{"stripe", apierror.Stripe(), "application/json", func(m map[string]any) (string, string) {
			e, _ := m["error"].(map[string]any)
			c, _ := e["code"].(string)
			s, _ := e["message"].(string)
			return c, s
		}},
		{"problem", apierror.Problem(""), "application/problem+json", func(m map[string]any) (string, string) {
			c, _ := m["code"].(string)
			s, _ := m["detail"].(string)
			return c, s
		}},
		{"flat", apierror.Flat(), "application/json", func(m map[string]any) (string, string) {
			c, _ := m["code"].(string)
			s, _ := m["message"].(string)
			return c, s
		}},
	}
	for _, sh := range shapes {
		addr := serveShaped(t, sh.shape, h)
		for _, tt := range tests {
			t.Run(sh.name+"/"+tt.name, func(t *testing.T) {
				res, body := exchange(t, addr, tt.raw)
				if res.StatusCode != tt.status {
					t.Fatalf("status %d, want %d: %s", res.StatusCode, tt.status, body)
				}
				if ct := res.Header.Get("Content-Type"); ct != sh.ctype {
					t.Errorf("Content-Type %q, want %q", ct, sh.ctype)
				}
				var m map[string]any
				if err := json.Unmarshal([]byte(body), &m); err != nil {
					t.Fatalf("not JSON: %v: %q", err, body)
				}
				code, msg := sh.get(m)
				if code != tt.code || !strings.Contains(msg, tt.msg) || msg == "" {
					t.Errorf("code %q message %q, want %q and a message holding %q: %s", code, msg, tt.code, tt.msg, body)
				}
				if !res.Close {
					t.Error("the connection is not closed after the error")
				}
			})
		}
	}

	addr := serveShaped(t, apierror.Stripe(), h)
	t.Run("handlers' answers pass unchanged", func(t *testing.T) {
		res, body := exchange(t, addr, "GET /plain HTTP/1.1\r\nHost: a\r\n\r\n")
		if res.StatusCode != 400 || body != "Bad Request\n" || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
			t.Errorf("a handler's plain 400 was changed: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), body)
		}
		res, body = exchange(t, addr, "GET /file HTTP/1.1\r\nHost: a\r\n\r\n")
		if res.StatusCode != 200 || body != content {
			t.Errorf("a file was not sent whole: %d, %d bytes", res.StatusCode, len(body))
		}
	})
	t.Run("after a good request on one connection", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		io.WriteString(c, "GET /ok HTTP/1.1\r\nHost: a\r\n\r\nGET /ok HTTP/1.1\r\nHost: a\r\nX-A: \x00\r\n\r\n")
		br := bufio.NewReader(c)
		first, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(first.Body)
		if first.StatusCode != 200 || string(b) != "fine" {
			t.Fatalf("first: %d %q", first.StatusCode, b)
		}
		second, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ = io.ReadAll(second.Body)
		if second.StatusCode != 400 || !strings.Contains(string(b), `"request_malformed"`) {
			t.Fatalf("second: %d %q", second.StatusCode, b)
		}
	})
}
