package webhooks

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/versions"
	"github.com/verso-api/verso/webhooks/signature"
)

// Errors returned by the SQLStore.
var (
	ErrNotFound      = errors.New("webhooks: not found")
	ErrInvalid       = errors.New("webhooks: invalid")
	ErrInvalidCursor = errors.New("webhooks: starting_after names no object in this list")
)

// Scheme is how an endpoint's deliveries are signed.
type Scheme string

// The signature schemes.
const (
	// SchemeStripe sends Stripe-Signature: t=UNIX,v1=HEX. The default.
	SchemeStripe Scheme = "stripe"
	// SchemeStandard sends the Standard Webhooks headers webhook-id,
	// webhook-timestamp and webhook-signature: v1,BASE64.
	SchemeStandard Scheme = "standard"
)

// Endpoint is a URL that receives an account's events.
type Endpoint struct {
	ID            string
	Account       string
	URL           string
	EnabledEvents []string // event types, or "*" for all
	APIVersion    versions.Version
	Scheme        Scheme
	Description   string
	// Status is StatusEnabled or StatusDisabled: a disabled endpoint gets
	// no new events, and its pending deliveries wait until it is enabled.
	Status  EndpointStatus
	Created time.Time
	// Secret signs the deliveries. Only CreateEndpoint and RollSecret
	// return it; the getters and lists leave it empty.
	Secret string
	// SecretRolledUntil is when the secret replaced by the last RollSecret
	// stops signing; zero when no previous secret signs.
	SecretRolledUntil time.Time

	previousSecret string    // still signs until previousUntil
	previousUntil  time.Time // when previousSecret stops signing
}

// EndpointStatus says whether an endpoint receives events.
type EndpointStatus string

// The endpoint statuses.
const (
	StatusEnabled  EndpointStatus = "enabled"
	StatusDisabled EndpointStatus = "disabled"
)

// secrets returns the secrets that sign a delivery sent at now: the
// current one, and the previous one while its overlap lasts.
func (e *Endpoint) secrets(now time.Time) []string {
	if e.previousSecret != "" && now.Before(e.previousUntil) {
		return []string{e.Secret, e.previousSecret}
	}
	return []string{e.Secret}
}

// Wants reports whether the endpoint subscribes to events of type typ.
func (e *Endpoint) Wants(typ string) bool {
	for _, t := range e.EnabledEvents {
		if t == "*" || t == typ {
			return true
		}
	}
	return false
}

// EndpointParams creates an endpoint.
type EndpointParams struct {
	Account       string   // required
	URL           string   // required: an absolute http or https URL
	EnabledEvents []string // required: event types or "*"
	// APIVersion is required: the caller fills in the account's pin when
	// the API user gave none.
	APIVersion  versions.Version
	Scheme      Scheme // Optional. Default value SchemeStripe.
	Description string // Optional.
}

// Event is a change recorded in the newest schema.
type Event struct {
	ID      string // Optional in RecordEvent: "evt_" and a random suffix when empty.
	Account string // required
	Type    string // required, such as "customer.created"
	// APIVersion is the schema Object is in: the timeline's newest version.
	APIVersion versions.Version
	Created    time.Time // Optional in RecordEvent: the store's clock when zero.
	// Object is the JSON of the object the event is about (data.object).
	Object json.RawMessage
	// PreviousAttributes holds the old values of the fields an update
	// changed (data.previous_attributes). Optional.
	PreviousAttributes json.RawMessage
	// Body is the stored event JSON:
	//  {"id":"evt_…","object":"event","type":…,"api_version":…,"created":…,
	//   "data":{"object":{…},"previous_attributes":{…}}}
	// The getters set it; RecordEvent builds it from the fields above.
	Body []byte
}

// NewEventID returns a fresh event id, for callers that want to know an
// event's id before they record it.
func NewEventID() string { return newID("evt_") }

type eventJSON struct {
	ID         string    `json:"id"`
	Object     string    `json:"object"`
	Type       string    `json:"type"`
	APIVersion string    `json:"api_version"`
	Created    int64     `json:"created"`
	Data       eventData `json:"data"`
}

type eventData struct {
	Object             json.RawMessage `json:"object"`
	PreviousAttributes json.RawMessage `json:"previous_attributes,omitempty"`
}

// DeliveryState is where a delivery stands.
type DeliveryState string

