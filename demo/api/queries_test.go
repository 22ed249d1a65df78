package api_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/ratelimit"
	"github.com/verso-api/verso/storage/storagetest"
)

// seedPayments confirms n payment intents (each makes a charge) and makes
// refunds refunds on the first refunded charges, in turn, over the API,
// from a few clients at once. It returns the charges, newest first, and
// the payment intents.
func seedPayments(t testing.TB, a *app, n, refunded, refunds int) (charges, intents []string) {
	t.Helper()
	charges, intents = make([]string, n), make([]string, n)
	parallel(t, n, func(i int) error {
		r := a.do(t, a.key, "POST", "/v1/payment_intents", "", fmt.Sprintf("amount=%d&currency=usd&confirm=true&payment_method=tok_visa", 10000+i))
		if r.status != 200 {
			return fmt.Errorf("payment intent: %d %s", r.status, r.body)
		}
		charges[i], intents[i] = r.get("latest_charge").String(), r.get("id").String()
		return nil
	})
	parallel(t, refunds, func(k int) error {
		r := a.do(t, a.key, "POST", "/v1/refunds", "", "amount=1&charge="+charges[k%refunded])
		if r.status != 200 {
			return fmt.Errorf("refund: %d %s", r.status, r.body)
		}
		return nil
	})
	for i, j := 0, n-1; i < j; i, j = i+1, j-1 {
		charges[i], charges[j] = charges[j], charges[i]
		intents[i], intents[j] = intents[j], intents[i]
	}
	return charges, intents
}

// parallel runs fn(0) to fn(n-1) from 4 goroutines.
func parallel(t testing.TB, n int, fn func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	next := make(chan int)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

// TestQueriesPerResponse counts the statements that read objects for each
// response: a list of 1, 5 or 12 items, or one object, costs the same
// number at every version, and still the same once the account holds many
// more objects. It fails if a per-object query (one per charge to find its
// refunds, one per item to expand it) comes back.
//
// At the versions that embed related lists, a list of charges or payment
// intents fetches its items' children along with them: in the same
// statement on PostgreSQL, in a second one on SQLite; the children's own
// children (a payment intent's charges' refunds) cost one more. Objects
// that never had any cost none.
func TestQueriesPerResponse(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		db, reads := openCounted(t, b)
		a := startOn(t, db, api.Config{KeyLimit: ratelimit.Per(1_000_000, time.Hour)})
		// Every charge refunded twice: every item has children.
		charges, intents := seedPayments(t, a, 12, 12, 24)
		measure := func(path, version string) int64 {
			t.Helper()
			before := reads.Load()
			r := a.do(t, a.key, "GET", path, version, "")
			require.Equal(t, 200, r.status, r.body)
			return reads.Load() - before
		}
		type shape struct {
			name string
			one  string // one object, or a list of one
			list string // a list; %d is the limit
		}
		shapes := []shape{
			{"charge", "/v1/charges/" + charges[0], "/v1/charges?limit=%d"},
			{"charge expanded", "/v1/charges/" + charges[0] + "?expand[]=customer&expand[]=refunds&expand[]=payment_intent",
				"/v1/charges?limit=%d&expand[]=data.customer&expand[]=data.refunds&expand[]=data.payment_intent"},
			{"payment intent", "/v1/payment_intents/" + intents[0], "/v1/payment_intents?limit=%d"},
			{"payment intent expanded", "/v1/payment_intents/" + intents[0] + "?expand[]=latest_charge.customer",
				"/v1/payment_intents?limit=%d&expand[]=data.latest_charge.customer"},
			{"refund", "/v1/refunds?limit=1", "/v1/refunds?limit=%d"},
			{"event", "/v1/events?type=payment_intent.succeeded&limit=1", "/v1/events?type=payment_intent.succeeded&limit=%d"},
		}
		counts := map[string]int64{}
		for _, sh := range shapes {
			for _, v := range []string{oldest, "2022-08-01", newest} {
				key := sh.name + " at " + v
				got := []int64{measure(sh.one, v)}
				for _, n := range []int{5, 12} {
					got = append(got, measure(fmt.Sprintf(sh.list, n), v))
				}
				assert.Equal(t, []int64{got[0], got[0], got[0]}, got, "%s: reads of one, 5 and 12", key)
				assert.LessOrEqual(t, got[0], int64(6), key)
				counts[key] = got[0]
			}
		}
		t.Logf("statements reading objects per response: %v", counts)
		// What the old versions' lists cost above the newest's: a charge's
		// refunds, a payment intent's charges, then their refunds.
		extra := map[string]int64{"charge": 1, "payment intent": 2, "event": 2}
		if b.Name == "postgres" {
			// Fetched with the charges, with the payment intents.
			extra["charge"], extra["payment intent"] = 0, 1
		}
		for name, n := range extra {
			assert.Equal(t, counts[name+" at "+newest]+n, counts[name+" at "+oldest], name)
		}

		// Newer payment intents, never refunded: their charges have no
		// refunds, and nothing looks them up.
		seedPayments(t, a, 5, 0, 0)
		none := map[string]int64{"charge": 0, "payment intent": 1}
		if b.Name == "postgres" {
			none["payment intent"] = 0
		}
		for name, n := range none {
			path := map[string]string{"charge": "/v1/charges?limit=5", "payment intent": "/v1/payment_intents?limit=5"}[name]
			assert.Equal(t, measure(path, newest)+n, measure(path, oldest), "%s with no children", name)
		}

		// Many more objects in the account, elsewhere: the same counts.
		seedPayments(t, a, 20, 20, 60)
		for _, sh := range shapes {
			for _, v := range []string{oldest, newest} {
				assert.Equal(t, counts[sh.name+" at "+v], measure(fmt.Sprintf(sh.list, 12), v), "%s at %s, in a bigger account", sh.name, v)
			}
		}
	})
}
