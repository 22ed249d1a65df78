package webhooks

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/verso-api/verso/storage"
)

// job is a claimed delivery with what the worker needs to send it.
type job struct {
	id, account, eventID string
	attempts             int
	windowStart          time.Time
	lease                string
	endpoint             Endpoint // with its secret
	body                 []byte   // the stored event
}

// claim leases up to limit due deliveries until leaseUntil under the token
// lease, taking at most perEndpoint[endpoint] from each endpoint (missing
// endpoints get maxPer) and none from the endpoints in full. Rows are taken
// round-robin across endpoints, oldest first within each, so that a backlog
// on one endpoint cannot starve the others. Only the oldest few dozen due
// rows of endpoints not in full are considered, which keeps a claim's cost
// independent of the backlog's size.
//
// A lease is the row's next_attempt_at moved to leaseUntil together with a
// fresh token: another worker sees the row as not due, and a worker that
// dies holding it simply lets the lease run out, after which the row is due
// again (at-least-once). The update is a compare-and-set on the
// next_attempt_at that was read, so two workers never claim the same row.
func (s *Store) claim(ctx context.Context, now, leaseUntil time.Time, lease string, limit, maxPer int, busy map[string]int) ([]job, error) {
	if limit <= 0 {
		return nil, nil
	}
	args := []any{ms(now)}
	var full []string
	for ep, n := range busy {
		if n >= maxPer {
			full = append(full, ep)
		}
	}
	excl := ""
	if len(full) > 0 {
		excl = ` AND endpoint_id NOT IN (?` + strings.Repeat(`, ?`, len(full)-1) + `)`
		for _, ep := range full {
			args = append(args, ep)
		}
	}
	args = append(args, max(64, 4*limit), maxPer, limit+len(busy)*maxPer)
	var out []job
	err := s.db.InTx(ctx, func(tx *storage.Tx) error {
		rows, err := tx.Query(ctx, `SELECT d.id, d.account, d.event_id, d.attempts, d.window_start, d.next_attempt_at,
				e.id, e.account, e.url, e.enabled_events, e.api_version, e.scheme, e.description, e.created_at, e.secret, ev.body
			FROM (SELECT c.*, ROW_NUMBER() OVER (PARTITION BY endpoint_id ORDER BY next_attempt_at, id) AS rn
				FROM (SELECT id, account, event_id, endpoint_id, attempts, window_start, next_attempt_at
					FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= ?`+excl+`
					ORDER BY next_attempt_at LIMIT ?) c) d
			JOIN webhook_endpoints e ON e.id = d.endpoint_id
			JOIN webhook_events ev ON ev.id = d.event_id
			WHERE d.rn <= ?
			ORDER BY d.rn, d.next_attempt_at, d.id
			LIMIT ?`, args...)
		if err != nil {
			return err
		}
		type cand struct {
			job
			next int64
		}
		var cands []cand
		taken := map[string]int{}
		for rows.Next() {
			var (
				c      cand
				window int64
				secret string
				body   string
			)
			ep, err := scanEndpoint(scanFunc(func(dest ...any) error {
				return rows.Scan(append([]any{&c.id, &c.account, &c.eventID, &c.attempts, &window, &c.next}, dest...)...)
			}), &secret, &body)
			if err != nil {
				rows.Close()
				return err
			}
			if busy[ep.ID]+taken[ep.ID] >= maxPer || len(cands) >= limit {
				continue
			}
			taken[ep.ID]++
			ep.Secret = secret
			c.endpoint = *ep
			c.body = []byte(body)
			c.windowStart = fromMS(window)
			c.lease = lease
			cands = append(cands, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, c := range cands {
			res, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET next_attempt_at = ?, lease = ?
				WHERE id = ? AND state = 'pending' AND next_attempt_at = ?`, ms(leaseUntil), lease, c.id, c.next)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				out = append(out, c.job)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("webhooks: claim deliveries: %w", err)
	}
	return out, nil
}

type scanFunc func(...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// outcome is how one attempt ended.
type outcome struct {
	state  DeliveryState // pending (retry), delivered or failed
	next   time.Time     // when pending: the next attempt
	status int
	err    string
}

// finish records an attempt's outcome if the worker still holds the lease.
// It reports false when the lease was lost (it ran out and another worker
// took the delivery, or the endpoint was deleted).
func (s *Store) finish(ctx context.Context, j job, now time.Time, o outcome) (bool, error) {
	next := o.next
	if o.state != StatePending {
		next = now
	}
	if len(o.err) > 500 {
		o.err = o.err[:500]
	}
	res, err := s.db.Exec(ctx, `UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1, next_attempt_at = ?, lease = '',
			last_status = ?, last_error = ?, updated_at = ?
		WHERE id = ? AND lease = ?`, string(o.state), ms(next), o.status, o.err, ms(now), j.id, j.lease)
	if err != nil {
		return false, fmt.Errorf("webhooks: record attempt: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// release gives a claimed delivery back, due at once, without counting an
// attempt: the worker is stopping.
func (s *Store) release(ctx context.Context, j job, now time.Time) error {
	_, err := s.db.Exec(ctx, `UPDATE webhook_deliveries SET next_attempt_at = ?, lease = '' WHERE id = ? AND lease = ?`, ms(now), j.id, j.lease)
	if err != nil {
		return fmt.Errorf("webhooks: release delivery: %w", err)
	}
	return nil
}