// The delivery states.
const (
	StatePending   DeliveryState = "pending"
	StateDelivered DeliveryState = "delivered"
	StateFailed    DeliveryState = "failed"
)

// Delivery is one event sent to one endpoint, with every attempt's outcome
// folded into it.
type Delivery struct {
	ID            string
	Account       string
	EventID       string
	EndpointID    string
	State         DeliveryState
	Attempts      int
	NextAttemptAt time.Time // meaningful while pending
	LastStatus    int       // the last response's status; 0 if there was none
	LastError     string    // why the last attempt failed; empty after success
	Created       time.Time
	Updated       time.Time
}

// ListParams pages through a list, newest first.
type ListParams struct {
	Limit         int    // Optional. Default value 10; at most 100.
	StartingAfter string // Optional. The id of the last object of the previous page.
}

func (p ListParams) limit() int {
	switch {
	case p.Limit <= 0:
		return 10
	case p.Limit > 100:
		return 100
	}
	return p.Limit
}

// EventListParams pages through an account's events.
type EventListParams struct {
	ListParams
	Type string // Optional. Only events of this type.
}

// DeliveryListParams pages through an account's deliveries.
type DeliveryListParams struct {
	ListParams
	EndpointID string        // Optional.
	EventID    string        // Optional.
	State      DeliveryState // Optional.
}

// Options configures the store: NewSQLStore takes an *Options, and nil
// means the defaults.
type Options struct {
	// Clock stamps events, endpoints and deliveries.
	// Optional. Default value time.Now.
	Clock func() time.Time
	// AllowPrivate lets endpoint URLs name loopback, private, link-local
	// and other non-public addresses, and lets the Worker's default client
	// connect to them: for local development and tests only.
	// Optional. Default value false: such URLs are refused by
	// CreateEndpoint (ErrInvalid wrapping ErrForbiddenAddress) and such
	// connections by the worker's dialer.
	AllowPrivate bool
	// Sealer encrypts endpoint signing secrets at rest. Optional. Default
	// value nil: secrets are stored in plain text. Secrets stored before a
	// Sealer was set still read.
	Sealer *storage.Sealer
}

// SQLStore keeps endpoints, events (the outbox) and deliveries in a
// storage.DB, SQLite or PostgreSQL. It is safe for concurrent use, also by
// several processes sharing one PostgreSQL database.
type SQLStore struct {
	db           *storage.DB
	now          func() time.Time
	allowPrivate bool
	sealer       *storage.Sealer
}

var schema = []string{
	`CREATE TABLE IF NOT EXISTS webhook_endpoints (
		id TEXT PRIMARY KEY,
		account TEXT NOT NULL,
		url TEXT NOT NULL,
		enabled_events TEXT NOT NULL,
		api_version TEXT NOT NULL,
		scheme TEXT NOT NULL,
		description TEXT NOT NULL,
		secret TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		status TEXT NOT NULL DEFAULT 'enabled',
		secret_prev TEXT NOT NULL DEFAULT '',
		secret_prev_until BIGINT NOT NULL DEFAULT 0)`,
	`CREATE INDEX IF NOT EXISTS webhook_endpoints_account ON webhook_endpoints (account, created_at)`,
	`CREATE TABLE IF NOT EXISTS webhook_events (
		id TEXT PRIMARY KEY,
		account TEXT NOT NULL,
		type TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		body TEXT NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS webhook_events_account ON webhook_events (account, created_at)`,
	`CREATE TABLE IF NOT EXISTS webhook_deliveries (
		id TEXT PRIMARY KEY,
		account TEXT NOT NULL,
		event_id TEXT NOT NULL,
		endpoint_id TEXT NOT NULL,
		state TEXT NOT NULL,
		attempts INTEGER NOT NULL,
		next_attempt_at BIGINT NOT NULL,
		window_start BIGINT NOT NULL,
		lease TEXT NOT NULL,
		last_status INTEGER NOT NULL,
		last_error TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL,
		UNIQUE (event_id, endpoint_id))`,
	`CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at)`,
	`CREATE INDEX IF NOT EXISTS webhook_deliveries_lease ON webhook_deliveries (lease)`,
	`CREATE INDEX IF NOT EXISTS webhook_deliveries_account ON webhook_deliveries (account, created_at)`,
	`CREATE INDEX IF NOT EXISTS webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id)`,
}

