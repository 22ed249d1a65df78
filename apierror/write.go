package apierror

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
)

type shapeKey struct{}

// WithShape returns a copy of ctx that carries shape: Write answers
// requests with that context in it. The versioning middleware puts the
// API's shape there, so every piece inside it (idempotency, rate limits,
// handlers) writes the API's errors without being told their shape.
func WithShape(ctx context.Context, shape Shape) context.Context {
	return context.WithValue(ctx, shapeKey{}, shape)
}

// ShapeFrom returns the shape ctx carries, or Stripe's.
func ShapeFrom(ctx context.Context) Shape {
	s, _ := ctx.Value(shapeKey{}).(Shape)
	return s
}

// Write answers err on w in the shape of r's context (ShapeFrom): an
// *Error with its status, headers and fields, anything else as From makes
// it. HEAD requests get the status and headers alone. 5xx errors are
// logged with their cause on slog.Default: at level warn for a 503 (a
// dependency away, such as a database outage, which would otherwise log
// an error per request), at level error for the others; 4xx are not
// logged.
//
//	apierror.Write(w, r, ErrNoSuchUser.With("No such user: 'u_9'").WithParam("id"))
func Write(w http.ResponseWriter, r *http.Request, err error) {
	WriteShape(w, r, err, ShapeFrom(r.Context()))
}

// WriteShape is Write in shape.
func WriteShape(w http.ResponseWriter, r *http.Request, err error, shape Shape) {
	write(w, r, err, shape, nil)
}

// NewWriter returns Write logging 5xx errors to logger (nil means
// slog.Default()) at Write's levels: the signature of the error handlers of verso's
// middlewares (server.Config.ErrorHandler and the like).
func NewWriter(logger *slog.Logger) func(w http.ResponseWriter, r *http.Request, err error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		write(w, r, err, ShapeFrom(r.Context()), logger)
	}
}

func write(w http.ResponseWriter, r *http.Request, err error, shape Shape, logger *slog.Logger) {
	e := From(err)
	if e == nil {
		return
	}
	if e.Status >= 500 {
		if logger == nil {
			logger = slog.Default()
		}
		logger.Log(r.Context(), logLevel(e.Status), "request failed",
			"method", r.Method, "path", r.URL.Path, "status", e.Status, "error", err)
	}
	body := shape.Marshal(e)
	h := w.Header()
	for k, vs := range e.Header {
		h[k] = append([]string(nil), vs...)
	}
	h.Set("Content-Type", shape.ContentType())
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Encoding")
	w.WriteHeader(e.Status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// logLevel is the level a 5xx answer of status is logged at: warn for a
// 503, which retrying later cures and which an outage answers to every
// request, error for the others.
func logLevel(status int) slog.Level {
	if status == http.StatusServiceUnavailable {
		return slog.LevelWarn
	}
	return slog.LevelError
}
