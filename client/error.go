package client

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Error is an API answer outside 2xx, in Stripe's error shape:
//
//	{"error": {"type": "invalid_request_error", "code": "resource_missing",
//	           "param": "id", "message": "No such customer: 'cus_123'"}}
type Error struct {
	StatusCode int    // the HTTP status
	Type       string // for example "invalid_request_error", "rate_limit_error"
	Code       string // for example "idempotency_key_in_use"; often empty
	Param      string // the parameter at fault, if any
	Message    string // for people, not programs
	RequestID  string // the Request-Id response header, if any
	// Body holds the raw body (up to 4 KiB) when it is not in Stripe's
	// error shape.
	Body []byte
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "client: %d", e.StatusCode)
	if e.Type != "" {
		b.WriteString(" " + e.Type)
	} else {
		b.WriteString(" " + http.StatusText(e.StatusCode))
	}
	if e.Code != "" {
		b.WriteString(" (" + e.Code + ")")
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	} else if len(e.Body) > 0 {
		fmt.Fprintf(&b, ": %q", e.Body)
	}
	if e.RequestID != "" {
		b.WriteString(" [request " + e.RequestID + "]")
	}
	return b.String()
}

const maxErrorBody = 4 << 10

// newError reads an error answer; a body not in Stripe's shape is kept raw.
func newError(resp *http.Response, data []byte) *Error {
	e := &Error{StatusCode: resp.StatusCode, RequestID: resp.Header.Get("Request-Id")}
	var env struct {
		Error *struct {
			Type    string `json:"type"`
			Code    string `json:"code"`
			Param   string `json:"param"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(data, &env) == nil && env.Error != nil {
		e.Type, e.Code, e.Param, e.Message = env.Error.Type, env.Error.Code, env.Error.Param, env.Error.Message
		return e
	}
	if len(data) > maxErrorBody {
		data = data[:maxErrorBody]
	}
	e.Body = data
	return e
}
