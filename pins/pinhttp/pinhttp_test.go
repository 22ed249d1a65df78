package pinhttp_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/pins/pinhttp"
	"github.com/verso-api/verso/versions"
)

func newHandler(t testing.TB, now func() time.Time) http.Handler {
	t.Helper()
	tl, err := versions.NewTimeline(
		versions.MustParse("2024-09-01.preview"), versions.MustParse("2024-06-01"), versions.MustParse("2023-03-01"), versions.MustParse("2022-01-01"),
	)
	require.NoError(t, err)
	store := pins.NewMemoryStore(&pins.Options{Now: now})
	h, err := pinhttp.Config{
		Store:    store,
		Versions: tl,
		Account:  func(r *http.Request) (string, error) { return r.Header.Get("Account"), nil },
	}.Handler()
	require.NoError(t, err)
	// The account "old" starts on the base version.
	_, _, err = store.PinIfAbsent(t.Context(), "old", versions.MustParse("2022-01-01"))
	require.NoError(t, err)
	return h
}

type step struct {
	name, account, method, path, ctype, body string
	status                                   int
	// want maps gjson paths of the response to their expected values.
	want map[string]string
}

func run(t *testing.T, h http.Handler, steps []step) {
	t.Helper()
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			req := httptest.NewRequest(s.method, s.path, strings.NewReader(s.body))
			if s.ctype != "" {
				req.Header.Set("Content-Type", s.ctype)
			}
			if s.account != "" {
				req.Header.Set("Account", s.account)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			require.Equal(t, s.status, rec.Code, rec.Body.String())
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			body := rec.Body.String()
			if s.status >= 400 {
				assert.True(t, gjson.Get(body, "error.message").Exists(), "error shape: %s", body)
			}
			for path, want := range s.want {
				assert.Equal(t, want, gjson.Get(body, path).String(), "%s in %s", path, body)
			}
		})
	}
}

const form = "application/x-www-form-urlencoded"

func TestPinEndpoints(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	h := newHandler(t, clock)
	const p = pinhttp.DefaultPath
	run(t, h, []step{
		{"first GET pins to the newest stable version", "new", "GET", p, "", "", 200, map[string]string{
			"object": "api_version_pin", "version": "2024-06-01", "history.#": "1", "history.0.kind": "pin",
			"supported_versions": `["2024-09-01.preview","2024-06-01","2023-03-01","2022-01-01"]`, "previous_version": ""}},
		{"GET an existing pin", "old", "GET", p, "", "", 200, map[string]string{"version": "2022-01-01"}},
		{"upgrade by form", "old", "POST", p, form, "version=2023-03-01", 200, map[string]string{
			"version": "2023-03-01", "previous_version": "2022-01-01", "history.#": "2", "history.1.kind": "upgrade",
			"history.1.from": "2022-01-01", "rollback_until": strconv.FormatInt(now.Add(72*time.Hour).Unix(), 10)}},
		{"not newer", "old", "POST", p, form, "version=2022-01-01", 400, map[string]string{
			"error.code": "parameter_invalid", "error.param": "version"}},
		{"unknown version", "old", "POST", p, "application/json", `{"version":"2023-03-02"}`, 400, map[string]string{
			"error.code": "parameter_invalid"}},
		{"malformed version", "old", "POST", p, form, "version=yesterday", 400, map[string]string{"error.param": "version"}},
		{"missing version", "old", "POST", p, form, "", 400, map[string]string{
			"error.code": "parameter_missing", "error.param": "version", "error.message": "Missing required param: version."}},
		{"unknown parameter", "old", "POST", p, form, "version=2023-03-01&force=true", 400, map[string]string{
			"error.code": "parameter_unknown", "error.param": "force"}},
		{"unknown parameter on the rollback", "old", "POST", p + "/rollback", form, "force=true", 400, map[string]string{
			"error.code": "parameter_unknown", "error.param": "force"}},
		{"unknown query parameter", "old", "GET", p + "?foo[bar]=1", "", "", 400, map[string]string{
			"error.code": "parameter_unknown", "error.param": "foo"}},
		{"malformed JSON", "old", "POST", p, "application/json", `{"version":`, 400, map[string]string{"error.message": "invalid JSON body"}},
		{"JSON not an object", "old", "POST", p, "application/json", `["2024-06-01"]`, 400, map[string]string{"error.code": "parameter_invalid"}},
		{"version not a string", "old", "POST", p, "application/json", `{"version":20240601}`, 400, map[string]string{"error.message": "version must be a string"}},
		{"malformed form", "old", "POST", p, form, "version=%zz", 400, map[string]string{"error.code": "parameter_invalid"}},
		{"body too large", "old", "POST", p, form, "version=" + strings.Repeat("x", 70<<10), 413, map[string]string{"error.code": "request_body_too_large"}},
		{"rollback", "old", "POST", p + "/rollback", "", "", 200, map[string]string{
			"version": "2022-01-01", "history.2.kind": "rollback", "previous_version": ""}},
		{"a rollback cannot be rolled back", "old", "POST", p + "/rollback", "", "", 400, map[string]string{"error.code": "rollback_unavailable"}},
		{"upgrade by JSON to the newest", "old", "POST", p, "application/json", `{"version":"2024-06-01"}`, 200, map[string]string{"version": "2024-06-01"}},
		{"no account", "", "GET", p, "", "", 401, map[string]string{"error.code": "authentication_required"}},
		{"method not allowed", "old", "DELETE", p, "", "", 405, map[string]string{"error.code": "method_not_allowed"}},
		{"GET rollback", "old", "GET", p + "/rollback", "", "", 405, nil},
		{"other path", "old", "GET", p + "/other", "", "", 404, map[string]string{"error.code": "resource_missing"}},
		{"upgrade by query", "q", "POST", p + "?version=2024-06-01", "", "", 400, map[string]string{"error.message": "2024-06-01 is not newer than the account's version 2024-06-01; use rollback to go back"}},
		{"upgrade to the preview", "q", "POST", p + "?version=2024-09-01.preview", "", "", 200, map[string]string{"version": "2024-09-01.preview"}},
	})
	advance(73 * time.Hour)
	run(t, h, []step{
		{"rollback after the window", "old", "POST", p + "/rollback", "", "", 400, map[string]string{
			"error.code": "rollback_expired", "error.message": "The 72 hours to roll back this upgrade have passed."}},
	})
}

