package api

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/apierror"
)

// codeInvalidText is the error code of a request holding a NUL byte or
// text that is not UTF-8.
const codeInvalidText = "invalid_utf8"

// cleanText reports whether s is UTF-8 without NUL bytes: what every
// parameter, id and key must be before a store sees it (PostgreSQL
// refuses both in text columns).
func cleanText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

func badText(param string) error {
	param = apierror.Bound(param)
	msg := "The request holds a NUL byte or text that is not valid UTF-8"
	if param != "" {
		msg += " in " + param
	}
	return apierror.New(http.StatusBadRequest, apierror.TypeInvalidRequest, codeInvalidText, msg+".").WithParam(param)
}

// strictInput refuses, with 400 before anything else reads the request,
// a NUL byte or invalid UTF-8 in the path, the query string, the body's
// parameter names and values (form or JSON, after unescaping), or the
// headers that reach a store (the API key, the idempotency key, the
// version). Bodies are read up to maxBody bytes; a longer one is left
// for the layers that refuse it with 413.
func strictInput(maxBody int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if !cleanText(req.URL.Path) {
				return badText("")
			}
			for _, h := range []string{echo.HeaderAuthorization, "Idempotency-Key", "Stripe-Version"} {
				if !cleanText(req.Header.Get(h)) {
					return badText("")
				}
			}
			if err := checkForm(req.URL.RawQuery); err != nil {
				return err
			}
			if req.Body == nil || req.Body == http.NoBody {
				return next(c)
			}
			raw, err := io.ReadAll(io.LimitReader(req.Body, maxBody+1))
			if err != nil {
				return apierror.FromBodyRead(err)
			}
			req.Body = readCloser{io.MultiReader(bytes.NewReader(raw), req.Body), req.Body}
			if int64(len(raw)) > maxBody {
				return next(c) // too large: refused further in with 413
			}
			ct, _, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
			switch {
			case ct == echo.MIMEApplicationJSON || strings.HasSuffix(ct, "+json"):
				if gjson.ValidBytes(raw) {
					if err := checkJSON(gjson.ParseBytes(raw), ""); err != nil {
						return err
					}
				}
			case ct == echo.MIMEApplicationForm || ct == "":
				if err := checkForm(string(raw)); err != nil {
					return err
				}
			default:
				if !cleanText(string(raw)) {
					return badText("")
				}
			}
			return next(c)
		}
	}
}

type readCloser struct {
	io.Reader
	io.Closer
}

// checkForm checks the names and values of a form or query string, after
// unescaping. Malformed escapes are left for the parameter parser.
func checkForm(q string) error {
	if q == "" {
		return nil
	}
	for _, pair := range strings.Split(q, "&") {
		k, v, _ := strings.Cut(pair, "=")
		uk, err := url.QueryUnescape(k)
		if err != nil {
			uk = k
		}
		if !cleanText(uk) {
			return badText("")
		}
		uv, err := url.QueryUnescape(v)
		if err != nil {
			uv = v
		}
		if !cleanText(uv) {
			return badText(uk)
		}
	}
	return nil
}

// checkJSON checks every key and string of a JSON value, unescaped;
// depth bounds the recursion of hostile nesting.
func checkJSON(r gjson.Result, param string) error {
	return checkJSONDepth(r, param, 0)
}

func checkJSONDepth(r gjson.Result, param string, depth int) error {
	if depth > 64 {
		return nil // deeper than any parameter: the parser refuses it
	}
	switch {
	case r.Type == gjson.String:
		if !cleanText(r.Str) {
			return badText(param)
		}
	case r.IsObject(), r.IsArray():
		var err error
		r.ForEach(func(k, v gjson.Result) bool {
			name := param
			if k.Type == gjson.String {
				if !cleanText(k.Str) {
					err = badText(param)
					return false
				}
				if name == "" {
					name = k.Str
				}
			}
			err = checkJSONDepth(v, name, depth+1)
			return err == nil
		})
		return err
	}
	return nil
}
