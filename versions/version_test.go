package versions_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/versions"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string
	}{
		{"2019-10-17", ""},
		{"2024-09-30.acacia", ""},
		{"2024-02-29", ""},
		{"2000-02-29", ""},
		{"2024-09-30.a1_b", ""},
		{"", "want YYYY-MM-DD"},
		{"2019-10-1", "want YYYY-MM-DD"},
		{"2019/10/17", "want YYYY-MM-DD"},
		{"2019-13-01", "month out of range"},
		{"2019-00-01", "month out of range"},
		{"2019-02-29", "day out of range"},
		{"1900-02-29", "day out of range"},
		{"2019-04-31", "day out of range"},
		{"0999-01-01", "year out of range"},
		{"2019-10-17.", "empty release name"},
		{"2019-10-17.Acacia", "release name must be"},
		{"2019-10-17.1a", "release name must be"},
		{"2019-10-17x", "want YYYY-MM-DD"},
		{"2019-10-17.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "longer than 32"},
		{"+019-10-17", "want YYYY-MM-DD"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			v, err := versions.Parse(tt.in)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, versions.ErrSyntax)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.in, v.String())
		})
	}
}

// TestCompare checks every pair of an ordered list.
func TestCompare(t *testing.T) {
	ordered := []string{"2011-01-01", "2014-12-22", "2015-02-18", "2015-02-18.a", "2015-02-18.b", "2019-10-17", "2024-09-30.acacia", "2024-10-28.acacia"}
	for i, a := range ordered {
		for j, b := range ordered {
			va, vb := versions.MustParse(a), versions.MustParse(b)
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			assert.Equal(t, want, versions.Compare(va, vb), "%s vs %s", a, b)
			assert.Equal(t, want < 0, va.Before(vb))
			assert.Equal(t, want > 0, va.After(vb))
		}
	}
	vs := []versions.Version{versions.MustParse("2019-10-17"), versions.MustParse("2011-01-01"), versions.MustParse("2024-09-30.acacia")}
	slices.SortFunc(vs, versions.Compare)
	assert.Equal(t, "2011-01-01", vs[0].String())
}

func TestTextAndSQL(t *testing.T) {
	v := versions.MustParse("2024-09-30.acacia")
	b, err := json.Marshal(map[string]versions.Version{"v": v})
	require.NoError(t, err)
	assert.Equal(t, `{"v":"2024-09-30.acacia"}`, string(b))
	var back map[string]versions.Version
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, v, back["v"])
	require.Error(t, json.Unmarshal([]byte(`{"v":"2024-13-01"}`), &back))

	val, err := v.Value()
	require.NoError(t, err)
	var s versions.Version
	require.NoError(t, s.Scan(val))
	assert.Equal(t, v, s)
	require.NoError(t, s.Scan([]byte("2019-10-17")))
	assert.Equal(t, "2019-10-17", s.String())
	require.Error(t, s.Scan(42))
	var z versions.Version
	zv, err := z.Value()
	require.NoError(t, err)
	assert.Nil(t, zv)
	assert.True(t, z.IsZero())
}

func TestTimeline(t *testing.T) {
	tl, err := versions.NewTimeline(versions.MustParse("2024-09-30.acacia"), versions.MustParse("2019-10-17"), versions.MustParse("2015-02-18"))
	require.NoError(t, err)
	assert.Equal(t, "2024-09-30.acacia", tl.Newest().String())
	assert.Equal(t, "2015-02-18", tl.Base().String())
	assert.Equal(t, 1, tl.Index(versions.MustParse("2019-10-17")))
	_, err = tl.Resolve("2019-10-18")
	require.ErrorIs(t, err, versions.ErrUnknownVersion)
	assert.Contains(t, err.Error(), "supported versions: 2024-09-30.acacia, 2019-10-17, 2015-02-18")
	_, err = tl.Resolve("nope")
	require.ErrorIs(t, err, versions.ErrSyntax)

	_, err = versions.NewTimeline(versions.MustParse("2015-02-18"), versions.MustParse("2019-10-17"))
	require.Error(t, err)
	_, err = versions.NewTimeline(versions.MustParse("2015-02-18"), versions.MustParse("2015-02-18"))
	require.Error(t, err)
	_, err = versions.NewTimeline()
	require.Error(t, err)
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"2019-10-17", "2024-09-30.acacia", "2019-02-29", "x", "2019-10-17.", "9999-12-31.z9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := versions.Parse(s)
		if err != nil {
			return
		}
		if v.String() != s {
			t.Fatalf("Parse(%q).String() = %q", s, v.String())
		}
		w, err := versions.Parse(v.String())
		if err != nil || w != v {
			t.Fatalf("round trip of %q: %v", s, err)
		}
	})
}

