package api

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/server/echoversioning"
	"github.com/verso-api/verso/storage"
)

// The 503s of a database that does not answer, and of SQLite's writer
// staying busy: retrying helps.
var (
	errDatabaseDown = apierror.ErrUnavailable.
			With("The service is temporarily unavailable: its database does not answer. Retry later.").
			WithRetryAfter(5 * time.Second)
	errDatabaseBusy = apierror.ErrUnavailable.WithCode("database_busy").
			With("The database is busy with other writes. Retry the request.")
)

// healthz answers 200 while the process serves HTTP: a liveness probe.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when the database answers a ping within two seconds,
// and 503 with Retry-After otherwise: a readiness probe.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		s.log.Warn("readyz: database does not answer", "err", err)
		return errDatabaseDown
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok", "database": s.db.Dialect.String()})
}

// busy reports whether err is SQLite's single writer being taken for
// longer than the server waits: a reason to retry, not a bug.
func busy(err error) bool {
	return storage.IsBusy(err)
}

// unavailable turns a 5xx returned for a database that could not be
// reached or a connection that broke (storage.IsUnavailable), or because
// SQLite's writer stayed busy, into a 503 with Retry-After: the client
// should retry, not report a bug. A 500 written while the database does
// not answer a ping becomes one too. It covers every layer that answers
// 500 on a store error (the version pin, idempotency keys, the handlers,
// webhook endpoints).
func (s *Server) unavailable(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		res := c.Response()
		w := &outageWriter{ResponseWriter: res.Writer, res: res, s: s, ctx: c.Request().Context(), head: c.Request().Method == http.MethodHead}
		res.Writer = w
		defer func() { res.Writer = w.ResponseWriter }()
		if err := next(c); err != nil {
			if echoversioning.Convert(err, c.Request()).Status >= 500 {
				switch { // from any layer: the pin store, idempotency keys, the handlers
				case busy(err):
					err = errDatabaseBusy.Wrap(err)
				case storage.IsUnavailable(err):
					err = errDatabaseDown.Wrap(err)
				}
			}
			c.Error(err) // write the error through w
		}
		return nil
	}
}

// outageWriter checks the database when a 500 is written, and writes a
// 503 in its place when the database does not answer.
type outageWriter struct {
	http.ResponseWriter
	res     *echo.Response
	s       *Server
	ctx     context.Context
	head    bool
	swallow bool
}

func (w *outageWriter) WriteHeader(status int) {
	if status == http.StatusInternalServerError && !w.s.dbAnswers(w.ctx) {
		w.swallow = true
		body := apierror.ShapeFrom(w.ctx).Marshal(errDatabaseDown)
		h := w.Header()
		for k, vs := range errDatabaseDown.Header {
			h[k] = vs
		}
		h.Set(echo.HeaderContentType, apierror.ShapeFrom(w.ctx).ContentType())
		h.Set(echo.HeaderContentLength, strconv.Itoa(len(body)))
		h.Del("Content-Encoding")
		w.ResponseWriter.WriteHeader(http.StatusServiceUnavailable)
		w.res.Status = http.StatusServiceUnavailable
		if !w.head {
			_, _ = w.ResponseWriter.Write(body)
		}
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *outageWriter) Write(b []byte) (int, error) {
	if w.swallow {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *outageWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok && !w.swallow {
		f.Flush()
	}
}

func (w *outageWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// dbAnswers pings the database for at most two seconds.
func (s *Server) dbAnswers(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	return s.db.Ping(ctx) == nil
}

// clientIP returns an echo.IPExtractor that believes header only on
// connections from trusted (loopback when empty).
func clientIP(header string, trusted []netip.Prefix) (echo.IPExtractor, error) {
	if len(trusted) == 0 {
		trusted = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		_, n, err := net.ParseCIDR(p.Masked().String())
		if err != nil {
			return nil, fmt.Errorf("api: trusted proxy %s: %w", p, err)
		}
		opts = append(opts, echo.TrustIPRange(n))
	}
	switch strings.ToLower(header) {
	case "x-forwarded-for":
		return echo.ExtractIPFromXFFHeader(opts...), nil
	case "x-real-ip":
		return echo.ExtractIPFromRealIPHeader(opts...), nil
	}
	return nil, fmt.Errorf("api: ClientIPHeader must be X-Forwarded-For or X-Real-IP, got %q", header)
}

// Hijack lets a handler take the connection over, as the writer it wraps
// does.
func (w *outageWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}
