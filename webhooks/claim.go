package webhooks

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/verso-api/verso/storage"
)

// job is a claimed delivery with what the worker needs to send it.
type job struct {
	id, account, eventID string
	attempt              int // this attempt's number, counted when claimed
	windowStart          time.Time
	lease                string
	leaseUntil           time.Time
	endpoint             Endpoint // with its secrets
	body                 []byte   // the stored event
}

// caps bounds what one claim may take: in all, per endpoint and per
// account, given what the worker already has in flight.
type caps struct {
	limit       int // deliveries to claim at most
	perEndpoint int
	perAccount  int
	busyEP      map[string]int // in flight per endpoint
	busyAcct    map[string]int // in flight per account
}

// claim leases due deliveries until leaseUntil under the token lease,
// within c.
//
// Fairness: the endpoints and accounts already at their cap are left out of
// the scan, so the rows it looks at are ones the worker may take; among the
// oldest due rows it takes them round-robin, first across accounts and then
// across each account's endpoints, so that a backlog of one account or one
// endpoint cannot starve the others. Only the oldest few hundred due rows
// are looked at, which keeps a claim's cost independent of the backlog.
// Deliveries of disabled endpoints stay pending and are not claimed.
//
// A lease is the row's next_attempt_at moved to leaseUntil with a fresh
// token and the attempt counted: another worker sees the row as not due,
// and a worker that dies holding it lets the lease run out, after which the
// row is due again (at least once) and the next attempt has the next
// number. The rows are taken by one UPDATE whose PostgreSQL form locks them
// with FOR UPDATE SKIP LOCKED in id order: a row another node is taking is
// skipped, never waited for, so claims on several nodes cannot deadlock;
// and the update re-checks that the row is still due, so two workers never
// claim the same row.
func (s *SQLStore) claim(ctx context.Context, now, leaseUntil time.Time, lease string, c caps) ([]job, error) {
	if c.limit <= 0 {
		return nil, nil
	}
	args := []any{ms(now)}
	excl := ""
	if full := fullKeys(c.busyEP, c.perEndpoint); len(full) > 0 {
		excl += ` AND d.endpoint_id NOT IN (?` + strings.Repeat(`, ?`, len(full)-1) + `)`
		args = append(args, full...)
	}
	if full := fullKeys(c.busyAcct, c.perAccount); len(full) > 0 {
		excl += ` AND d.account NOT IN (?` + strings.Repeat(`, ?`, len(full)-1) + `)`
		args = append(args, full...)
	}
	args = append(args, max(64, 2*c.limit))
	rows, err := s.db.Query(ctx, `SELECT id, account, endpoint_id FROM (
			SELECT c.*,
				ROW_NUMBER() OVER (PARTITION BY account ORDER BY next_attempt_at, id) AS rn_acct,
				ROW_NUMBER() OVER (PARTITION BY endpoint_id ORDER BY next_attempt_at, id) AS rn_ep
			FROM (SELECT d.id, d.account, d.endpoint_id, d.next_attempt_at
				FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
				WHERE d.state = 'pending' AND d.next_attempt_at <= ? AND e.status = 'enabled'`+excl+`
				ORDER BY d.next_attempt_at LIMIT ?) c) r
		ORDER BY rn_ep, rn_acct, next_attempt_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("webhooks: claim deliveries: %w", err)
	}
	var ids []any
	takenEP, takenAcct := map[string]int{}, map[string]int{}
	for rows.Next() && len(ids) < c.limit {
		var id, acct, ep string
		if err := rows.Scan(&id, &acct, &ep); err != nil {
			rows.Close()
			return nil, fmt.Errorf("webhooks: claim deliveries: %w", err)
		}
		if c.busyEP[ep]+takenEP[ep] >= c.perEndpoint || c.busyAcct[acct]+takenAcct[acct] >= c.perAccount {
			continue
		}
		takenEP[ep]++
		takenAcct[acct]++
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("webhooks: claim deliveries: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	in := `?` + strings.Repeat(`, ?`, len(ids)-1)
	if s.db.Dialect == storage.Postgres {
		// One round trip: take the rows, then read what sending needs.
		args = append([]any{ms(leaseUntil), lease}, ids...)
		args = append(args, ms(now))
		return s.scanJobs(ctx, lease, leaseUntil, `WITH d AS (
				UPDATE webhook_deliveries SET next_attempt_at = ?, lease = ?, attempts = attempts + 1
				WHERE id IN (SELECT id FROM webhook_deliveries WHERE id IN (`+in+`) AND state = 'pending' AND next_attempt_at <= ?
					ORDER BY id FOR UPDATE SKIP LOCKED)
				RETURNING id, account, event_id, endpoint_id, attempts, window_start)
			`+jobSelect+` ORDER BY d.account, d.id`, args...)
	}
	args = append([]any{ms(leaseUntil), lease}, ids...)
	args = append(args, ms(now))
	rows, err = s.db.Query(ctx, `UPDATE webhook_deliveries SET next_attempt_at = ?, lease = ?, attempts = attempts + 1
		WHERE id IN (`+in+`) AND state = 'pending' AND next_attempt_at <= ?
		RETURNING id`, args...)
	if err != nil {
		return nil, fmt.Errorf("webhooks: claim deliveries: %w", err)
	}
	var claimed []any
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("webhooks: claim deliveries: %w", err)
		}
		claimed = append(claimed, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("webhooks: claim deliveries: %w", err)
	}
	if len(claimed) == 0 {
		return nil, nil
	}
	// If this read fails the rows stay leased: they come back when the
	// lease runs out.
	in = `?` + strings.Repeat(`, ?`, len(claimed)-1)
	return s.scanJobs(ctx, lease, leaseUntil, `WITH d AS (SELECT id, account, event_id, endpoint_id, attempts, window_start
			FROM webhook_deliveries WHERE id IN (`+in+`) AND lease = ?)
		`+jobSelect+` ORDER BY d.account, d.id`, append(claimed, lease)...)
}

// jobSelect reads, for the claimed deliveries d, what the worker needs to
// send them: the endpoint as it is now, its secrets, the event.
var jobSelect = `SELECT d.id, d.account, d.event_id, d.attempts, d.window_start,
		` + endpointColsOf("e") + `,
		e.secret, e.secret_prev, ev.body
	FROM d JOIN webhook_endpoints e ON e.id = d.endpoint_id
	JOIN webhook_events ev ON ev.id = d.event_id`

// fullKeys returns the keys of busy whose count reached limit, sorted.
func fullKeys(busy map[string]int, limit int) []any {
	var out []string
	for k, n := range busy {
		if n >= limit {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	keys := make([]any, len(out))
	for i, k := range out {
		keys[i] = k
	}
	return keys
}

// scanJobs runs q, a query over jobSelect, and returns the jobs leased
// under lease.
func (s *SQLStore) scanJobs(ctx context.Context, lease string, leaseUntil time.Time, q string, args ...any) ([]job, error) {
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("webhooks: claim deliveries: %w", err)
	}
	defer rows.Close()
	var out []job
	for rows.Next() {
		var (
			j      job
			window int64
			secret string
			prev   string
			body   string
		)
		ep, err := scanEndpoint(scanFunc(func(dest ...any) error {
			return rows.Scan(append([]any{&j.id, &j.account, &j.eventID, &j.attempt, &window}, dest...)...)
		}), &secret, &prev, &body)
		if err != nil {
			return nil, fmt.Errorf("webhooks: claim deliveries: %w", err)
		}
		plain, err := s.sealer.Open([]byte(secret), []byte(ep.ID))
		if err != nil {
			// Left leased: it comes back when the lease runs out.
			return nil, fmt.Errorf("webhooks: endpoint %s secret: %w", ep.ID, err)
		}
		ep.Secret = string(plain)
		if prev != "" {
			old, err := s.sealer.Open([]byte(prev), []byte(ep.ID))
			if err != nil {
				return nil, fmt.Errorf("webhooks: endpoint %s previous secret: %w", ep.ID, err)
			}
			ep.previousSecret, ep.previousUntil = string(old), ep.SecretRolledUntil
		}
		j.endpoint = *ep
		j.body = []byte(body)
		j.windowStart = fromMS(window)
		j.lease, j.leaseUntil = lease, leaseUntil
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("webhooks: claim deliveries: %w", err)
	}
	return out, nil
}

type scanFunc func(...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// outcome is how one attempt ended.
type outcome struct {
	state  DeliveryState // pending (retry), delivered or failed; "" gives the delivery back
	next   time.Time     // when pending: the next attempt
	status int
	err    string
}

// attempt is a finished attempt to record.
type attempt struct {
	j   job
	now time.Time
	o   outcome
}

// finish records the outcomes of attempts, in one transaction, for the
// deliveries whose lease the worker still holds. It reports, for each
// attempt, whether the lease was still held (false: it ran out and another
// worker took the delivery, or the endpoint was deleted). An outcome with
// no state gives the delivery back, due at once, without counting the
// attempt: the worker is stopping.
//
// The rows are updated in id order, so that two transactions that both
// touch some of the same rows take their locks in the same order and
// cannot deadlock.
func (s *SQLStore) finish(ctx context.Context, batch []attempt) ([]bool, error) {
	if len(batch) == 0 {
		return nil, nil
	}
	if s.db.Dialect == storage.Postgres {
		return s.finishPostgres(ctx, batch)
	}
	order := make([]int, len(batch))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(batch[a].j.id, batch[b].j.id) })
	held := make([]bool, len(batch))
	err := s.db.InTx(ctx, func(tx *storage.Tx) error {
		for _, i := range order {
			a := batch[i]
			var (
				q    string
				args []any
			)
			if a.o.state == "" {
				q = `UPDATE webhook_deliveries SET next_attempt_at = ?, lease = '', attempts = attempts - 1 WHERE id = ? AND lease = ?`
				args = []any{ms(a.now), a.j.id, a.j.lease}
			} else {
				next, e := a.o.row(a.now)
				q = `UPDATE webhook_deliveries SET state = ?, next_attempt_at = ?, lease = '',
						last_status = ?, last_error = ?, updated_at = ?
					WHERE id = ? AND lease = ?`
				args = []any{string(a.o.state), next, a.o.status, e, ms(a.now), a.j.id, a.j.lease}
			}
			res, err := tx.Exec(ctx, q, args...)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			held[i] = n == 1
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("webhooks: record attempts: %w", err)
	}
	return held, nil
}

// row returns the next_attempt_at and last_error columns of an outcome
// recorded at now.
func (o outcome) row(now time.Time) (int64, string) {
	next := o.next
	if o.state != StatePending {
		next = now
	}
	e := o.err
	if len(e) > 500 {
		e = e[:500]
	}
	return ms(next), e
}

// finishPostgres is finish in one statement: the outcomes go as arrays,
// the rows still held are locked in id order, then updated.
func (s *SQLStore) finishPostgres(ctx context.Context, batch []attempt) ([]bool, error) {
	n := len(batch)
	ids, leases, states, errs := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	nexts, nows, statuses := make([]int64, n), make([]int64, n), make([]int64, n)
	for i, a := range batch {
		ids[i], leases[i], states[i], nows[i] = a.j.id, a.j.lease, string(a.o.state), ms(a.now)
		if a.o.state == "" {
			nexts[i] = ms(a.now)
			continue
		}
		nexts[i], errs[i] = a.o.row(a.now)
		statuses[i] = int64(a.o.status)
	}
	rows, err := s.db.Query(ctx, `WITH v AS (
			SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::text[], ?::bigint[])
				AS v(id, lease, state, next, status, err, now)),
		locked AS (
			SELECT d.id FROM webhook_deliveries d JOIN v ON v.id = d.id AND v.lease = d.lease
			ORDER BY d.id FOR UPDATE OF d)
		UPDATE webhook_deliveries d SET
			state = CASE WHEN v.state = '' THEN d.state ELSE v.state END,
			attempts = CASE WHEN v.state = '' THEN d.attempts - 1 ELSE d.attempts END,
			next_attempt_at = v.next,
			lease = '',
			last_status = CASE WHEN v.state = '' THEN d.last_status ELSE v.status END,
			last_error = CASE WHEN v.state = '' THEN d.last_error ELSE v.err END,
			updated_at = CASE WHEN v.state = '' THEN d.updated_at ELSE v.now END
		FROM v WHERE d.id = v.id AND d.lease = v.lease AND d.id IN (SELECT id FROM locked)
		RETURNING d.id`, ids, leases, states, nexts, statuses, errs, nows)
	if err != nil {
		return nil, fmt.Errorf("webhooks: record attempts: %w", err)
	}
	defer rows.Close()
	done := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("webhooks: record attempts: %w", err)
		}
		done[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("webhooks: record attempts: %w", err)
	}
	held := make([]bool, n)
	for i, a := range batch {
		held[i] = done[a.j.id]
	}
	return held, nil
}
