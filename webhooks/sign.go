package webhooks

import (
	"crypto/hmac"
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

// SignatureHeader is the header that carries a Stripe-style signature.
const SignatureHeader = "Stripe-Signature"

// The headers of the Standard Webhooks scheme.
const (
	StandardIDHeader        = "webhook-id"
	StandardTimestampHeader = "webhook-timestamp"
	StandardSignatureHeader = "webhook-signature"
)

// SecretPrefix starts every signing secret.
const SecretPrefix = "whsec_"

// Errors returned by Verify and VerifyStandard.
var (
	ErrNoSignature = errors.New("webhooks: no signature")
	ErrBadHeader   = errors.New("webhooks: malformed signature header")
	ErrMismatch    = errors.New("webhooks: no signature matches the payload")
	ErrTooOld      = errors.New("webhooks: timestamp outside the tolerance")
	ErrBadSecret   = errors.New("webhooks: malformed secret")
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

// Header is a parsed Stripe-Signature header.
type Header struct {
	Timestamp  int64    // the t= value, in Unix seconds
	Signatures [][]byte // the decoded v1= values, in order
}

// ParseHeader parses a Stripe-Signature header value. Entries other than
// t and v1 (such as v0) are skipped; a v1 entry that is not hex, a missing
// or repeated t, or an entry without "=" is ErrBadHeader. A header with a
// timestamp but no v1 entry is ErrNoSignature.
func ParseHeader(header string) (Header, error) {
	var h Header
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
			return Header{}, fmt.Errorf("%w: entry %q has no '='", ErrBadHeader, clip(item))
		}
		switch k {
		case "t":
			if seenT {
				return Header{}, fmt.Errorf("%w: more than one timestamp", ErrBadHeader)
			}
			seenT = true
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return Header{}, fmt.Errorf("%w: timestamp %q is not a positive integer", ErrBadHeader, clip(v))
			}
			h.Timestamp = n
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				return Header{}, fmt.Errorf("%w: v1 signature %q is not 64 hex digits", ErrBadHeader, clip(v))
			}
			h.Signatures = append(h.Signatures, sig)
		}
	}
	if !seenT {
		return Header{}, fmt.Errorf("%w: no timestamp", ErrBadHeader)
	}
	if len(h.Signatures) == 0 {
		return Header{}, ErrNoSignature
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
// endpoint's secret. It accepts the payload when any v1 signature matches
// (a sender rotating secrets signs with both), compares in constant time,
// and refuses a timestamp further than tolerance from the current time,
// past or future. A zero tolerance means DefaultTolerance; a negative one
// skips the timestamp check.
//
// The errors wrap ErrNoSignature, ErrBadHeader, ErrMismatch or ErrTooOld.
// Verify the exact bytes received, before any JSON decoding.
func Verify(payload []byte, header, secret string, tolerance time.Duration) error {
	return verifyAt(payload, header, secret, tolerance, time.Now())
}

func verifyAt(payload []byte, header, secret string, tolerance time.Duration, now time.Time) error {
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
	h.Set(StandardIDHeader, id)
	h.Set(StandardTimestampHeader, ts)
	h.Set(StandardSignatureHeader, "v1,"+base64.StdEncoding.EncodeToString(standardMAC(key, id, ts, payload)))
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
	return verifyStandardAt(payload, h, secret, tolerance, time.Now())
}

func verifyStandardAt(payload []byte, h http.Header, secret string, tolerance time.Duration, now time.Time) error {
	id, ts, sigs := h.Get(StandardIDHeader), h.Get(StandardTimestampHeader), h.Get(StandardSignatureHeader)
	if strings.TrimSpace(sigs) == "" {
		return ErrNoSignature
	}
	if id == "" || len(id)+len(ts)+len(sigs) > maxHeader {
		return fmt.Errorf("%w: missing %s or too long", ErrBadHeader, StandardIDHeader)
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("%w: %s %q is not a positive integer", ErrBadHeader, StandardTimestampHeader, clip(ts))
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
