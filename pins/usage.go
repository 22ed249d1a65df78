package pins

import (
	"cmp"
	"slices"
	"time"

	"github.com/verso-api/verso/versions"
)

// DefaultRetention is how long request counts are kept by default: 90
// days, past the longest window an operator looks back over before
// retiring a version.
const DefaultRetention = 90 * 24 * time.Hour

// Served counts the requests served in one version for one account: ""
// for requests with no account (or refused credentials), and for the
// accounts a Counter had no room left for.
type Served struct {
	Version  versions.Version
	Account  string
	Requests int64
}

// servedKey identifies a count of Served.
type servedKey struct {
	v       versions.Version
	account string
}

// sumServed checks served and sums it per version and per (version,
// account) with an account.
func sumServed(served []Served) (perVersion map[versions.Version]int64, perAccount map[servedKey]int64, err error) {
	perVersion = make(map[versions.Version]int64)
	perAccount = make(map[servedKey]int64)
	for _, s := range served {
		if s.Version.IsZero() {
			return nil, nil, ErrZeroVersion
		}
		if s.Requests <= 0 {
			continue
		}
		perVersion[s.Version] += s.Requests
		if s.Account != "" {
			perAccount[servedKey{s.Version, s.Account}] += s.Requests
		}
	}
	return perVersion, perAccount, nil
}

// day truncates t to its day (UTC), the unit an account's requests are
// counted in.
func day(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }

// sortUsers orders accounts most requests first, then by account, and keeps
// at most limit of them (all when limit <= 0).
func sortUsers(out []Served, limit int) []Served {
	slices.SortFunc(out, func(a, b Served) int {
		if c := cmp.Compare(b.Requests, a.Requests); c != 0 {
			return c
		}
		return cmp.Compare(a.Account, b.Account)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}