// NewSQLStore creates the webhook tables if they are missing and returns a
// SQLStore over db; nil opts means the defaults.
func NewSQLStore(ctx context.Context, db *storage.DB, opts *Options) (*SQLStore, error) {
	if db == nil {
		return nil, errors.New("webhooks: nil database")
	}
	s := &SQLStore{db: db, now: time.Now}
	if opts != nil {
		if opts.Clock != nil {
			s.now = opts.Clock
		}
		s.allowPrivate, s.sealer = opts.AllowPrivate, opts.Sealer
	}
	err := db.MigrateFunc(ctx, func(tx *storage.Tx) error {
		for _, q := range append(schema, retentionSchema...) {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		// Endpoints created before endpoints could be disabled or have
		// their secret rolled.
		return tx.AddColumns(ctx, "webhook_endpoints",
			"status TEXT NOT NULL DEFAULT 'enabled'",
			"secret_prev TEXT NOT NULL DEFAULT ''",
			"secret_prev_until BIGINT NOT NULL DEFAULT 0")
	})
	if err != nil {
		return nil, fmt.Errorf("webhooks: create tables: %w", err)
	}
	return s, nil
}

// DB returns the database the store writes to.
func (s *SQLStore) DB() *storage.DB { return s.db }

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(n int64) time.Time { return time.UnixMilli(n) }

// userError is a store error whose message is written for the API's
// users ("url is required"): the endpoint API shows it as it is, with the
// status of its kind (ErrInvalid, ErrNotFound).
type userError struct {
	kind error
	msg  string
}

func (e *userError) Error() string { return e.kind.Error() + ": " + e.msg }
func (e *userError) Unwrap() error { return e.kind }

// invalid returns an error wrapping ErrInvalid with a message for users.
func invalid(format string, args ...any) error {
	return &userError{kind: ErrInvalid, msg: fmt.Sprintf(format, args...)}
}

// notFound returns an error wrapping ErrNotFound for the object of kind
// what ("webhook endpoint") named id.
func notFound(what, id string) error {
	return &userError{kind: ErrNotFound, msg: fmt.Sprintf("no such %s: %q", what, clip(id))}
}

// ValidEventType reports whether typ looks like an event type: lower-case
// words joined by dots, such as "customer.created" or
// "payment_intent.amount_capturable_updated".
func ValidEventType(typ string) bool {
	if len(typ) == 0 || len(typ) > 100 || typ[0] == '.' || typ[len(typ)-1] == '.' || !strings.Contains(typ, ".") {
		return false
	}
	prev := byte('.')
	for i := 0; i < len(typ); i++ {
		c := typ[i]
		switch {
		case c >= 'a' && c <= 'z', c == '_', c >= '0' && c <= '9' && prev != '.':
		case c == '.' && prev != '.':
		default:
			return false
		}
		prev = c
	}
	return true
}

// ValidateURL checks that u is an absolute http or https URL with a host.
func ValidateURL(u string) error {
	if u == "" {
		return invalid("url is required")
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || len(u) > 2048 {
		return invalid("url must be an absolute http or https URL, got %q", clip(u))
	}
	return nil
}

// CheckURL refuses, unless the store allows private addresses, a URL
// whose host is a loopback name or is, or resolves to, a non-public
// address (see ForbiddenAddress). The error wraps ErrInvalid and
// ErrForbiddenAddress. A name that does not resolve now passes: the
// worker's dialer checks every address it connects to.
func (s *SQLStore) CheckURL(ctx context.Context, u string) error {
	if s.allowPrivate {
		return nil
	}
	p, err := url.Parse(u)
	if err != nil {
		return invalid("url must be an absolute http or https URL, got %q", clip(u))
	}
	if err := checkURLHost(ctx, p.Host); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

func (p *EndpointParams) validate() error {
	if p.Account == "" {
		return invalid("account is required")
	}
	if err := ValidateURL(p.URL); err != nil {
		return err
	}
	if len(p.EnabledEvents) == 0 {
		return invalid("enabled_events is required: list event types or \"*\"")
	}
	for _, t := range p.EnabledEvents {
		if t != "*" && !ValidEventType(t) {
			return invalid("enabled_events: %q is not an event type", clip(t))
		}
	}
	if p.APIVersion.IsZero() {
		return invalid("api_version is required")
	}
	switch p.Scheme {
	case "":
		p.Scheme = SchemeStripe
	case SchemeStripe, SchemeStandard:
	default:
		return invalid("signature scheme must be %q or %q, got %q", SchemeStripe, SchemeStandard, clip(string(p.Scheme)))
	}
	if len(p.Description) > 5000 {
		return invalid("description is longer than 5000 characters")
	}
	return nil
}

// CreateEndpoint stores a new endpoint and returns it with its secret; the
// secret is never returned again.
func (s *SQLStore) CreateEndpoint(ctx context.Context, p EndpointParams) (*Endpoint, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	if err := s.CheckURL(ctx, p.URL); err != nil {
		return nil, err
	}
	events, _ := json.Marshal(p.EnabledEvents)
	e := &Endpoint{
		ID:            newID("we_"),
		Account:       p.Account,
		URL:           p.URL,
		EnabledEvents: append([]string(nil), p.EnabledEvents...),
		APIVersion:    p.APIVersion,
		Scheme:        p.Scheme,
		Description:   p.Description,
		Status:        StatusEnabled,
		Created:       s.now().Truncate(time.Millisecond),
		Secret:        signature.NewSecret(),
	}
	_, err := s.db.Exec(ctx, `INSERT INTO webhook_endpoints
		(id, account, url, enabled_events, api_version, scheme, description, secret, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.Account, e.URL, string(events), e.APIVersion.String(), string(e.Scheme), e.Description, string(s.sealer.Seal([]byte(e.Secret), []byte(e.ID))), ms(e.Created))
	if err != nil {
		return nil, fmt.Errorf("webhooks: create endpoint: %w", err)
	}
	return e, nil
}

const endpointCols = `id, account, url, enabled_events, api_version, scheme, description, created_at, status, secret_prev_until`

// endpointColsOf returns endpointCols qualified with the table alias t.
func endpointColsOf(t string) string {
	return t + "." + strings.ReplaceAll(endpointCols, ", ", ", "+t+".")
}

type scanner interface{ Scan(...any) error }

func scanEndpoint(r scanner, extra ...any) (*Endpoint, error) {
	var (
		e       Endpoint
		events  string
		scheme  string
		created int64
		status  string
		rolled  int64
	)
	dest := append([]any{&e.ID, &e.Account, &e.URL, &events, &e.APIVersion, &scheme, &e.Description, &created, &status, &rolled}, extra...)
	if err := r.Scan(dest...); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(events), &e.EnabledEvents); err != nil {
		return nil, fmt.Errorf("webhooks: endpoint %s: enabled_events: %w", e.ID, err)
	}
	e.Scheme = Scheme(scheme)
	e.Created = fromMS(created)
	e.Status = EndpointStatus(status)
	if rolled > 0 {
		e.SecretRolledUntil = fromMS(rolled)
	}
	return &e, nil
}

// GetEndpoint returns the account's endpoint id, without its secret.
func (s *SQLStore) GetEndpoint(ctx context.Context, account, id string) (*Endpoint, error) {
	e, err := scanEndpoint(s.db.QueryRow(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints WHERE account = ? AND id = ?`, account, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("webhook endpoint", id)
	}
	if err != nil {
		return nil, fmt.Errorf("webhooks: get endpoint: %w", err)
	}
	return e, nil
}

// endpointWithSecret returns an endpoint of any account with its secret,
// for signing.
func (s *SQLStore) endpointWithSecret(ctx context.Context, account, id string) (*Endpoint, error) {
	var secret, prev string
	e, err := scanEndpoint(s.db.QueryRow(ctx, `SELECT `+endpointCols+`, secret, secret_prev FROM webhook_endpoints WHERE account = ? AND id = ?`, account, id), &secret, &prev)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("webhook endpoint", id)
	}
	if err != nil {
		return nil, fmt.Errorf("webhooks: get endpoint: %w", err)
	}
	plain, err := s.sealer.Open([]byte(secret), []byte(e.ID))
	if err != nil {
		return nil, fmt.Errorf("webhooks: endpoint %s secret: %w", e.ID, err)
	}
	e.Secret = string(plain)
	if prev != "" {
		old, err := s.sealer.Open([]byte(prev), []byte(e.ID))
		if err != nil {
			return nil, fmt.Errorf("webhooks: endpoint %s previous secret: %w", e.ID, err)
		}
		e.previousSecret, e.previousUntil = string(old), e.SecretRolledUntil
	}
	return e, nil
}

// cursor turns p.StartingAfter into a WHERE fragment over (created_at, id)
// of table, newest first.
func (s *SQLStore) cursor(ctx context.Context, table, account string, p ListParams) (string, []any, error) {
	if p.StartingAfter == "" {
		return "", nil, nil
	}
	var created int64
	err := s.db.QueryRow(ctx, `SELECT created_at FROM `+table+` WHERE account = ? AND id = ?`, account, p.StartingAfter).Scan(&created)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, &userError{kind: ErrInvalidCursor, msg: strconv.Quote(clip(p.StartingAfter))}
	}
	if err != nil {
		return "", nil, fmt.Errorf("webhooks: list: %w", err)
	}
	return ` AND (created_at < ? OR (created_at = ? AND id < ?))`, []any{created, created, p.StartingAfter}, nil
}

// ListEndpoints returns a page of the account's endpoints, newest first,
// and whether more follow.
func (s *SQLStore) ListEndpoints(ctx context.Context, account string, p ListParams) ([]Endpoint, bool, error) {
	where, args, err := s.cursor(ctx, "webhook_endpoints", account, p)
	if err != nil {
		return nil, false, err
	}
	n := p.limit()
	args = append([]any{account}, append(args, n+1)...)
	rows, err := s.db.Query(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints WHERE account = ?`+where+
		` ORDER BY created_at DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, false, fmt.Errorf("webhooks: list endpoints: %w", err)
	}
	defer rows.Close()
	var out []Endpoint
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, false, err
		}
		out = append(out, *e)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("webhooks: list endpoints: %w", err)
	}
	more := len(out) > n
	if more {
		out = out[:n]
	}
	return out, more, nil
}

