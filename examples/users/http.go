package users

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/verso-api/verso/apierror"
)

type accountKey struct{}

// ErrUnauthorized is the 401 of a request whose key is not valid.
var ErrUnauthorized = apierror.New(http.StatusUnauthorized, apierror.TypeInvalidRequest, "authentication_required", "Invalid API key provided.")

// Authenticate is the example's authentication middleware:
// "Authorization: Bearer <account>" names the account (a real API checks a
// key here). Requests without the header are anonymous: they get the
// version they ask for, or the newest, and pin nothing. It runs before
// the versioning middleware, so it writes its 401 in the API's error
// shape itself (the newest version's).
func Authenticate(next http.Handler) http.Handler {
	shape := errorShape()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := r.Header.Get("Authorization"); h != "" {
			acct, ok := strings.CutPrefix(h, "Bearer ")
			if !ok || acct == "" || len(acct) > 64 {
				apierror.WriteShape(w, r, ErrUnauthorized, shape)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), accountKey{}, acct))
		}
		next.ServeHTTP(w, r)
	})
}

// AccountOf returns the account Authenticate found, or "".
func AccountOf(r *http.Request) (string, error) {
	a, _ := r.Context().Value(accountKey{}).(string)
	return a, nil
}

// Server returns an http.Server for h on addr with timeouts a server on the
// internet needs.
func Server(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}
