package server

import (
	"net/http"

	"github.com/verso-api/verso/gates"
)

// adjustWriter walks back the status code and headers of a response whose
// endpoint's status or headers changed since the version served (status
// and header ops), as the final status is written. It sits between the
// buffering writer and the client's, and only on those endpoints.
type adjustWriter struct {
	http.ResponseWriter
	rd    gates.RouteDecision
	wrote bool
}

// WriteHeader renames and drops headers and maps the final status.
func (a *adjustWriter) WriteHeader(code int) {
	if !a.wrote && (code >= 200 || code == http.StatusSwitchingProtocols) {
		a.wrote = true
		a.rd.Header(a.ResponseWriter.Header())
		code = a.rd.Status(code)
	}
	a.ResponseWriter.WriteHeader(code)
}

// Write writes the implicit 200 first.
func (a *adjustWriter) Write(p []byte) (int, error) {
	if !a.wrote {
		a.WriteHeader(http.StatusOK)
	}
	return a.ResponseWriter.Write(p)
}

// Flush flushes the underlying writer, when it can.
func (a *adjustWriter) Flush() { _ = http.NewResponseController(a.ResponseWriter).Flush() }

// Unwrap gives http.ResponseController the underlying writer.
func (a *adjustWriter) Unwrap() http.ResponseWriter { return a.ResponseWriter }
