// Package signature signs webhook deliveries and verifies them, with the
// standard library only: a receiver that checks what verso sends imports
// this package and nothing else of verso.
//
// By default a delivery carries Stripe's header,
//
//	Stripe-Signature: t=1700000000,v1=<hex HMAC-SHA256(secret, "1700000000." + body)>
//
// which a receiver checks with Verify on the exact bytes it received:
//
//	payload, _ := io.ReadAll(r.Body)
//	if err := signature.Verify(payload, r.Header.Get(signature.Header), secret, 0); err != nil {
//		http.Error(w, "bad signature", http.StatusBadRequest)
//		return
//	}
//
// An endpoint created with the Standard Webhooks scheme carries the
// headers webhook-id, webhook-timestamp and webhook-signature: v1,<base64>
// instead, checked with VerifyStandard or any Standard Webhooks library.
// Secrets look like "whsec_" + base64 (NewSecret) and serve both schemes.
package signature

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is how far a signature's timestamp may be from the
// receiver's clock before Verify refuses it as a possible replay.
const DefaultTolerance = 5 * time.Minute

// Header is the header that carries a Stripe-style signature.
const Header = "Stripe-Signature"

// The headers of the Standard Webhooks scheme.
const (
	StandardID        = "webhook-id"
	StandardTimestamp = "webhook-timestamp"
	StandardSignature = "webhook-signature"
)

// SecretPrefix starts every signing secret.
const SecretPrefix = "whsec_"

// Errors returned by Verify and VerifyStandard.
var (
	ErrNoSignature = errors.New("signature: no signature")
	ErrBadHeader   = errors.New("signature: malformed signature header")
	ErrMismatch    = errors.New("signature: no signature matches the payload")
	ErrTooOld      = errors.New("signature: timestamp outside the tolerance")
	ErrBadSecret   = errors.New("signature: malformed secret")
)

// maxHeader bounds the signature headers Verify reads, so that a hostile
// header cannot make it parse or compare without end.
const maxHeader = 8 << 10

// Sign returns the Stripe-Signature header value for payload sent at t:
//
//	t=1700000000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd
//
// where v1 is the hex HMAC-SHA256, keyed with the whole secret, of
// "1700000000." followed by the payload.
func Sign(secret string, t time.Time, payload []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	b := make([]byte, 0, len(ts)+80)
	b = append(b, "t="...)
	b = append(b, ts...)
	b = append(b, ",v1="...)
	mac := stripeMAC(secret, ts, payload)
	b = hex.AppendEncode(b, mac)
	return string(b)
}

func stripeMAC(secret, ts string, payload []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(payload)
	return m.Sum(nil)
}

// Parsed is a parsed Stripe-Signature header.
type Parsed struct {
	Timestamp  int64    // the t= value, in Unix seconds
	Signatures [][]byte // the decoded v1= values, in order
}

// ParseHeader parses a Stripe-Signature header value. Entries other than
// t and v1 (such as v0) are skipped; a v1 entry that is not hex, a missing
// or repeated t, or an entry without "=" is ErrBadHeader. A header with a
// timestamp but no v1 entry is ErrNoSignature.
func ParseHeader(header string) (Parsed, error) {
	var h Parsed
	if strings.TrimSpace(header) == "" {
		return h, ErrNoSignature
	}
	if len(header) > maxHeader {
		return h, fmt.Errorf("%w: longer than %d bytes", ErrBadHeader, maxHeader)
	}
	seenT := false
	for item := range strings.SplitSeq(header, ",") {
		item = strings.TrimSpace(item)
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			return Parsed{}, fmt.Errorf("%w: entry %q has no '='", ErrBadHeader, clip(item))
		}
		switch k {
		case "t":
			if seenT {
				return Parsed{}, fmt.Errorf("%w: more than one timestamp", ErrBadHeader)
			}
			seenT = true
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return Parsed{}, fmt.Errorf("%w: timestamp %q is not a positive integer", ErrBadHeader, clip(v))
			}
			h.Timestamp = n
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				return Parsed{}, fmt.Errorf("%w: v1 signature %q is not 64 hex digits", ErrBadHeader, clip(v))
			}
			h.Signatures = append(h.Signatures, sig)
		}
	}
	if !seenT {
		return Parsed{}, fmt.Errorf("%w: no timestamp", ErrBadHeader)
	}
	if len(h.Signatures) == 0 {
		return Parsed{}, ErrNoSignature
	}
	return h, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// Verify checks a Stripe-Signature header against the payload and the
// endpoint's secret, at the current time. It accepts the payload when any v1 signature matches
// (a sender rotating secrets signs with both), compares in constant time,
// and refuses a timestamp further than tolerance from the current time,
// past or future. A zero tolerance means DefaultTolerance; a negative one
// skips the timestamp check.
//
// The errors wrap ErrNoSignature, ErrBadHeader, ErrMismatch or ErrTooOld.
// Verify the exact bytes received, before any JSON decoding.
func Verify(payload []byte, header, secret string, tolerance time.Duration) error {
	return VerifyAt(payload, header, secret, tolerance, time.Now())
}

