package transform_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

var (
	rvNewest = versions.MustParse("2024-01-01")
	rvMiddle = versions.MustParse("2022-11-15")
	rvOld    = versions.MustParse("2020-01-01")
	rvBase   = versions.MustParse("2015-01-01")
)

// fakeStore is what the resolvers of the tests read: refunds by charge and
// charges by payment intent, each with its created time, in the newest
// schema (amounts are strings).
type fakeStore struct {
	mu    sync.Mutex
	calls map[string][][]gates.Ref // resolver -> the refs of each call
	// refunds and charges map a parent id to its children's bodies.
	refunds map[string][]string
	charges map[string][]string
	fail    error
	short   bool // return one value fewer than asked
}

func newFakeStore() *fakeStore {
	return &fakeStore{calls: map[string][][]gates.Ref{}, refunds: map[string][]string{}, charges: map[string][]string{}}
}

func (s *fakeStore) resolver(name string, by map[string][]string, url string) gates.Resolver {
	return func(ctx context.Context, refs []gates.Ref) ([]json.RawMessage, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.calls[name] = append(s.calls[name], slices.Clone(refs))
		if s.fail != nil {
			return nil, s.fail
		}
		out := make([]json.RawMessage, len(refs))
		for i, r := range refs {
			items, ok := by[r.ID]
			if !ok {
				continue // unknown: the default
			}
			var kept []string
			for _, it := range items {
				if r.At == 0 || gjson.Get(it, "created").Int() <= r.At {
					kept = append(kept, it)
				}
			}
			out[i] = embedded(url+r.ID, kept)
		}
		if s.short {
			out = out[:len(out)-1]
		}
		return out, nil
	}
}

