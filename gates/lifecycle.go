package gates

import (
	"fmt"
	"time"

	"github.com/verso-api/verso/versions"
)

// SunsetPolicy says what happens to a request for a version past its sunset
// date.
type SunsetPolicy uint8

// The sunset policies.
const (
	// SunsetServe keeps serving the version after its sunset date, with
	// its Deprecation and Sunset headers. It is the default.
	SunsetServe SunsetPolicy = iota
	// SunsetRefuse refuses requests for the version from its sunset date
	// on, with an error that names the version to move to.
	SunsetRefuse
)

var sunsetPolicyNames = [...]string{SunsetServe: "serve", SunsetRefuse: "refuse"}

func (p SunsetPolicy) String() string {
	if int(p) < len(sunsetPolicyNames) {
		return sunsetPolicyNames[p]
	}
	return fmt.Sprintf("SunsetPolicy(%d)", p)
}

// ParseSunsetPolicy parses "serve" or "refuse".
func ParseSunsetPolicy(s string) (SunsetPolicy, error) {
	for p, n := range sunsetPolicyNames {
		if n == s {
			return SunsetPolicy(p), nil
		}
	}
	return 0, fmt.Errorf("unknown after_sunset policy %q (want serve or refuse)", s)
}

// Lifecycle is where a version stands: deprecated or not, its sunset date,
// and the version its clients should move to.
type Lifecycle struct {
	// Deprecated is the date from which the version is deprecated; zero
	// when it is not.
	Deprecated time.Time
	// Sunset is the date from which the version may stop being served;
	// zero when it has none.
	Sunset time.Time
	// Successor is the version to move to: the oldest newer version that is
	// not deprecated (the newest version when every newer one is). It is
	// zero for a version that is not deprecated.
	Successor versions.Version
	// Policy is what happens after the sunset date.
	Policy SunsetPolicy
}

// IsDeprecated reports whether the version is marked deprecated (from a
// date that may be in the future).
func (l Lifecycle) IsDeprecated() bool { return !l.Deprecated.IsZero() }

// Refused reports whether requests for the version are refused at time now:
// the version has a sunset date, now is at or past it, and the policy is
// SunsetRefuse.
func (l Lifecycle) Refused(now time.Time) bool {
	return l.Policy == SunsetRefuse && !l.Sunset.IsZero() && !now.Before(l.Sunset)
}

// AfterSunset returns the timeline's policy for versions past their sunset.
func (t *Timeline) AfterSunset() SunsetPolicy { return t.after }

// Lifecycle returns the deprecation and sunset of version v; the zero
// Lifecycle (with the timeline's policy) for a version that is not
// deprecated or not on the timeline.
func (t *Timeline) Lifecycle(v versions.Version) Lifecycle {
	if i, ok := t.index[v]; ok {
		return t.lifecycles[i]
	}
	return Lifecycle{Policy: t.after}
}

// checkLifecycle validates a version's deprecation and sunset dates.
func checkLifecycle(v Version, newest bool, errs *ErrorList) {
	if v.Deprecated.IsZero() && v.Sunset.IsZero() {
		return
	}
	switch {
	case newest:
		errs.add(v.Pos, "", "version %s is the newest and cannot be deprecated or sunset: there would be no version to move to", v.ID)
	case v.Deprecated.IsZero():
		errs.add(v.Pos, "", "version %s has a sunset but is not deprecated: give `deprecated` too", v.ID)
	case !v.Sunset.IsZero() && v.Sunset.Before(v.Deprecated):
		errs.add(v.Pos, "", "version %s: sunset %s is before its deprecation %s", v.ID, v.Sunset.Format(time.DateOnly), v.Deprecated.Format(time.DateOnly))
	}
}

func (t *Timeline) compileLifecycles() {
	t.lifecycles = make([]Lifecycle, len(t.list))
	for i, v := range t.list {
		l := Lifecycle{Deprecated: v.Deprecated, Sunset: v.Sunset, Policy: t.after}
		if l.IsDeprecated() {
			l.Successor = t.list[0].ID
			for j := i - 1; j >= 0; j-- {
				if t.list[j].Deprecated.IsZero() {
					l.Successor = t.list[j].ID
					break
				}
			}
		}
		t.lifecycles[i] = l
	}
}

// parseDate parses a deprecation or sunset date: YYYY-MM-DD (midnight UTC)
// or an RFC 3339 time.
func parseDate(s string) (time.Time, error) {
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return d, nil
	}
	d, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q: want YYYY-MM-DD or an RFC 3339 time", s)
	}
	return d.UTC(), nil
}