// VerifyAt is Verify with now as the current time: for a receiver's tests
// with a clock of their own.
func VerifyAt(payload []byte, header, secret string, tolerance time.Duration, now time.Time) error {
	h, err := ParseHeader(header)
	if err != nil {
		return err
	}
	want := stripeMAC(secret, strconv.FormatInt(h.Timestamp, 10), payload)
	matched := false
	for _, sig := range h.Signatures {
		if hmac.Equal(sig, want) {
			matched = true
		}
	}
	if !matched {
		return ErrMismatch
	}
	return checkAge(h.Timestamp, tolerance, now)
}

func checkAge(ts int64, tolerance time.Duration, now time.Time) error {
	if tolerance < 0 {
		return nil
	}
	if tolerance == 0 {
		tolerance = DefaultTolerance
	}
	d := now.Sub(time.Unix(ts, 0))
	if d > tolerance {
		return fmt.Errorf("%w: signed %s ago", ErrTooOld, d.Truncate(time.Second))
	}
	if -d > tolerance {
		return fmt.Errorf("%w: signed %s in the future", ErrTooOld, (-d).Truncate(time.Second))
	}
	return nil
}

// standardKey decodes a whsec_ secret into the HMAC key that the Standard
// Webhooks scheme uses: the base64 bytes after the prefix.
func standardKey(secret string) ([]byte, error) {
	s := strings.TrimPrefix(secret, SecretPrefix)
	k, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(k) == 0 {
		return nil, fmt.Errorf("%w: the part after %q must be standard base64", ErrBadSecret, SecretPrefix)
	}
	return k, nil
}

// SignStandard returns the Standard Webhooks headers (webhook-id,
// webhook-timestamp, webhook-signature) for payload, where the signature is
// "v1," and the base64 HMAC-SHA256 of "id.timestamp.payload" keyed with the
// base64-decoded part of the secret after "whsec_".
func SignStandard(secret, id string, t time.Time, payload []byte) (http.Header, error) {
	key, err := standardKey(secret)
	if err != nil {
		return nil, err
	}
	ts := strconv.FormatInt(t.Unix(), 10)
	h := http.Header{}
	h.Set(StandardID, id)
	h.Set(StandardTimestamp, ts)
	h.Set(StandardSignature, "v1,"+base64.StdEncoding.EncodeToString(standardMAC(key, id, ts, payload)))
	return h, nil
}

func standardMAC(key []byte, id, ts string, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(payload)
	return m.Sum(nil)
}

// VerifyStandard checks Standard Webhooks headers against the payload and
// secret, with the same rules and errors as Verify. The signature header
// may hold several space-separated "v1,<base64>" entries; entries of other
// versions are skipped.
func VerifyStandard(payload []byte, h http.Header, secret string, tolerance time.Duration) error {
	return VerifyStandardAt(payload, h, secret, tolerance, time.Now())
}

// VerifyStandardAt is VerifyStandard with now as the current time.
func VerifyStandardAt(payload []byte, h http.Header, secret string, tolerance time.Duration, now time.Time) error {
	id, ts, sigs := h.Get(StandardID), h.Get(StandardTimestamp), h.Get(StandardSignature)
	if strings.TrimSpace(sigs) == "" {
		return ErrNoSignature
	}
	if id == "" || len(id)+len(ts)+len(sigs) > maxHeader {
		return fmt.Errorf("%w: missing %s or too long", ErrBadHeader, StandardID)
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("%w: %s %q is not a positive integer", ErrBadHeader, StandardTimestamp, clip(ts))
	}
	key, err := standardKey(secret)
	if err != nil {
		return err
	}
	want := standardMAC(key, id, ts, payload)
	found, matched := false, false
	for entry := range strings.FieldsSeq(sigs) {
		ver, sig, ok := strings.Cut(entry, ",")
		if !ok {
			return fmt.Errorf("%w: entry %q has no ','", ErrBadHeader, clip(entry))
		}
		if ver != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err != nil {
			return fmt.Errorf("%w: v1 signature %q is not base64", ErrBadHeader, clip(sig))
		}
		found = true
		if hmac.Equal(got, want) {
			matched = true
		}
	}
	if !found {
		return ErrNoSignature
	}
	if !matched {
		return ErrMismatch
	}
	return checkAge(n, tolerance, now)
}

// NewSecret returns a fresh signing secret: "whsec_" followed by the
// standard base64 of 24 random bytes. It serves both schemes.
func NewSecret() string {
	var raw [24]byte
	rand.Read(raw[:])
	return SecretPrefix + base64.StdEncoding.EncodeToString(raw[:])
}