func TestConfigErrors(t *testing.T) {
	tl, err := versions.NewTimeline(versions.MustParse("2024-06-01"))
	require.NoError(t, err)
	acct := func(*http.Request) (string, error) { return "a", nil }
	store := pins.NewMemoryStore(nil)
	for name, c := range map[string]pinhttp.Config{
		"no store":    {Versions: tl, Account: acct},
		"no versions": {Store: store, Account: acct},
		"no account":  {Store: store, Versions: tl},
		"bad path":    {Store: store, Versions: tl, Account: acct, Path: "v1/pin/"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.Handler()
			assert.Error(t, err)
		})
	}
}

// downStore is a store whose database does not answer.
type downStore struct{ pins.Store }

var errDown = errors.New("dial tcp 127.0.0.1:5432: connection refused")

func (downStore) PinIfAbsent(context.Context, string, versions.Version) (pins.Pin, bool, error) {
	return pins.Pin{}, false, errDown
}

// TestStoreDown: a store that fails is a 503 with Retry-After, in the shape
// of the request's context, whose body does not reveal the cause.
func TestStoreDown(t *testing.T) {
	tl, err := versions.NewTimeline(versions.MustParse("2024-06-01"))
	require.NoError(t, err)
	var got error
	h, err := pinhttp.Config{
		Store:    downStore{pins.NewMemoryStore(nil)},
		Versions: tl,
		Account:  func(*http.Request) (string, error) { return "a", nil },
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			got = err
			apierror.Write(w, r, err)
		},
	}.Handler()
	require.NoError(t, err)
	req := httptest.NewRequest("GET", pinhttp.DefaultPath, nil)
	req = req.WithContext(apierror.WithShape(req.Context(), apierror.Flat()))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.NotEmpty(t, rec.Header().Get("Retry-After"))
	require.Equal(t, "service_unavailable", gjson.Get(rec.Body.String(), "code").String(), rec.Body.String())
	require.NotContains(t, rec.Body.String(), "5432")
	require.ErrorIs(t, got, pinhttp.ErrStore)
	require.ErrorIs(t, got, errDown)
}
