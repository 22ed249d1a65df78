package api_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/ratelimit"
	"github.com/verso-api/verso/storage/storagetest"
	"github.com/verso-api/verso/versions"
)

// walkRounds is how many times BenchmarkDemoWalk runs each case per
// iteration, taking turns.
const walkRounds = 41

// BenchmarkDemoWalk measures, in the process and apart from the server,
// what BenchmarkOldVersions's walk costs: the demo's own list of 100
// charges (74 KB of compact JSON), as the newest version serves it, walked
// back with the demo's timeline to 2022-11-15, 2022-08-01 and 2014-12-22
// (the resolvers asked with no account, so they put back their defaults:
// what is measured is the engine), in gjson.Valid scans of the same bytes.
// The cases take turns, each time being that of its fastest round, as in
// server's BenchmarkCost, whose engine/valid it is to be compared with:
//
//	go test -run '^$' -bench DemoWalk -benchtime 1x ./demo/api/
func BenchmarkDemoWalk(b *testing.B) {
	unlimited := ratelimit.Per(1_000_000, time.Hour)
	db, _ := storagetest.Backends()[0].Open(b)
	a := startOn(b, db, api.Config{KeyLimit: unlimited, IPLimit: unlimited})
	seedPayments(b, a, 100, 0, 0)
	r := a.do(b, a.key, "GET", "/v1/charges?limit=100", newest, "")
	body := []byte(r.body)
	if r.status != 200 || len(gjson.GetBytes(body, "data").Array()) != 100 {
		b.Fatalf("list: %d %.200s", r.status, body)
	}
	cases := []costCase{{"valid", func() { gjson.ValidBytes(body) }}}
	var out []byte
	for _, v := range []string{"2022-11-15", "2022-08-01", oldest} {
		p, err := a.Engine.ResponsePlan(versions.MustParse(newest), versions.MustParse(v), "GET", "/v1/charges")
		if err != nil {
			b.Fatal(err)
		}
		got, err := p.AppendApplyContext(context.Background(), nil, body)
		if err != nil || gjson.GetBytes(got, "data.0.amount").Type != gjson.Number {
			b.Fatalf("%s: %v %.200s", v, err, got)
		}
		cases = append(cases, costCase{v, func() { out, _ = p.AppendApplyContext(context.Background(), out[:0], body) }})
	}
	times := make([][]float64, len(cases))
	const k = 20 // about 2 ms a case, then the next
	for b.Loop() {
		for range walkRounds {
			for i, c := range cases {
				t0 := time.Now()
				for range k {
					c.run()
				}
				times[i] = append(times[i], float64(time.Since(t0).Nanoseconds())/k)
			}
		}
	}
	valid := slices.Min(times[0])
	for i, c := range cases[1:] {
		b.ReportMetric(slices.Min(times[i+1])/valid, c.name+"/valid")
	}
	b.ReportMetric(valid/1000, "valid-µs")
}

// costCase is one thing BenchmarkDemoWalk times.
type costCase struct {
	name string
	run  func()
}
