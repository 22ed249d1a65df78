package webhooks

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
	"github.com/verso-api/verso/webhooks/signature"
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

// benchRenderAndSign renders and signs benchEvent for every endpoint of
// eps, as the worker does per delivery: one op is one event sent to all.
func benchRenderAndSign(b *testing.B, w *Worker, eps []Endpoint) {
	now := time.Unix(1700000000, 0)
	b.SetBytes(int64(len(benchEvent) * len(eps)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for i := range eps {
			out, err := w.render(context.Background(), eps[i].Account, benchEvent, eps[i].APIVersion)
			if err != nil {
				b.Fatal(err)
			}
			_ = signature.Sign(eps[i].Secret, now, out)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
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
				eps[i] = Endpoint{ID: "we_" + strconv.Itoa(i), APIVersion: v, Secret: signature.NewSecret()}
			}
			benchRenderAndSign(b, w, eps)
		})
	}
}

// BenchmarkSend adds the HTTP POST to a receiver on 127.0.0.1.
func BenchmarkSend(b *testing.B) {
	w := benchWorker(b)
	rc := newReceiver(b, func(int, *http.Request) int { return http.StatusNoContent })
	ep := &Endpoint{ID: "we_1", URL: rc.URL, APIVersion: vOld, Secret: signature.NewSecret()}
	ctx := context.Background()
	b.SetBytes(int64(len(benchEvent)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := w.send(ctx, ep, benchEvent, ep.APIVersion, 1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWorker measures delivery end to end, as one node does it:
// claim with a lease, render in the endpoint's version with verso's engine
// (testdata/stripe.yaml), sign, POST to a receiver on 127.0.0.1 that
// answers 204 at once, record the outcome. One op is one delivery; b.N
// deliveries are queued for 3 (or 10) endpoints of one account on several
// versions, before the timer starts. The receiver counts every request it
// got, duplicates included: deliveries/s is what it received per second,
// and the benchmark fails unless every (event, endpoint) pair arrived.
//
//	go test ./webhooks -run '^$' -bench 'Worker/postgres' -benchtime 6000x
//
// postgres/3_endpoints_2_nodes runs two workers, each with its own
// connection pool as two servers would have, on the same queue.
func BenchmarkWorker(b *testing.B) {
	for _, eps := range []int{3, 10} {
		b.Run("sqlite/"+strconv.Itoa(eps)+"_endpoints", func(b *testing.B) { benchWorkerOn(b, openDB(b, b.TempDir()+"/bench.db"), eps, 1) })
		b.Run("postgres/"+strconv.Itoa(eps)+"_endpoints", func(b *testing.B) { benchWorkerOn(b, openPostgres(b), eps, 1) })
	}
	b.Run("postgres/3_endpoints_2_nodes", func(b *testing.B) { benchWorkerOn(b, openPostgres(b), 3, 2) })
}

// countingReceiver answers 204 and counts what it got per event and
// endpoint (its URL path).
type countingReceiver struct {
	mu    sync.Mutex
	total int
	got   map[string]int
}

func (c *countingReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get(EventIDHeader)
	c.mu.Lock()
	c.total++
	c.got[r.URL.Path+" "+id]++
	c.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (c *countingReceiver) counts() (total, distinct int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total, len(c.got)
}

func benchWorkerOn(b *testing.B, db *storage.DB, endpoints, nodes int) {
	ctx := context.Background()
	tl, err := gates.LoadFile("../testdata/stripe.yaml", nil)
	if err != nil {
		b.Fatal(err)
	}
	eng := transform.New(tl, nil)
	all := tl.Versions().List()
	s := newStore(b, db, nil)
	rc := &countingReceiver{got: map[string]int{}}
	srv := httptest.NewServer(rc)
	b.Cleanup(srv.Close)
	for i := range endpoints {
		if _, err := s.CreateEndpoint(ctx, EndpointParams{Account: "acct_b", URL: srv.URL + "/" + strconv.Itoa(i),
			EnabledEvents: []string{"*"}, APIVersion: all[i%len(all)]}); err != nil {
			b.Fatal(err)
		}
	}
	n := max(b.N/endpoints, 1)
	for i := 0; i < n; i += 100 {
		err := db.InTx(ctx, func(tx *storage.Tx) error {
			for j := i; j < min(i+100, n); j++ {
				if err := s.RecordEvent(ctx, tx, Event{Account: "acct_b", Type: "customer.updated", APIVersion: tl.Newest(), Object: []byte(gjsonObject)}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	want := n * endpoints
	cfg := Config{Store: s, Renderer: back(eng), PollInterval: 20 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	workers := []*Worker{mustWorker(b, cfg)}
	for range nodes - 1 {
		cfg.Store = newStore(b, openDB(b, db.URL), nil)
		workers = append(workers, mustWorker(b, cfg))
	}
	b.ReportAllocs()
	b.ResetTimer()
	var stops []func()
	for _, w := range workers {
		stops = append(stops, start(b, w))
	}
	stop := func() {
		for _, s := range stops {
			s()
		}
	}
	for {
		if total, _ := rc.counts(); total >= want {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.StopTimer()
	elapsed := b.Elapsed()
	stop()
	total, distinct := rc.counts()
	if distinct != want {
		b.Fatalf("the receiver got %d of %d (event, endpoint) pairs", distinct, want)
	}
	b.ReportMetric(float64(total)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(total-distinct), "duplicates")
}

var gjsonObject = `{"id":"cus_VrsSampleCus1","object":"customer","balance":-1250,"email":"ana.sousa@example.com","name":"Ana Sousa","metadata":{"order_id":"6735"}}`