func embedded(url string, items []string) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"object":"list","url":%q,"has_more":false,"data":[%s],"total_count":%d}`, url, strings.Join(items, ","), len(items)))
}

// resolveTimeline: at rvNewest amounts became strings (charge, refund);
// at rvMiddle charges stopped embedding refunds and payment intents their
// charges (both resolved); at rvOld a charge's `status` value succeeded
// was paid and `paid_at` was `paid_on`.
func resolveTimeline(t testing.TB, s *fakeStore) *transform.Engine {
	t.Helper()
	reg := gates.NewRegistry()
	require.NoError(t, reg.RegisterResolver("charge_refunds", s.resolver("charge_refunds", s.refunds, "/v1/charges/")))
	require.NoError(t, reg.RegisterResolver("payment_intent_charges", s.resolver("payment_intent_charges", s.charges, "/v1/charges?payment_intent=")))
	list := map[string]any{"object": "list", "data": []any{}, "has_more": false}
	tl, err := gates.NewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: rvNewest, Changes: []gates.Change{{
			ID: "amount_string", Description: "d", Resources: []string{"charge", "refund"},
			Ops: []gates.Op{gates.Retype("amount", gates.Integer, gates.String)},
		}}},
		{ID: rvMiddle, Changes: []gates.Change{
			{ID: "pi_charges", Description: "d", Resources: []string{"payment_intent"},
				Ops: []gates.Op{gates.Added("latest_charge"), gates.RemovedResolved("charges", "payment_intent_charges").WithDefault(list)}},
			{ID: "charge_refunds", Description: "d", Resources: []string{"charge"},
				Ops: []gates.Op{gates.RemovedResolved("refunds", "charge_refunds")}},
		}},
		{ID: rvOld, Changes: []gates.Change{{
			ID: "old_charge", Description: "d", Resources: []string{"charge"},
			Ops: []gates.Op{gates.Enum("status", map[string]string{"succeeded": "paid"}), gates.Rename("paid_at", "paid_on")},
		}}},
		{ID: rvBase},
	}}, &gates.Options{Funcs: reg})
	require.NoError(t, err)
	return transform.New(tl, nil)
}

func charge(id, pi string, created int) string {
	return fmt.Sprintf(`{"id":%q,"object":"charge","amount":"500","status":"succeeded","paid_at":1,"payment_intent":%q,"created":%d}`, id, pi, created)
}

func refund(id, ch string, created int) string {
	return fmt.Sprintf(`{"id":%q,"object":"refund","amount":"100","charge":%q,"created":%d}`, id, ch, created)
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name string
		body string
		to   versions.Version
		// want are gjson paths and the values they must have; calls are
		// the ids each resolver is asked about, call by call.
		want  map[string]string
		calls map[string][]string
	}{
		{
			name: "one charge",
			body: charge("ch_1", "", 10),
			to:   rvBase,
			want: map[string]string{
				"refunds.total_count": "2", "refunds.data.0.id": "re_1", "refunds.data.0.amount": "100",
				"refunds.url": "/v1/charges/ch_1", "status": "paid", "paid_on": "1", "amount": "500",
			},
			calls: map[string][]string{"charge_refunds": {"ch_1"}},
		},
		{
			name: "list: one call for every item",
			body: `{"object":"list","data":[` + charge("ch_1", "", 10) + "," + charge("ch_2", "", 11) + "," + charge("ch_3", "", 12) + `],"has_more":false}`,
			to:   rvBase,
			want: map[string]string{
				"data.0.refunds.total_count": "2", "data.1.refunds.total_count": "1", "data.2.refunds.data.#": "0",
				"data.1.refunds.data.0.amount": "100", "data.0.status": "paid",
			},
			calls: map[string][]string{"charge_refunds": {"ch_1,ch_2,ch_3"}},
		},
		{
			name:  "unknown id: the default, here null",
			body:  `{"object":"list","data":[` + charge("ch_1", "", 10) + "," + charge("ch_9", "", 11) + `]}`,
			to:    rvOld,
			want:  map[string]string{"data.0.refunds.total_count": "2", "data.1.refunds": "null"},
			calls: map[string][]string{"charge_refunds": {"ch_1,ch_9"}},
		},
		{
			name:  "a field already there is kept and not asked for",
			body:  `{"id":"ch_1","object":"charge","amount":"1","refunds":{"object":"list","data":[]}}`,
			to:    rvOld,
			want:  map[string]string{"refunds.data.#": "0"},
			calls: map[string][]string{},
		},
		{
			name:  "no id: the default",
			body:  `{"object":"charge","amount":"1"}`,
			to:    rvOld,
			want:  map[string]string{"refunds": "null"},
			calls: map[string][]string{},
		},
		{
			name:  "the same charge twice: asked once, put back twice",
			body:  `{"object":"thing","a":` + charge("ch_1", "", 1) + `,"b":[` + charge("ch_1", "", 1) + `]}`,
			to:    rvOld,
			want:  map[string]string{"a.refunds.total_count": "2", "b.0.refunds.total_count": "2", "b.0.refunds.data.1.id": "re_2"},
			calls: map[string][]string{"charge_refunds": {"ch_1"}},
		},
		{
			name: "payment intent: its charges, then their refunds, one round each",
			body: `{"object":"list","data":[{"id":"pi_1","object":"payment_intent","latest_charge":"ch_1"},{"id":"pi_2","object":"payment_intent","latest_charge":null}]}`,
			to:   rvBase,
			want: map[string]string{
				"data.0.charges.data.#": "2", "data.0.charges.data.0.id": "ch_1", "data.0.charges.data.0.status": "paid",
				"data.0.charges.data.0.amount": "500", "data.0.charges.data.0.refunds.total_count": "2",
				"data.0.charges.data.1.refunds.data.0.id": "re_3", "data.1.charges.data.#": "0", "data.0.latest_charge": "",
			},
			calls: map[string][]string{"payment_intent_charges": {"pi_1,pi_2"}, "charge_refunds": {"ch_1,ch_2"}},
		},
		{
			name: "an event's object as it was when the event happened",
			body: `{"object":"list","data":[{"id":"evt_1","object":"event","created":15,"data":{"object":{"id":"pi_1","object":"payment_intent"}}},` +
				`{"id":"evt_2","object":"event","created":100,"data":{"object":` + charge("ch_1", "pi_1", 10) + `}}]}`,
			to: rvOld,
			want: map[string]string{
				"data.0.data.object.charges.data.#": "1", "data.0.data.object.charges.data.0.refunds.data.#": "1",
				"data.1.data.object.refunds.data.#": "2",
			},
			calls: map[string][]string{"payment_intent_charges": {"pi_1@15"}, "charge_refunds": {"ch_1@100", "ch_1@15"}},
		},
		{
			name:  "newer than the change: nothing asked",
			body:  charge("ch_1", "", 10),
			to:    rvMiddle,
			want:  map[string]string{"refunds": "", "amount": "500"},
			calls: map[string][]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFakeStore()
			s.refunds["ch_1"] = []string{refund("re_1", "ch_1", 20), refund("re_2", "ch_1", 12)}
			s.refunds["ch_2"] = []string{refund("re_3", "ch_2", 30)}
			s.refunds["ch_3"] = nil
			s.charges["pi_1"] = []string{charge("ch_1", "pi_1", 10), charge("ch_2", "pi_1", 20)}
			s.charges["pi_2"] = nil
			e := resolveTimeline(t, s)
			p, err := e.Plan(rvNewest, tt.to)
			require.NoError(t, err)
			for _, apply := range []struct {
				name string
				fn   func([]byte) ([]byte, error)
			}{
				{"ApplyContext", func(b []byte) ([]byte, error) { return p.ApplyContext(context.Background(), b) }},
				{"AppendApplyContext", func(b []byte) ([]byte, error) {
					out, err := p.AppendApplyContext(context.Background(), []byte("xx"), b)
					if err == nil {
						require.Equal(t, "xx", string(out[:2]))
						out = out[2:]
					}
					return out, err
				}},
			} {
				clear(s.calls)
				got, err := apply.fn([]byte(tt.body))
				require.NoError(t, err, apply.name)
				require.True(t, json.Valid(got), "%s: %s", apply.name, got)
				assert.NotContains(t, string(got), `\u0000`, apply.name)
				for path, want := range tt.want {
					v := gjson.GetBytes(got, path)
					if want == "null" {
						assert.True(t, v.Exists() && v.Type == gjson.Null, "%s: %s in %s", apply.name, path, got)
						continue
					}
					assert.Equal(t, want, v.String(), "%s: %s in %s", apply.name, path, got)
				}
				calls := map[string][]string{}
				for name, cs := range s.calls {
					for _, refs := range cs {
						var ids []string
						for _, r := range refs {
							id := r.ID
							if r.At != 0 {
								id += fmt.Sprintf("@%d", r.At)
							}
							ids = append(ids, id)
						}
						calls[name] = append(calls[name], strings.Join(ids, ","))
					}
				}
				assert.Equal(t, tt.calls, calls, apply.name)
			}
		})
	}
}

// TestResolveEqualsAttached checks the resolver walk against what it
// replaces: attaching the real lists to the newest body first, then
// walking it back with the ops' defaults. Both must give the same JSON,
// on random lists of charges, payment intents and events.
func TestResolveEqualsAttached(t *testing.T) {
	s := newFakeStore()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 40 {
		ch := fmt.Sprintf("ch_%d", i)
		for j := range rng.IntN(4) {
			s.refunds[ch] = append(s.refunds[ch], refund(fmt.Sprintf("re_%d_%d", i, j), ch, rng.IntN(100)))
		}
	}
	for i := range 20 {
		pi := fmt.Sprintf("pi_%d", i)
		for j := range rng.IntN(3) {
			s.charges[pi] = append(s.charges[pi], charge(fmt.Sprintf("ch_%d", (i*3+j)%40), pi, rng.IntN(100)))
		}
	}
	e := resolveTimeline(t, s)
	// attach puts the lists in, in the newest schema, as the resolvers
	// would return them.
	var attach func(obj string, at int64) string
	attach = func(obj string, at int64) string {
		id := gjson.Get(obj, "id").String()
		var field string
		var items []string
		var url string
		switch gjson.Get(obj, "object").String() {
		case "charge":
			field, items, url = "refunds", s.refunds[id], "/v1/charges/"
		case "payment_intent":
			field, items, url = "charges", s.charges[id], "/v1/charges?payment_intent="
		case "event":
			sub := attach(gjson.Get(obj, "data.object").Raw, gjson.Get(obj, "created").Int())
			out, err := sjson.SetRaw(obj, "data.object", sub)
			require.NoError(t, err)
			return out
		default:
			return obj
		}
		if gjson.Get(obj, field).Exists() || !known(s, field, id) {
			return obj
		}
		var kept []string
		for _, it := range items {
			if at == 0 || gjson.Get(it, "created").Int() <= at {
				kept = append(kept, attach(it, at))
			}
		}
		out, err := sjson.SetRaw(obj, field, string(embedded(url+id, kept)))
		require.NoError(t, err)
		return out
	}
	nonEmpty := 0
	for n := range 200 {
		var items []string
		for range rng.IntN(8) {
			switch rng.IntN(3) {
			case 0:
				items = append(items, charge(fmt.Sprintf("ch_%d", rng.IntN(45)), "", rng.IntN(100)))
			case 1:
				items = append(items, fmt.Sprintf(`{"id":"pi_%d","object":"payment_intent","latest_charge":null}`, rng.IntN(22)))
			default:
				sub := charge(fmt.Sprintf("ch_%d", rng.IntN(45)), "", 1)
				if rng.IntN(2) == 0 {
					sub = fmt.Sprintf(`{"id":"pi_%d","object":"payment_intent"}`, rng.IntN(22))
				}
				items = append(items, fmt.Sprintf(`{"id":"evt_%d","object":"event","created":%d,"data":{"object":%s}}`, n, 1+rng.IntN(100), sub))
			}
		}
		body := `{"object":"list","data":[` + strings.Join(items, ",") + `]}`
		attached := `{"object":"list","data":[`
		for i, it := range items {
			if i > 0 {
				attached += ","
			}
			attached += attach(it, 0)
		}
		attached += "]}"
		for _, to := range []versions.Version{rvOld, rvBase} {
			p, err := e.Plan(rvNewest, to)
			require.NoError(t, err)
			got, err := p.ApplyContext(context.Background(), []byte(body))
			require.NoError(t, err)
			// Attached lists are present, so the resolve ops leave them;
			// unknown ids get the default both ways.
			want, err := p.ApplyContext(context.Background(), []byte(attached))
			require.NoError(t, err)
			assert.JSONEq(t, string(want), string(got), "%s\n%s", body, attached)
			if gjson.GetBytes(got, "data.#.refunds.data.0.id|0").Exists() || gjson.GetBytes(got, "data.#.charges.data.0.refunds.data.0.id|0").Exists() {
				nonEmpty++
			}
		}
	}
	assert.Greater(t, nonEmpty, 100, "most random lists resolve something")
}

func hasKey(m map[string][]string, k string) bool {
	_, ok := m[k]
	return ok
}

func known(s *fakeStore, field, id string) bool {
	if field == "refunds" {
		return hasKey(s.refunds, id)
	}
	return hasKey(s.charges, id)
}

// TestResolvesWith: a plan names the resolvers its walk may call, those
// of the changes between its versions only.
func TestResolvesWith(t *testing.T) {
	e := resolveTimeline(t, newFakeStore())
	tests := []struct {
		from, to versions.Version
		want     []string // of charge_refunds, payment_intent_charges
	}{
		{rvNewest, rvOld, []string{"charge_refunds", "payment_intent_charges"}},
		{rvNewest, rvBase, []string{"charge_refunds", "payment_intent_charges"}},
		{rvMiddle, rvOld, []string{"charge_refunds", "payment_intent_charges"}},
		{rvNewest, rvMiddle, nil}, // a change is in effect at its own version
		{rvOld, rvBase, nil},
		{rvNewest, rvNewest, nil},
	}
	for _, tt := range tests {
		t.Run(tt.from.String()+"-"+tt.to.String(), func(t *testing.T) {
			p, err := e.Plan(tt.from, tt.to)
			require.NoError(t, err)
			var got []string
			for _, name := range []string{"charge_refunds", "payment_intent_charges", "unknown"} {
				if p.ResolvesWith(name) {
					got = append(got, name)
				}
			}
			assert.Equal(t, tt.want, got)
			assert.Equal(t, len(tt.want) > 0, p.Resolves())
		})
	}
	var none *transform.Plan
	assert.False(t, none.ResolvesWith("charge_refunds"))
}

func TestResolveErrors(t *testing.T) {
	body := []byte(`{"object":"list","data":[` + charge("ch_1", "", 1) + `]}`)
	tests := []struct {
		name  string
		setup func(s *fakeStore)
		want  string
	}{
		{"resolver fails", func(s *fakeStore) { s.fail = errors.New("db down") }, "transform: resolver charge_refunds: db down"},
		{"too few values", func(s *fakeStore) { s.short = true }, "0 values for 1 objects"},
		{"invalid JSON", func(s *fakeStore) { s.refunds["ch_1"] = []string{`{"object":`} }, "charge: resolver charge_refunds: value for ch_1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFakeStore()
			s.refunds["ch_1"] = nil
			tt.setup(s)
			p, err := resolveTimeline(t, s).Plan(rvNewest, rvOld)
			require.NoError(t, err)
			_, err = p.ApplyContext(context.Background(), body)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			out, err := p.AppendApplyContext(context.Background(), []byte("keep"), body)
			require.Error(t, err)
			assert.Equal(t, "keep", string(out), "dst is returned as it was")
		})
	}
}

// TestResolveRoundsBounded: a resolver whose values always hold more
// objects to resolve is called MaxResolveRounds times, then defaults.
func TestResolveRoundsBounded(t *testing.T) {
	calls := 0
	reg := gates.NewRegistry()
	require.NoError(t, reg.RegisterResolver("nest", func(_ context.Context, refs []gates.Ref) ([]json.RawMessage, error) {
		calls++
		out := make([]json.RawMessage, len(refs))
		for i, r := range refs {
			out[i] = json.RawMessage(fmt.Sprintf(`{"id":"%s.x","object":"node"}`, r.ID))
		}
		return out, nil
	}))
	tl, err := gates.NewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: rvNewest, Changes: []gates.Change{{ID: "c", Description: "d", Resources: []string{"node"},
			Ops: []gates.Op{gates.RemovedResolved("child", "nest").WithDefault("end")}}}},
		{ID: rvBase},
	}}, &gates.Options{Funcs: reg})
	require.NoError(t, err)
	p, err := transform.New(tl, nil).Plan(rvNewest, rvBase)
	require.NoError(t, err)
	got, err := p.Apply([]byte(`[{"id":"a","object":"node"},{"id":"b","object":"node"}]`))
	require.NoError(t, err)
	assert.Equal(t, transform.MaxResolveRounds, calls)
	path := "0" + strings.Repeat(".child", transform.MaxResolveRounds)
	assert.Equal(t, "a"+strings.Repeat(".x", transform.MaxResolveRounds), gjson.GetBytes(got, path+".id").String(), "%s", got)
	assert.Equal(t, "end", gjson.GetBytes(got, path+".child").String(), "%s", got)
}

// TestResolveMarkerInBody: strings of the body that look like the
// placeholders are left as they are.
func TestResolveMarkerInBody(t *testing.T) {
	s := newFakeStore()
	s.refunds["ch_1"] = []string{refund("re_1", "ch_1", 1)}
	p, err := resolveTimeline(t, s).Plan(rvNewest, rvOld)
	require.NoError(t, err)
	body := `{"object":"list","data":[` + charge("ch_1", "", 1) + `],"note":"\u0000abc.0","n2":"\\u0000","x":"\u00000123456789abcdef.0"}`
	got, err := p.ApplyContext(context.Background(), []byte(body))
	require.NoError(t, err)
	assert.Equal(t, "\x00abc.0", gjson.GetBytes(got, "note").String())
	assert.Equal(t, "\x000123456789abcdef.0", gjson.GetBytes(got, "x").String())
	assert.Equal(t, "re_1", gjson.GetBytes(got, "data.0.refunds.data.0.id").String())
}

// TestResolveRenamedAfter: an older version renaming the resolved field
// moves the value with it.
func TestResolveRenamedAfter(t *testing.T) {
	reg := gates.NewRegistry()
	require.NoError(t, reg.RegisterResolver("r", func(_ context.Context, refs []gates.Ref) ([]json.RawMessage, error) {
		out := make([]json.RawMessage, len(refs))
		for i := range refs {
			out[i] = json.RawMessage(`[1,2]`)
		}
		return out, nil
	}))
	tl, err := gates.NewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: rvNewest, Changes: []gates.Change{{ID: "c2", Description: "d", Resources: []string{"thing"},
			Ops: []gates.Op{gates.RemovedResolved("items", "r")}}}},
		{ID: rvOld, Changes: []gates.Change{{ID: "c1", Description: "d", Resources: []string{"thing"},
			Ops: []gates.Op{gates.Rename("items", "lines")}}}},
		{ID: rvBase},
	}}, &gates.Options{Funcs: reg})
	require.NoError(t, err)
	e := transform.New(tl, nil)
	got, err := e.Back([]byte(`{"id":"t","object":"thing"}`), rvBase)
	require.NoError(t, err)
	assert.JSONEq(t, `{"id":"t","object":"thing","lines":[1,2]}`, string(got))
	// Requests walked forward drop the field, as for any removed op.
	up, err := e.Upgrade([]byte(`{"items":[3]}`), rvOld, "POST", "/x")
	require.NoError(t, err)
	assert.JSONEq(t, `{"items":[3]}`, string(up), "no change scoped to the endpoint: untouched")
}

// TestResolveConcurrent walks one plan from many goroutines (go test
// -race).
func TestResolveConcurrent(t *testing.T) {
	s := newFakeStore()
	s.refunds["ch_1"] = []string{refund("re_1", "ch_1", 1)}
	s.charges["pi_1"] = []string{charge("ch_1", "pi_1", 1)}
	p, err := resolveTimeline(t, s).Plan(rvNewest, rvOld)
	require.NoError(t, err)
	body := []byte(`{"object":"list","data":[{"id":"pi_1","object":"payment_intent"},` + charge("ch_1", "", 1) + `]}`)
	want, err := p.Apply(body)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				got, err := p.AppendApplyContext(context.Background(), nil, body)
				if !assert.NoError(t, err) || !assert.Equal(t, string(want), string(got)) {
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestResolveFired: a field a resolver puts back counts as its change
// firing, and so do the changes that walk the values back.
func TestResolveFired(t *testing.T) {
	s := newFakeStore()
	s.refunds["ch_1"] = []string{refund("re_1", "ch_1", 1)}
	e := resolveTimeline(t, s)
	p, err := e.Plan(rvNewest, rvMiddle)
	require.NoError(t, err)
	var fired gates.Fired
	_, err = p.ApplyFired([]byte(`{"id":"ch_1","object":"charge","amount":"5"}`), &fired)
	require.NoError(t, err)
	assert.Equal(t, []string{"amount_string"}, fired.IDs(e.Timeline()), "newer than the resolve op: only the retype")
	p, err = e.Plan(rvNewest, rvOld)
	require.NoError(t, err)
	fired.Reset()
	got, err := p.ApplyFired([]byte(`{"id":"ch_1","object":"charge","amount":"5"}`), &fired)
	require.NoError(t, err)
	assert.Equal(t, "re_1", gjson.GetBytes(got, "refunds.data.0.id").String())
	assert.ElementsMatch(t, []string{"amount_string", "charge_refunds"}, fired.IDs(e.Timeline()))
}

// BenchmarkResolve walks a list of 100 charges back with their refunds put
// back by a resolver (an empty list each, as for charges never refunded,
// but one with two refunds), against the same walk with a literal default.
func BenchmarkResolve(b *testing.B) {
	s := newFakeStore()
	var items []string
	for i := range 100 {
		id := fmt.Sprintf("ch_%d", i)
		items = append(items, charge(id, "", i))
		s.refunds[id] = nil
	}
	s.refunds["ch_7"] = []string{refund("re_1", "ch_7", 1), refund("re_2", "ch_7", 2)}
	body := []byte(`{"object":"list","url":"/v1/charges","has_more":false,"data":[` + strings.Join(items, ",") + `]}`)
	// The values made once, so that what is measured is the engine.
	values := map[string]json.RawMessage{}
	for id, rs := range s.refunds {
		values[id] = embedded("/v1/charges/"+id, rs)
	}
	reg := gates.NewRegistry()
	require.NoError(b, reg.RegisterResolver("charge_refunds", func(_ context.Context, refs []gates.Ref) ([]json.RawMessage, error) {
		out := make([]json.RawMessage, len(refs))
		for i, r := range refs {
			out[i] = values[r.ID]
		}
		return out, nil
	}))
	require.NoError(b, reg.RegisterResolver("payment_intent_charges", s.resolver("payment_intent_charges", s.charges, "")))
	rtl, err := gates.NewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: rvNewest, Changes: []gates.Change{{ID: "amount_string", Description: "d", Resources: []string{"charge", "refund"},
			Ops: []gates.Op{gates.Retype("amount", gates.Integer, gates.String)}}}},
		{ID: rvMiddle, Changes: []gates.Change{{ID: "charge_refunds", Description: "d", Resources: []string{"charge"},
			Ops: []gates.Op{gates.RemovedResolved("refunds", "charge_refunds")}}}},
		{ID: rvOld, Changes: []gates.Change{{ID: "old_charge", Description: "d", Resources: []string{"charge"},
			Ops: []gates.Op{gates.Enum("status", map[string]string{"succeeded": "paid"}), gates.Rename("paid_at", "paid_on")}}}},
		{ID: rvBase},
	}}, &gates.Options{Funcs: reg})
	require.NoError(b, err)
	e := transform.New(rtl, nil)
	p, err := e.Plan(rvNewest, rvBase)
	require.NoError(b, err)
	b.Run("resolver", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		var dst []byte
		for range b.N {
			if dst, err = p.AppendApplyContext(context.Background(), dst[:0], body); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The same ops, the refunds put back as a literal.
	tl, err := gates.NewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: rvNewest, Changes: []gates.Change{{ID: "amount_string", Description: "d", Resources: []string{"charge", "refund"},
			Ops: []gates.Op{gates.Retype("amount", gates.Integer, gates.String)}}}},
		{ID: rvMiddle, Changes: []gates.Change{{ID: "charge_refunds", Description: "d", Resources: []string{"charge"},
			Ops: []gates.Op{gates.RemovedDefault("refunds", map[string]any{"object": "list", "data": []any{}, "has_more": false, "total_count": 0})}}}},
		{ID: rvOld, Changes: []gates.Change{{ID: "old_charge", Description: "d", Resources: []string{"charge"},
			Ops: []gates.Op{gates.Enum("status", map[string]string{"succeeded": "paid"}), gates.Rename("paid_at", "paid_on")}}}},
		{ID: rvBase},
	}}, nil)
	require.NoError(b, err)
	lp, err := transform.New(tl, nil).Plan(rvNewest, rvBase)
	require.NoError(b, err)
	b.Run("literal", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		var dst []byte
		for range b.N {
			if dst, err = lp.AppendApply(dst[:0], body); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// FuzzResolve walks arbitrary bytes back with resolvers: it never panics,
// valid JSON comes out valid with no placeholder left in it, and the
// resolvers are called at most MaxResolveRounds times each.
func FuzzResolve(f *testing.F) {
	for _, s := range []string{
		charge("ch_1", "", 1),
		`{"object":"list","data":[` + charge("ch_1", "", 1) + `,{"id":"pi_1","object":"payment_intent"}]}`,
		`{"id":"evt_1","object":"event","created":5,"data":{"object":{"id":"pi_1","object":"payment_intent"},"previous_attributes":{"amount":"1"}}}`,
		`[{"object":"charge","id":7},{"object":"charge","id":"x\u0000y"},{"object":"charge","id":null}]`,
		`{"object":"charge","id":"ch_1","refunds":"\u0000abc.0"}`, `{}`, `[]`, `"x"`,
	} {
		f.Add([]byte(s))
	}
	s := newFakeStore()
	s.refunds["ch_1"] = []string{refund("re_1", "ch_1", 1)}
	s.charges["pi_1"] = []string{charge("ch_1", "pi_1", 1), charge("ch_2", "pi_1", 9)}
	e := resolveTimeline(f, s)
	p, err := e.Plan(rvNewest, rvBase)
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, body []byte) {
		s.mu.Lock()
		clear(s.calls)
		s.mu.Unlock()
		out, err := p.ApplyContext(context.Background(), body)
		if err != nil {
			if json.Valid(body) && e.Valid(body) == nil {
				var te *transform.Error
				if !errors.As(err, &te) {
					t.Fatalf("valid JSON refused: %v\n%s", err, body)
				}
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid output:\nin:  %s\nout: %s", body, out)
		}
		if bytes.Contains(out, []byte(`\u0000`)) && !bytes.Contains(body, []byte(`\u0000`)) {
			t.Fatalf("a placeholder is left:\nin:  %s\nout: %s", body, out)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		for name, calls := range s.calls {
			if len(calls) > transform.MaxResolveRounds {
				t.Fatalf("%s called %d times", name, len(calls))
			}
		}
	})
}
