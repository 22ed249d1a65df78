package shadow_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/shadow"
)

// TestCompareBlamesNestedMembers checks a nest op that moves every member
// of its wrapper is seen to touch the members it moved, not the wrapper
// alone: in versions before it they are fields beside the wrapper, named
// nowhere in the op. The new timeline wraps a user's billing members in
// billing.address, and a profile's every field in its top-level details,
// and adds phone, on both; the differences at the moved members are
// blamed on the nest alone, phone's on the added field.
func TestCompareBlamesNestedMembers(t *testing.T) {
	const base = `
versions:
  - version: 2024-06-01
    changes:
      - id: name_renamed
        description: "name is full_name."
        resources: [user, profile]
        ops: [{rename: {field: full_name, was: name}}]
%s
  - version: 2024-01-01
`
	load := func(name, extra string) *gates.Timeline {
		tl, err := gates.Load(name, []byte(strings.Replace(base, "%s", extra, 1)), nil)
		if err != nil {
			t.Fatal(err)
		}
		return tl
	}
	oldTL := load("old.yaml", "")
	newTL := load("new.yaml", `      - id: billing_address
        description: "The billing address is an object of its own."
        resources: [user]
        ops: [{nest: {field: billing.address}}]
      - id: profile_details
        description: "A profile's fields are in details."
        resources: [profile]
        ops: [{nest: {field: details}}]
      - id: phone_added
        description: "phone is new."
        resources: [user, profile]
        ops: [{added: {field: phone}}]`)
	samples := []shadow.Sample{
		{Name: "user.json", Type: "user", Body: []byte(`{"object":"user","id":"u_1","full_name":"Ana","phone":"+33 1","billing":{"vat":"FR1","address":{"city":"Lyon","zip":"69001"}}}`)},
		{Name: "profile.json", Type: "profile", Body: []byte(`{"object":"profile","id":"p_1","phone":"+33 1","details":{"bio":"Hi","site":"ana.example"}}`)},
	}
	r, err := shadow.Compare(oldTL, newTL, samples, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{ // object.field: the edits blamed
		"user.billing.address": "billing_address",
		"user.billing.city":    "billing_address",
		"user.billing.zip":     "billing_address",
		"user.phone":           "phone_added",
		// Every field beside a top-level wrapper may have been one of
		// its members: phone too.
		"profile.details": "profile_details",
		"profile.bio":     "profile_details",
		"profile.site":    "profile_details",
		"profile.phone":   "profile_details,phone_added",
	}
	got := map[string]string{}
	for _, f := range r.Findings {
		got[f.Object+"."+f.Field] = strings.Join(f.Changes, ",")
	}
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("no finding at %s; findings: %v", k, got)
		case !sameSet(g, w):
			t.Errorf("%s blamed on %q, want %q", k, g, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("findings %v, want %v", got, want)
	}
}

// sameSet reports whether two comma-separated lists hold the same items.
func sameSet(a, b string) bool {
	x, y := strings.Split(a, ","), strings.Split(b, ",")
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// TestCompareNestMembersCovered checks a nest naming its members needs a
// sample holding each of them: the wrapper alone, with a member no sample
// has, leaves that member uncovered where it was before the change.
func TestCompareNestMembersCovered(t *testing.T) {
	const tl = `
versions:
  - version: 2024-06-01
    changes:
      - id: address
        description: "city and zip are in address."
        resources: [user]
        ops: [{nest: {field: address%s}}]
  - version: 2024-01-01
`
	oldTL, err := gates.Load("old.yaml", []byte(strings.Replace(tl, "%s", ", fields: [city]", 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	newTL, err := gates.Load("new.yaml", []byte(strings.Replace(tl, "%s", ", fields: [city, zip]", 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	samples := []shadow.Sample{{Name: "user.json", Type: "user", Body: []byte(`{"object":"user","id":"u_1","address":{"city":"Lyon"}}`)}}
	r, err := shadow.Compare(oldTL, newTL, samples, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range r.Uncovered {
		got = append(got, u.Change+" ("+u.Resource+") "+u.Field+" at "+u.Version.String())
	}
	if want := "address (user) zip at 2024-01-01"; strings.Join(got, "\n") != want {
		t.Errorf("uncovered:\n%s\nwant\n%s", strings.Join(got, "\n"), want)
	}
	if !r.Failed() {
		t.Error("an edit no sample covers passed")
	}
}
