// Package versions provides the API version type and the ordered timeline
// of versions an API supports.
//
// A version is a calendar date with an optional release name:
//
//	version = date [ "." name ]
//	date    = YYYY "-" MM "-" DD     (a valid Gregorian date, year 1000-9999)
//	name    = [a-z] { [a-z0-9_] }    (at most 32 characters)
//
// For example "2019-10-17" and "2024-09-30.acacia". Versions are ordered by
// date; two versions of the same date are ordered by name, an unnamed one
// first. Version is a comparable value: use it as a map key, compare it with
// ==, and sort it with Compare.
//
// A version named "preview" ("9999-12-31.preview", Version.IsPreview) is
// one clients use only by asking for it: Timeline.NewestStable, the version
// a new account is pinned to, and Timeline.ResolveNearest skip previews.
//
// A Timeline lists the versions an API supports, newest first. Its oldest
// version is the base.
package versions