// DeleteEndpoint deletes the account's endpoint and its deliveries; a
// delivery in flight finishes but its outcome is dropped.
func (s *SQLStore) DeleteEndpoint(ctx context.Context, account, id string) error {
	return s.db.InTx(ctx, func(tx *storage.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM webhook_endpoints WHERE account = ? AND id = ?`, account, id)
		if err != nil {
			return fmt.Errorf("webhooks: delete endpoint: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("webhook endpoint", id)
		}
		// Lock the rows in id order, as the worker's batches do, so that
		// the delete and a batch of outcomes cannot deadlock.
		q := `DELETE FROM webhook_deliveries WHERE endpoint_id = ?`
		if s.db.Dialect == storage.Postgres {
			q = `DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY id FOR UPDATE)`
		}
		if _, err := tx.Exec(ctx, q, id); err != nil {
			return fmt.Errorf("webhooks: delete endpoint: %w", err)
		}
		return nil
	})
}

// EndpointUpdate changes an endpoint: nil fields are left as they are.
type EndpointUpdate struct {
	URL           *string           // an absolute http or https URL
	EnabledEvents []string          // event types or "*"; nil leaves them
	APIVersion    *versions.Version // the version deliveries are rendered in
	Description   *string
	// Status disables or enables the endpoint. While disabled it gets no
	// new events, and the deliveries it already has wait, pending.
	Status *EndpointStatus
}

// UpdateEndpoint changes the account's endpoint id and returns it, without
// its secret. A new URL passes the same checks as CreateEndpoint's.
// Deliveries not yet made go to the new URL, in the new version.
func (s *SQLStore) UpdateEndpoint(ctx context.Context, account, id string, u EndpointUpdate) (*Endpoint, error) {
	var out *Endpoint
	err := s.db.InTx(ctx, func(tx *storage.Tx) error {
		e, err := scanEndpoint(tx.QueryRow(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints WHERE account = ? AND id = ?`, account, id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("webhook endpoint", id)
		}
		if err != nil {
			return fmt.Errorf("webhooks: update endpoint: %w", err)
		}
		p := EndpointParams{Account: account, URL: e.URL, EnabledEvents: e.EnabledEvents,
			APIVersion: e.APIVersion, Scheme: e.Scheme, Description: e.Description}
		if u.URL != nil {
			p.URL = *u.URL
		}
		if u.EnabledEvents != nil {
			p.EnabledEvents = u.EnabledEvents
		}
		if u.APIVersion != nil {
			p.APIVersion = *u.APIVersion
		}
		if u.Description != nil {
			p.Description = *u.Description
		}
		if err := p.validate(); err != nil {
			return err
		}
		if u.URL != nil {
			if err := s.CheckURL(ctx, p.URL); err != nil {
				return err
			}
		}
		if u.Status != nil {
			switch *u.Status {
			case StatusEnabled, StatusDisabled:
				e.Status = *u.Status
			default:
				return invalid("status must be %q or %q, got %q", StatusEnabled, StatusDisabled, clip(string(*u.Status)))
			}
		}
		events, _ := json.Marshal(p.EnabledEvents)
		if _, err := tx.Exec(ctx, `UPDATE webhook_endpoints SET url = ?, enabled_events = ?, api_version = ?, description = ?, status = ?
			WHERE account = ? AND id = ?`, p.URL, string(events), p.APIVersion.String(), p.Description, string(e.Status), account, id); err != nil {
			return fmt.Errorf("webhooks: update endpoint: %w", err)
		}
		e.URL, e.EnabledEvents, e.APIVersion, e.Description = p.URL, p.EnabledEvents, p.APIVersion, p.Description
		out = e
		return nil
	})
	return out, err
}

