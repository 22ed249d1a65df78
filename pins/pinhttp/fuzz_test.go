package pinhttp_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// FuzzUpgrade sends any body, content type and query string to the
// upgrade endpoint: the answer is a pin (200) or an error in the API's
// shape (400 or 413), never a panic nor a 500.
func FuzzUpgrade(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", "version=2023-03-01", "")
	f.Add("application/json", `{"version":"2024-06-01"}`, "")
	f.Add("application/json", `{"version":["x"]}`, "expand[]=a")
	f.Add("", "", "version=2022-01-01")
	f.Add("application/x-www-form-urlencoded", "version[a][b]=1&&=", "a[")
	f.Add("text/plain", "\x00\xff", "%zz")
	h := newHandler(f, time.Now)
	f.Fuzz(func(t *testing.T, ctype, body, query string) {
		req := httptest.NewRequest("POST", "/v1/account/api_version", strings.NewReader(body))
		req.URL.RawQuery = query
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Account", "fuzz")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case 200:
			if gjson.Get(rec.Body.String(), "object").String() != "api_version_pin" {
				t.Fatalf("200 without a pin: %s", rec.Body)
			}
		case 400, 413:
			if !gjson.Get(rec.Body.String(), "error.code").Exists() {
				t.Fatalf("%d not in the error shape: %s", rec.Code, rec.Body)
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}
