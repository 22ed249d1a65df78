package ratelimit

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkAllow measures the middleware on the path every request takes:
// identify, find the route's limit, take a token, set the headers.
func BenchmarkAllow(b *testing.B) {
	for _, bc := range []struct {
		name    string
		headers bool
		routes  map[string]Limit
	}{
		{"default", true, nil},
		{"route", true, map[string]Limit{"POST /v1/charges": {Rate: 1e9, Burst: 1 << 20}}},
		{"no-headers", false, nil},
	} {
		b.Run(bc.name, func(b *testing.B) {
			mw, err := Config{
				Identifier:     func(*http.Request) (string, error) { return "sk_test_bench", nil },
				Default:        Limit{Rate: 1e9, Burst: 1 << 20},
				Routes:         bc.routes,
				DisableHeaders: !bc.headers,
			}.ToMiddleware()
			if err != nil {
				b.Fatal(err)
			}
			h := mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "/v1/charges", nil)
			req.Pattern = "POST /v1/charges"
			b.ReportAllocs()
			for b.Loop() {
				clear(rec.Header())
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatal(rec.Code)
				}
			}
		})
	}
}

// BenchmarkMemoryStoreTake measures the store alone, from all cores, over
// 10,000 keys.
func BenchmarkMemoryStoreTake(b *testing.B) {
	s := NewMemoryStore(nil)
	keys := make([]Key, 10000)
	for i := range keys {
		keys[i] = Key{Scope: "key", ID: fmt.Sprint("sk_test_", i)}
	}
	l := Limit{Rate: 1e9, Burst: 1 << 20}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := s.Take(context.Background(), keys[i%len(keys)], l); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