// MaxSecretOverlap is the longest a rolled secret keeps signing.
const MaxSecretOverlap = 7 * 24 * time.Hour

// RollSecret gives the account's endpoint a new signing secret and returns
// the endpoint with it. For overlap after now the old secret signs too,
// so every delivery carries two v1 signatures (Stripe's Stripe-Signature
// scheme, or two entries of webhook-signature) and a receiver can move to
// the new secret at its pace; an overlap of zero retires the old secret at
// once. A secret rolled during an overlap retires the older one.
func (s *SQLStore) RollSecret(ctx context.Context, account, id string, overlap time.Duration) (*Endpoint, error) {
	if overlap < 0 || overlap > MaxSecretOverlap {
		return nil, invalid("the old secret may keep signing for 0 to %v, not %v", MaxSecretOverlap, overlap)
	}
	var out *Endpoint
	err := s.db.InTx(ctx, func(tx *storage.Tx) error {
		var old string
		e, err := scanEndpoint(tx.QueryRow(ctx, `SELECT `+endpointCols+`, secret FROM webhook_endpoints WHERE account = ? AND id = ?`, account, id), &old)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("webhook endpoint", id)
		}
		if err != nil {
			return fmt.Errorf("webhooks: roll secret: %w", err)
		}
		e.Secret = signature.NewSecret()
		prev, until := "", int64(0)
		e.SecretRolledUntil = time.Time{}
		if overlap > 0 {
			e.SecretRolledUntil = s.now().Add(overlap).Truncate(time.Millisecond)
			prev, until = old, ms(e.SecretRolledUntil)
		}
		// old is the stored (sealed) value: it stays sealed as secret_prev.
		if _, err := tx.Exec(ctx, `UPDATE webhook_endpoints SET secret = ?, secret_prev = ?, secret_prev_until = ?
			WHERE account = ? AND id = ?`, string(s.sealer.Seal([]byte(e.Secret), []byte(e.ID))), prev, until, account, id); err != nil {
			return fmt.Errorf("webhooks: roll secret: %w", err)
		}
		out = e
		return nil
	})
	return out, err
}

