package signature

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSignKnownVector(t *testing.T) {
	// HMAC-SHA256("whsec_test", "1700000000.{}") computed independently
	// with: printf '1700000000.{}' | openssl dgst -sha256 -hmac whsec_test
	got := Sign("whsec_test", time.Unix(1700000000, 0), []byte("{}"))
	require.Equal(t, "t=1700000000,v1="+knownMAC, got)
}

func TestVerify(t *testing.T) {
	now := time.Unix(1700000000, 0)
	payload := []byte(`{"id":"evt_1","object":"event"}`)
	const secret, other = "whsec_current", "whsec_previous"
	good := Sign(secret, now, payload)
	oldSig := Sign(other, now, payload)
	ts := "t=" + strconv.FormatInt(now.Unix(), 10)
	tests := []struct {
		name      string
		payload   []byte
		header    string
		tolerance time.Duration
		now       time.Time
		want      error
	}{
		{"valid", payload, good, 0, now, nil},
		{"valid within tolerance", payload, good, 0, now.Add(4 * time.Minute), nil},
		{"rotation: second v1 matches", payload, oldSig + "," + strings.Split(good, ",")[1], 0, now, nil},
		{"rotation: first v1 matches", payload, good + "," + strings.Split(oldSig, ",")[1], 0, now, nil},
		{"v0 entries skipped", payload, good + ",v0=abc", 0, now, nil},
		{"spaces around entries", payload, " " + strings.ReplaceAll(good, ",", " , "), 0, now, nil},
		{"tampered body", []byte(`{"id":"evt_2","object":"event"}`), good, 0, now, ErrMismatch},
		{"wrong secret", payload, oldSig, 0, now, ErrMismatch},
		{"stale timestamp", payload, good, 0, now.Add(6 * time.Minute), ErrTooOld},
		{"stale with custom tolerance", payload, good, time.Minute, now.Add(2 * time.Minute), ErrTooOld},
		{"future timestamp", payload, good, 0, now.Add(-6 * time.Minute), ErrTooOld},
		{"negative tolerance skips the check", payload, good, -1, now.Add(100 * time.Hour), nil},
		{"timestamp changed", payload, "t=1700000001," + strings.Split(good, ",")[1], -1, now, ErrMismatch},
		{"empty header", payload, "", 0, now, ErrNoSignature},
		{"no v1", payload, ts + ",v0=00", 0, now, ErrNoSignature},
		{"no timestamp", payload, strings.Split(good, ",")[1], 0, now, ErrBadHeader},
		{"two timestamps", payload, ts + "," + good, 0, now, ErrBadHeader},
		{"timestamp not a number", payload, "t=abc,v1=" + knownMAC, 0, now, ErrBadHeader},
		{"negative timestamp", payload, "t=-5,v1=" + knownMAC, 0, now, ErrBadHeader},
		{"v1 not hex", payload, ts + ",v1=zz", 0, now, ErrBadHeader},
		{"v1 too short", payload, ts + ",v1=abcd", 0, now, ErrBadHeader},
		{"entry without =", payload, ts + ",v1", 0, now, ErrBadHeader},
		{"huge header", payload, ts + strings.Repeat(",v0=1", 3000), 0, now, ErrBadHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyAt(tt.payload, tt.header, secret, tt.tolerance, tt.now)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.want)
		})
	}
}

func TestVerifyUsesTheClock(t *testing.T) {
	p := []byte("x")
	require.NoError(t, Verify(p, Sign("s", time.Now(), p), "s", 0))
	require.ErrorIs(t, Verify(p, Sign("s", time.Now().Add(-10*time.Minute), p), "s", 0), ErrTooOld)
}

