package webhooks

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/versions"
)

// benchEvent is a customer.updated event of about 1 KB, in the newest schema.
var benchEvent = []byte(`{"id":"evt_1NQxyz2eZvKYlo2C0a1b2c3d","object":"event","type":"customer.updated","api_version":"2024-09-30.acacia","created":1700000000,` +
	`"data":{"object":{"id":"cus_VrsSampleCus1","object":"customer","address":{"city":"Berlin","country":"DE","line1":"Unter den Linden 1","line2":null,"postal_code":"10117","state":null},` +
	`"balance":-1250,"created":1680000000,"currency":"eur","default_source":null,"delinquent":false,"description":"Regular customer","discount":null,` +
	`"email":"ana.sousa@example.com","invoice_prefix":"0759376C","invoice_settings":{"custom_fields":null,"default_payment_method":"pm_1NQ","footer":null,"rendering_options":null},` +
	`"livemode":false,"metadata":{"order_id":"6735","segment":"smb"},"name":"Ana Sousa","next_invoice_sequence":4,"phone":"+4930123456","preferred_locales":["de","en"],` +
	`"shipping":{"address":{"city":"Berlin","country":"DE","line1":"Unter den Linden 1","line2":null,"postal_code":"10117","state":null},"name":"Ana Sousa","phone":null},` +
	`"tax_exempt":"none","test_clock":null},"previous_attributes":{"balance":0,"metadata":{"segment":null}}},"livemode":false,"pending_webhooks":2,"request":{"id":"req_abc","idempotency_key":null}}`)

func benchWorker(b *testing.B) *Worker {
	s := newStore(b, openDB(b, ":memory:"), nil)
	w, err := NewWorker(Config{Store: s, Renderer: fakeRender})
	if err != nil {
		b.Fatal(err)
	}
	return w
}

// BenchmarkRenderAndSign measures what the worker does per delivery
// before the network: render the stored event in the endpoint's version
// (here with fakeRender, one rename, which costs little: the real engine
// will cost more), stamp api_version, and compute the Stripe signature.
// One op is one event sent to every endpoint; events/s is reported.
func BenchmarkRenderAndSign(b *testing.B) {
	w := benchWorker(b)
	all := []versions.Version{vNew, vMid, vOld}
	for _, n := range []int{1, 10} {
		b.Run(strconv.Itoa(n)+"_endpoints", func(b *testing.B) {
			eps := make([]Endpoint, n)
			for i := range eps {
				// Ten endpoints on ten distinct versions, old and new.
				v := all[i%len(all)]
				if i >= len(all) {
					v = versions.MustParse("201" + strconv.Itoa(i%10) + "-0" + strconv.Itoa(1+i%9) + "-15")
				}
				eps[i] = Endpoint{ID: "we_" + strconv.Itoa(i), APIVersion: v, Secret: NewSecret()}
			}
			now := time.Unix(1700000000, 0)
			b.SetBytes(int64(len(benchEvent) * n))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				for i := range eps {
					out, err := w.render(benchEvent, eps[i].APIVersion)
					if err != nil {
						b.Fatal(err)
					}
					_ = Sign(eps[i].Secret, now, out)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkSend adds the HTTP POST to a receiver on 127.0.0.1.
func BenchmarkSend(b *testing.B) {
	w := benchWorker(b)
	rc := newReceiver(b, func(int, *http.Request) int { return http.StatusNoContent })
	ep := &Endpoint{ID: "we_1", URL: rc.URL, APIVersion: vOld, Secret: NewSecret()}
	ctx := context.Background()
	b.SetBytes(int64(len(benchEvent)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := w.send(ctx, ep, benchEvent, ep.APIVersion, 1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWorker measures deliveries through the whole pipeline: claim
// with a lease, render, sign, POST to 127.0.0.1, record the outcome; ten
// endpoints on three versions. Recording the events is not timed.
func BenchmarkWorker(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchWorkerOn(b, openDB(b, b.TempDir()+"/bench.db")) })
	b.Run("postgres", func(b *testing.B) { benchWorkerOn(b, openPostgres(b)) })
}

func benchWorkerOn(b *testing.B, db *storage.DB) {
	ctx := context.Background()
	s := newStore(b, db, nil)
	rc := newReceiver(b, func(int, *http.Request) int { return http.StatusNoContent })
	for i := range 10 {
		v := []versions.Version{vNew, vMid, vOld}[i%3]
		if _, err := s.CreateEndpoint(ctx, EndpointParams{Account: "acct_b", URL: rc.URL, EnabledEvents: []string{"*"}, APIVersion: v}); err != nil {
			b.Fatal(err)
		}
	}
	n := max(b.N/10, 1)
	for range n {
		if err := s.RecordEvent(ctx, nil, Event{Account: "acct_b", Type: "customer.updated", APIVersion: vNew, Object: []byte(gjsonObject)}); err != nil {
			b.Fatal(err)
		}
	}
	cfg := fastConfig(s)
	cfg.Concurrency, cfg.PerEndpoint = 16, 2
	w := mustWorker(b, cfg)
	b.ReportAllocs()
	b.ResetTimer()
	stop := start(b, w)
	for {
		st, err := s.Stats(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if st.Pending == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.StopTimer()
	stop()
	b.ReportMetric(float64(n*10)/b.Elapsed().Seconds(), "deliveries/s")
}

var gjsonObject = `{"id":"cus_VrsSampleCus1","object":"customer","balance":-1250,"email":"ana.sousa@example.com","name":"Ana Sousa","metadata":{"order_id":"6735"}}`
