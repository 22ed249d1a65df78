package proxy

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/verso-api/verso/transform"
)

// exchange is what the proxy knows of one request while forwarding it:
// the context the upstream's request carries (the client's, bounded by
// Config.UpstreamTimeout when the answer may be walked back), whether the
// client's body failed, and the buffer of an answer read to be walked.
// It is found from that context by the ReverseProxy's hooks.
type exchange struct {
	context.Context
	client context.Context // the client's request context
	// deadline cancels Context with errDeadline when the upstream takes
	// longer than its timeout to answer in full; nil when the answer
	// streams through (the connection's silence is bounded instead).
	deadline *time.Timer
	timeout  time.Duration
	finished atomic.Bool
	// plan walks the answer back; nil when the answer streams through.
	plan *transform.Plan
	gz   *gzipWriter // the client's writer when it accepts gzip, else nil
	// cerr is the error reading the client's body, if any.
	cerr atomic.Pointer[error]
	// buf holds an answer read in full to be walked back; body reads it.
	buf  *bytes.Buffer
	body bufBody
	// limit bounds the reading of the answer into buf.
	limit io.LimitedReader
}

type exchangeKey struct{}

// Value returns x for exchangeKey, and the context's values otherwise.
func (x *exchange) Value(key any) any {
	if key == (exchangeKey{}) {
		return x
	}
	return x.Context.Value(key)
}

func exchangeOf(ctx context.Context) *exchange {
	x, _ := ctx.Value(exchangeKey{}).(*exchange)
	return x
}

// errDeadline is the cause of an exchange's context cancelled by its
// deadline.
var errDeadline = errors.New("proxy: the upstream did not answer within the upstream timeout")

// timedOut reports whether the exchange's deadline passed.
func (x *exchange) timedOut() bool {
	return errors.Is(context.Cause(x.Context), errDeadline)
}

// rearm moves the deadline to timeout from now: the client is still
// sending its body, and the upstream's time starts when it is sent.
func (x *exchange) rearm() {
	if x.deadline != nil && !x.finished.Load() {
		x.deadline.Reset(x.timeout)
	}
}

// stopDeadline stops the deadline: the answer is read, or streams through.
func (x *exchange) stopDeadline() {
	if x.deadline != nil && x.finished.CompareAndSwap(false, true) {
		x.deadline.Stop()
	}
}

func (x *exchange) clientErr() error {
	if e := x.cerr.Load(); e != nil {
		return *e
	}
	return nil
}

// clientBody is the client's request body on its way upstream. It records
// a failure to read it, so that the proxy answers 400 (or 413), not 502.
// For a body of known length it answers EOF once it is read, without
// reading the client's body again: after the last byte the transport
// reads once more to check the length; by then the upstream may have
// answered and the server closed the client's body (an HTTP/1 server does
// when the response starts), and that read would fail and kill the
// upstream's answer midway.
type clientBody struct {
	rc   io.ReadCloser
	left int64 // -1: unknown length
	x    *exchange
}

func (b *clientBody) Read(p []byte) (int, error) {
	if b.left == 0 {
		return 0, io.EOF
	}
	if b.left > 0 && int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	if b.left > 0 {
		b.left -= int64(n)
		if err == io.EOF && b.left > 0 {
			err = io.ErrUnexpectedEOF
		}
	}
	if err != nil && err != io.EOF {
		err = fmt.Errorf("reading the client's request body: %w", err)
		b.x.cerr.CompareAndSwap(nil, &err)
	} else if n > 0 {
		b.x.rearm()
	}
	return n, err
}

func (b *clientBody) Close() error { return b.rc.Close() }

// bufBody reads an answer held in memory.
type bufBody struct {
	b []byte
}

func (b *bufBody) Read(p []byte) (int, error) {
	if len(b.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, b.b)
	b.b = b.b[n:]
	return n, nil
}

func (b *bufBody) Close() error { return nil }

var answerBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// release returns the exchange's buffer to its pool.
func (x *exchange) release() {
	if x.buf == nil {
		return
	}
	x.body.b = nil
	if x.buf.Cap() <= 1<<20 {
		x.buf.Reset()
		answerBuffers.Put(x.buf)
	}
	x.buf = nil
}

// readAnswer reads the upstream's answer res in full, at most max bytes
// once decompressed, so that the middleware walks it back from memory:
// within the exchange's deadline (a stalled or endless body ends in 504),
// and gunzipped when the upstream gzipped it (the client gets it gzipped
// again when it accepts gzip). On success res carries the answer in the
// clear, with its Content-Length.
func (x *exchange) readAnswer(res *http.Response, max int64) error {
	var (
		src     io.Reader = res.Body
		gzipped bool
	)
	switch enc := res.Header.Get("Content-Encoding"); {
	case enc == "" || enc == "identity":
		if res.ContentLength > max {
			return fmt.Errorf("%w: Content-Length %d is over %d bytes", errTooLarge, res.ContentLength, max)
		}
	case enc == "gzip" || enc == "x-gzip":
		zr, _ := gzipDecoders.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(res.Body)
		} else {
			err = zr.Reset(res.Body)
		}
		if err != nil {
			return corrupt(err)
		}
		defer gzipDecoders.Put(zr)
		src, gzipped = zr, true
	default:
		// Not a coding the proxy asked for: the middleware refuses to walk
		// it, and says so.
		return nil
	}
	x.buf = answerBuffers.Get().(*bytes.Buffer)
	if n := res.ContentLength; n > 0 && !gzipped {
		x.buf.Grow(int(n) + bytes.MinRead)
	}
	x.limit = io.LimitedReader{R: src, N: max + 1}
	n, err := x.buf.ReadFrom(&x.limit)
	x.limit.R = nil
	if err != nil {
		return corrupt(err)
	}
	if n > max {
		return fmt.Errorf("%w: more than %d bytes", errTooLarge, max)
	}
	_ = res.Body.Close() // the connection goes back to the pool now
	x.body.b = x.buf.Bytes()
	res.Body = &x.body
	res.ContentLength = n
	if !hasLength(res.Header, n) {
		res.Header["Content-Length"] = []string{strconv.FormatInt(n, 10)}
	}
	if gzipped {
		delete(res.Header, "Content-Encoding")
		if x.gz != nil {
			x.gz.compress()
		}
	}
	return nil
}

// hasLength reports whether h's Content-Length is n, as the upstream sent
// it for an answer in the clear: then it stays as it is.
func hasLength(h http.Header, n int64) bool {
	cl := h["Content-Length"]
	var b [20]byte
	return len(cl) == 1 && cl[0] == string(strconv.AppendInt(b[:0], n, 10))
}

// corrupt marks an error of the gzip format as errCorrupt.
func corrupt(err error) error {
	var ferr flate.CorruptInputError
	if errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.As(err, &ferr) {
		return fmt.Errorf("%w: %w", errCorrupt, err)
	}
	return err
}