func TestPreview(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"2026-11-18.preview", true},
		{"2026-11-18", false},
		{"2026-11-18.previews", false},
		{"2026-11-18.acacia", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, versions.MustParse(tt.in).IsPreview())
		})
	}
}

func TestNewestStable(t *testing.T) {
	tests := []struct {
		name string
		list []string
		want string
	}{
		{"no preview", []string{"2024-09-30.acacia", "2015-02-18"}, "2024-09-30.acacia"},
		{"preview on top", []string{"2026-11-18.preview", "2026-10-28.endive", "2015-02-18"}, "2026-10-28.endive"},
		{"two previews", []string{"2026-11-18.preview", "2026-11-01.preview", "2020-08-27"}, "2020-08-27"},
		{"only previews", []string{"2026-11-18.preview", "2026-11-01.preview"}, "2026-11-18.preview"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl, err := versions.NewTimeline(parseAll(tt.list)...)
			require.NoError(t, err)
			assert.Equal(t, tt.want, tl.NewestStable().String())
		})
	}
}

func TestResolveNearest(t *testing.T) {
	tl, err := versions.NewTimeline(parseAll([]string{"2026-11-18.preview", "2025-03-31.basil", "2024-09-30.acacia", "2023-10-16", "2020-08-27"})...)
	require.NoError(t, err)
	tests := []struct {
		in, want, wantErr string
	}{
		{in: "2023-10-16", want: "2023-10-16"},
		{in: "2024-01-01", want: "2023-10-16"},
		{in: "2024-09-30", want: "2023-10-16"}, // the unnamed date sorts before .acacia
		{in: "2024-09-30.zzz", want: "2024-09-30.acacia"},
		{in: "2025-03-31.basil", want: "2025-03-31.basil"},
		{in: "2026-11-18.preview", want: "2026-11-18.preview"},
		{in: "2026-12-01", want: "2025-03-31.basil"}, // never a preview unasked
		{in: "2026-11-19.preview", want: "2025-03-31.basil"},
		{in: "2020-08-27.acacia", want: "2020-08-27"},
		{in: "2020-08-26", wantErr: "older than the oldest version 2020-08-27"},
		{in: "2020-13-01", wantErr: "month out of range"},
		{in: "latest", wantErr: "want YYYY-MM-DD"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			v, err := tl.ResolveNearest(tt.in)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Contains(t, err.Error(), "supported versions: 2026-11-18.preview, 2025-03-31.basil")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, v.String())
			// Resolve stays strict: only listed versions.
			_, strict := tl.Resolve(tt.in)
			assert.Equal(t, tt.in == tt.want, strict == nil)
		})
	}
	_, err = tl.ResolveNearest("2020-08-26")
	require.ErrorIs(t, err, versions.ErrUnknownVersion)
}

func parseAll(ss []string) []versions.Version {
	out := make([]versions.Version, len(ss))
	for i, s := range ss {
		out[i] = versions.MustParse(s)
	}
	return out
}

// FuzzResolveNearest checks that whatever a client sends, ResolveNearest
// answers a listed version no newer than the one asked for (a preview only
// when asked for exactly), or an error.
func FuzzResolveNearest(f *testing.F) {
	tl, err := versions.NewTimeline(parseAll([]string{"2026-11-18.preview", "2025-03-31.basil", "2023-10-16", "2020-08-27"})...)
	require.NoError(f, err)
	for _, s := range []string{"2024-01-01", "2026-11-18.preview", "2099-12-31", "2020-08-26", "x", "2025-03-31.b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := tl.ResolveNearest(s)
		if err != nil {
			return
		}
		asked := versions.MustParse(s)
		if !tl.Contains(v) || v.After(asked) {
			t.Fatalf("ResolveNearest(%q) = %s", s, v)
		}
		if v.IsPreview() && v != asked {
			t.Fatalf("ResolveNearest(%q) = preview %s", s, v)
		}
	})
}