func TestStandardSignature(t *testing.T) {
	now := time.Unix(1700000000, 0)
	payload := []byte(`{"id":"evt_1"}`)
	secret := NewSecret()
	other := NewSecret()
	h, err := SignStandard(secret, "evt_1", now, payload)
	require.NoError(t, err)
	require.Equal(t, "evt_1", h.Get(StandardID))
	require.Equal(t, "1700000000", h.Get(StandardTimestamp))
	require.True(t, strings.HasPrefix(h.Get(StandardSignature), "v1,"))
	ho, err := SignStandard(other, "evt_1", now, payload)
	require.NoError(t, err)

	with := func(k, v string) http.Header {
		c := h.Clone()
		c.Set(k, v)
		return c
	}
	tests := []struct {
		name    string
		payload []byte
		h       http.Header
		secret  string
		now     time.Time
		want    error
	}{
		{"valid", payload, h, secret, now, nil},
		{"rotation", payload, with(StandardSignature, ho.Get(StandardSignature)+" v2,xyz "+h.Get(StandardSignature)), secret, now, nil},
		{"tampered body", []byte(`{"id":"evt_2"}`), h, secret, now, ErrMismatch},
		{"other id", payload, with(StandardID, "evt_2"), secret, now, ErrMismatch},
		{"wrong secret", payload, h, other, now, ErrMismatch},
		{"stale", payload, h, secret, now.Add(time.Hour), ErrTooOld},
		{"no signature", payload, with(StandardSignature, ""), secret, now, ErrNoSignature},
		{"only other versions", payload, with(StandardSignature, "v1a,abc"), secret, now, ErrNoSignature},
		{"no id", payload, with(StandardID, ""), secret, now, ErrBadHeader},
		{"bad timestamp", payload, with(StandardTimestamp, "soon"), secret, now, ErrBadHeader},
		{"entry without comma", payload, with(StandardSignature, "v1"), secret, now, ErrBadHeader},
		{"not base64", payload, with(StandardSignature, "v1,***"), secret, now, ErrBadHeader},
		{"bad secret", payload, h, "whsec_***", now, ErrBadSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyStandardAt(tt.payload, tt.h, tt.secret, 0, tt.now)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.want)
		})
	}
}

func TestStandardKnownVector(t *testing.T) {
	// The key is the base64 part of the secret: here the bytes "test".
	secret := SecretPrefix + base64.StdEncoding.EncodeToString([]byte("test"))
	h, err := SignStandard(secret, "msg_1", time.Unix(1700000000, 0), []byte("{}"))
	require.NoError(t, err)
	// printf 'msg_1.1700000000.{}' | openssl dgst -sha256 -hmac test -binary | base64
	require.Equal(t, "v1,"+knownStandardMAC, h.Get(StandardSignature))
}

func TestSecretsAreDistinct(t *testing.T) {
	a, b := NewSecret(), NewSecret()
	require.NotEqual(t, a, b)
	require.True(t, strings.HasPrefix(a, SecretPrefix))
	_, err := standardKey(a)
	require.NoError(t, err)
}

func FuzzParseHeader(f *testing.F) {
	f.Add("t=1700000000,v1=" + knownMAC)
	f.Add("t=1,v1=" + knownMAC + ",v1=" + knownMAC + ",v0=x")
	f.Add("")
	f.Add("t=,v1=")
	f.Add(",,,")
	f.Add("t=99999999999999999999999,v1=00")
	f.Fuzz(func(t *testing.T, header string) {
		h, err := ParseHeader(header)
		if err != nil {
			if !errors.Is(err, ErrBadHeader) && !errors.Is(err, ErrNoSignature) {
				t.Fatalf("ParseHeader(%q): unexpected error kind %v", header, err)
			}
			return
		}
		if h.Timestamp <= 0 || len(h.Signatures) == 0 {
			t.Fatalf("ParseHeader(%q) = %+v without error", header, h)
		}
		for _, s := range h.Signatures {
			if len(s) != 32 {
				t.Fatalf("signature of %d bytes", len(s))
			}
		}
		// Verify must agree with the parser and never panic.
		err = VerifyAt([]byte("p"), header, "s", -1, time.Now())
		if err != nil && !errors.Is(err, ErrMismatch) {
			t.Fatalf("Verify after a good parse: %v", err)
		}
	})
}

func FuzzVerifyStandard(f *testing.F) {
	f.Add("msg_1", "1700000000", "v1,abc v2,def", []byte("{}"))
	f.Add("", "", "", []byte(nil))
	f.Fuzz(func(t *testing.T, id, ts, sig string, payload []byte) {
		h := http.Header{}
		h.Set(StandardID, id)
		h.Set(StandardTimestamp, ts)
		h.Set(StandardSignature, sig)
		err := VerifyStandardAt(payload, h, "whsec_dGVzdA==", -1, time.Now())
		if err == nil {
			t.Fatalf("forged headers accepted: %q %q %q", id, ts, sig)
		}
		for _, want := range []error{ErrNoSignature, ErrBadHeader, ErrMismatch} {
			if errors.Is(err, want) {
				return
			}
		}
		t.Fatalf("unexpected error kind %v", err)
	})
}

// Computed with openssl, not with this package.
const (
	knownMAC         = "35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91"
	knownStandardMAC = "eKz7HZuFOf10lKa1mJNAK+day2D2tBwSFXr/dvOgJEU="
)