// RecordEvent writes ev to the outbox inside the caller's transaction tx,
// so that the event commits if and only if the change it describes does,
// and queues one pending delivery for each of the account's endpoints that
// wants the event's type. A nil tx runs in a transaction of its own.
//
// The fan-out happens here, in the writer's transaction, rather than in a
// dispatcher: the endpoints that receive an event are the ones that exist
// when it happens (an endpoint added later does not get old events), no
// cursor over the outbox has to be kept and leased, and an event can never
// be recorded without its deliveries. The cost is one indexed read of the
// account's endpoints and one insert per matching endpoint in the writer's
// transaction.
func (s *SQLStore) RecordEvent(ctx context.Context, tx *storage.Tx, ev Event) error {
	if tx == nil {
		return s.db.InTx(ctx, func(tx *storage.Tx) error { return s.RecordEvent(ctx, tx, ev) })
	}
	body, err := s.prepareEvent(&ev)
	if err != nil {
		return err
	}
	now := s.now()
	if _, err := tx.Exec(ctx, `INSERT INTO webhook_events (id, account, type, created_at, body) VALUES (?, ?, ?, ?, ?)`,
		ev.ID, ev.Account, ev.Type, ms(ev.Created), string(body)); err != nil {
		if storage.IsUniqueViolation(err) {
			return invalid("event %s already exists", ev.ID)
		}
		return fmt.Errorf("webhooks: record event: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT id, enabled_events FROM webhook_endpoints WHERE account = ? AND status = 'enabled'`, ev.Account)
	if err != nil {
		return fmt.Errorf("webhooks: record event: %w", err)
	}
	var targets []string
	for rows.Next() {
		var id, events string
		if err := rows.Scan(&id, &events); err != nil {
			rows.Close()
			return fmt.Errorf("webhooks: record event: %w", err)
		}
		e := Endpoint{}
		if json.Unmarshal([]byte(events), &e.EnabledEvents) == nil && e.Wants(ev.Type) {
			targets = append(targets, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("webhooks: record event: %w", err)
	}
	for _, ep := range targets {
		if _, err := tx.Exec(ctx, `INSERT INTO webhook_deliveries
			(id, account, event_id, endpoint_id, state, attempts, next_attempt_at, window_start, lease, last_status, last_error, created_at, updated_at)
			VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, '', 0, '', ?, ?)`,
			newID("whd_"), ev.Account, ev.ID, ep, ms(now), ms(ev.Created), ms(ev.Created), ms(now)); err != nil {
			return fmt.Errorf("webhooks: queue delivery: %w", err)
		}
	}
	return nil
}

func (s *SQLStore) prepareEvent(ev *Event) ([]byte, error) {
	if ev.Account == "" {
		return nil, invalid("event account is required")
	}
	if !ValidEventType(ev.Type) {
		return nil, invalid("event type %q is not like \"customer.created\"", clip(ev.Type))
	}
	if ev.APIVersion.IsZero() {
		return nil, invalid("event api_version is required: the version of the schema its object is in")
	}
	if len(ev.Object) == 0 || !json.Valid(ev.Object) || ev.Object[firstNonSpace(ev.Object)] != '{' {
		return nil, invalid("event object must be a JSON object")
	}
	if len(ev.PreviousAttributes) > 0 && !json.Valid(ev.PreviousAttributes) {
		return nil, invalid("event previous_attributes must be JSON")
	}
	if ev.ID == "" {
		ev.ID = NewEventID()
	}
	if ev.Created.IsZero() {
		ev.Created = s.now()
	}
	ev.Created = ev.Created.Truncate(time.Millisecond)
	return json.Marshal(eventJSON{
		ID:         ev.ID,
		Object:     "event",
		Type:       ev.Type,
		APIVersion: ev.APIVersion.String(),
		Created:    ev.Created.Unix(),
		Data:       eventData{Object: ev.Object, PreviousAttributes: ev.PreviousAttributes},
	})
}

func firstNonSpace(b []byte) int {
	for i, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return i
		}
	}
	return 0
}

func scanEvent(r scanner) (*Event, error) {
	var (
		ev      Event
		created int64
		body    string
	)
	if err := r.Scan(&ev.ID, &ev.Account, &ev.Type, &created, &body); err != nil {
		return nil, err
	}
	ev.Created = fromMS(created)
	ev.Body = []byte(body)
	var j struct {
		APIVersion versions.Version `json:"api_version"`
		Data       eventData        `json:"data"`
	}
	if err := json.Unmarshal(ev.Body, &j); err != nil {
		return nil, fmt.Errorf("webhooks: event %s: %w", ev.ID, err)
	}
	ev.APIVersion, ev.Object, ev.PreviousAttributes = j.APIVersion, j.Data.Object, j.Data.PreviousAttributes
	return &ev, nil
}

// GetEvent returns the account's event id, in the newest schema.
func (s *SQLStore) GetEvent(ctx context.Context, account, id string) (*Event, error) {
	ev, err := scanEvent(s.db.QueryRow(ctx, `SELECT id, account, type, created_at, body FROM webhook_events WHERE account = ? AND id = ?`, account, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("event", id)
	}
	if err != nil {
		return nil, fmt.Errorf("webhooks: get event: %w", err)
	}
	return ev, nil
}

// ListEvents returns a page of the account's events, newest first, and
// whether more follow.
func (s *SQLStore) ListEvents(ctx context.Context, account string, p EventListParams) ([]Event, bool, error) {
	where, args, err := s.cursor(ctx, "webhook_events", account, p.ListParams)
	if err != nil {
		return nil, false, err
	}
	args = append([]any{account}, args...)
	if p.Type != "" {
		where += ` AND type = ?`
		args = append(args, p.Type)
	}
	n := p.limit()
	rows, err := s.db.Query(ctx, `SELECT id, account, type, created_at, body FROM webhook_events WHERE account = ?`+where+
		` ORDER BY created_at DESC, id DESC LIMIT ?`, append(args, n+1)...)
	if err != nil {
		return nil, false, fmt.Errorf("webhooks: list events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, false, err
		}
		out = append(out, *ev)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("webhooks: list events: %w", err)
	}
	more := len(out) > n
	if more {
		out = out[:n]
	}
	return out, more, nil
}

const deliveryCols = `id, account, event_id, endpoint_id, state, attempts, next_attempt_at, last_status, last_error, created_at, updated_at`

func scanDelivery(r scanner) (*Delivery, error) {
	var (
		d                      Delivery
		state                  string
		next, created, updated int64
	)
	if err := r.Scan(&d.ID, &d.Account, &d.EventID, &d.EndpointID, &state, &d.Attempts, &next, &d.LastStatus, &d.LastError, &created, &updated); err != nil {
		return nil, err
	}
	d.State = DeliveryState(state)
	d.NextAttemptAt, d.Created, d.Updated = fromMS(next), fromMS(created), fromMS(updated)
	return &d, nil
}

// GetDelivery returns the account's delivery id.
func (s *SQLStore) GetDelivery(ctx context.Context, account, id string) (*Delivery, error) {
	d, err := scanDelivery(s.db.QueryRow(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries WHERE account = ? AND id = ?`, account, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("delivery", id)
	}
	if err != nil {
		return nil, fmt.Errorf("webhooks: get delivery: %w", err)
	}
	return d, nil
}

// ListDeliveries returns a page of the account's deliveries, newest first,
// and whether more follow. Use State: StateFailed to find the deliveries
// that gave up, and Resend to queue them again.
func (s *SQLStore) ListDeliveries(ctx context.Context, account string, p DeliveryListParams) ([]Delivery, bool, error) {
	where, args, err := s.cursor(ctx, "webhook_deliveries", account, p.ListParams)
	if err != nil {
		return nil, false, err
	}
	args = append([]any{account}, args...)
	for _, f := range []struct{ col, v string }{{"endpoint_id", p.EndpointID}, {"event_id", p.EventID}, {"state", string(p.State)}} {
		if f.v != "" {
			where += ` AND ` + f.col + ` = ?`
			args = append(args, f.v)
		}
	}
	n := p.limit()
	rows, err := s.db.Query(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries WHERE account = ?`+where+
		` ORDER BY created_at DESC, id DESC LIMIT ?`, append(args, n+1)...)
	if err != nil {
		return nil, false, fmt.Errorf("webhooks: list deliveries: %w", err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, false, fmt.Errorf("webhooks: list deliveries: %w", err)
		}
		out = append(out, *d)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("webhooks: list deliveries: %w", err)
	}
	more := len(out) > n
	if more {
		out = out[:n]
	}
	return out, more, nil
}

// Resend queues the account's delivery id again, now ("retry now"): a
// delivered or failed one is sent once more, with a fresh retry window; a
// pending one waiting for its next attempt is made due at once, keeping
// its window. A delivery in flight is left to finish.
func (s *SQLStore) Resend(ctx context.Context, account, id string) error {
	now := ms(s.now())
	res, err := s.db.Exec(ctx, `UPDATE webhook_deliveries SET
			window_start = CASE WHEN state = 'pending' THEN window_start ELSE ? END,
			state = 'pending', next_attempt_at = ?, updated_at = ?
		WHERE account = ? AND id = ? AND lease = ''`, now, now, now, account, id)
	if err != nil {
		return fmt.Errorf("webhooks: resend: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.GetDelivery(ctx, account, id); err != nil {
			return err
		}
	}
	return nil
}

// QueueStats describes the undelivered backlog of every account.
type QueueStats struct {
	Pending int       // deliveries not yet delivered nor failed
	Oldest  time.Time // when the oldest pending delivery's event happened; zero if none
}

// Stats returns the backlog of pending deliveries.
func (s *SQLStore) Stats(ctx context.Context) (QueueStats, error) {
	var (
		st     QueueStats
		oldest sql.NullInt64
	)
	err := s.db.QueryRow(ctx, `SELECT COUNT(*), MIN(created_at) FROM webhook_deliveries WHERE state = 'pending'`).Scan(&st.Pending, &oldest)
	if err != nil {
		return st, fmt.Errorf("webhooks: stats: %w", err)
	}
	if oldest.Valid {
		st.Oldest = fromMS(oldest.Int64)
	}
	return st, nil
}
