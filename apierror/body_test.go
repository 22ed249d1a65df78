package apierror_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/verso-api/verso/apierror"
)

// notTimeout is an error with a Timeout method that reports false.
type notTimeout struct{}

func (notTimeout) Error() string { return "not a timeout" }
func (notTimeout) Timeout() bool { return false }

func TestFromBodyRead(t *testing.T) {
	// A real *http.MaxBytesError, as http.MaxBytesReader returns it.
	_, mbe := io.ReadAll(http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(strings.NewReader("0123456789")), 4))
	if mbe == nil {
		t.Fatal("MaxBytesReader returned no error")
	}
	opTimeout := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	teapot := apierror.New(418, apierror.TypeInvalidRequest, "teapot", "I'm a teapot.")
	tests := []struct {
		name   string
		err    error
		status int
		kind   *apierror.Error
	}{
		{"deadline", os.ErrDeadlineExceeded, 408, apierror.ErrTimeout},
		{"net timeout", fmt.Errorf("read body: %w", opTimeout), 408, apierror.ErrTimeout},
		{"context deadline", context.DeadlineExceeded, 408, apierror.ErrTimeout},
		{"max bytes", mbe, 413, apierror.ErrBodyTooLarge},
		{"max bytes wrapped", fmt.Errorf("read: %w", mbe), 413, apierror.ErrBodyTooLarge},
		{"api error", fmt.Errorf("read: %w", teapot), 418, teapot},
		{"unexpected EOF", io.ErrUnexpectedEOF, 400, apierror.ErrBodyUnreadable},
		{"chunked", errors.New("http: chunked encoding malformed"), 400, apierror.ErrBodyUnreadable},
		{"not a timeout", notTimeout{}, 400, apierror.ErrBodyUnreadable},
		{"canceled", context.Canceled, 400, apierror.ErrBodyUnreadable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := apierror.FromBodyRead(tt.err)
			if got.Status != tt.status {
				t.Errorf("status %d, want %d", got.Status, tt.status)
			}
			if !errors.Is(got, tt.kind) {
				t.Errorf("%v is not %v", got, tt.kind)
			}
			if tt.kind != teapot && !errors.Is(got, tt.err) {
				t.Errorf("%v lost its cause %v", got, tt.err)
			}
			if got.Status >= 500 {
				t.Errorf("a body that did not arrive is a %d", got.Status)
			}
		})
	}
	if got := apierror.FromBodyRead(nil); got != nil {
		t.Errorf("FromBodyRead(nil) = %v", got)
	}
	if got := apierror.FromBodyRead(mbe); !strings.Contains(got.Message, "4 bytes") {
		t.Errorf("413's message %q does not name the limit", got.Message)
	}
}
