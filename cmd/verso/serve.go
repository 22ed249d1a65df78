package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/ratelimit"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/versions"
	"github.com/verso-api/verso/webhooks"
)

func init() {
	register(&command{name: "serve", summary: "run the demo Stripe-like API on every version", run: runServe, usage: `Usage: verso serve [--addr 127.0.0.1:4242 | --port 4242] [--db verso.db] [--timeline FILE]

Starts a Stripe-like API (customers, charges, payment_intents, refunds,
events, webhook_endpoints) whose handlers know only the newest schema,
answering each account in the version it is pinned to. The first start
creates an account and prints its test API key.

Flags:
  --addr HOST:PORT     where to listen (default 127.0.0.1:4242)
  --port N             shorthand for --addr 127.0.0.1:N
  --db URL             a SQLite file (default verso.db) or postgres://...
  --timeline FILE      serve this YAML timeline instead of the built-in one
  --log-format F       text or json (default text)
  --rate N             requests per second per API key (default 100)
  --ip-rate N          requests per second per client IP (default 200)
  --client-ip-header H X-Forwarded-For or X-Real-IP: count the per-IP limit
                       by the address this header names, believed only on
                       connections from --trusted-proxies (default: none,
                       the connection's own address)
  --trusted-proxies L  comma-separated CIDRs of the proxies that set
                       --client-ip-header (default 127.0.0.0/8,::1/128)
  --metrics-addr A     serve /metrics on this address only, not on --addr
  --shadow-rate R      share of old-version responses also rendered in the
                       newest, differences counted at /metrics (default 0)
  --nearest-version    serve a well-formed version the timeline does not list
                       as the nearest older one (default: refuse it, as
                       Stripe does)
  --default-version V  the version served to a request naming none from an
                       account with no pin, which is then pinned to it
                       (default: the newest stable version)
  --report-sample R    share of each account's requests whose changes are
                       recorded for its upgrade report (default 1; GET
                       /v1/account/api_version/upgrade_report, verso
                       upgrade-report)
  --webhooks-allow-private
                       let webhook endpoints reach loopback, private and
                       link-local addresses (local development only)
  --webhook-retry-base D
                       wait after a webhook delivery's first failed
                       attempt, doubled after each next one up to 6h
                       (default 1m; 1s or less for tests)
  --webhook-concurrency N
                       webhook requests in flight from this server
                       (default 64; a quarter of them for one endpoint,
                       half for one account)
  --secrets-key-file F the key sealing webhook secrets and saved idempotent
                       responses at rest: 64 hex digits (default: the
                       VERSO_SECRETS_KEY variable, else DB.key beside a
                       SQLite database, created with mode 0600; PostgreSQL
                       needs one of the two, the same on every server)
  --retain-events D    keep events and webhook deliveries for D, then
                       delete them (a pending delivery and its event are
                       kept); "forever" to keep them (default 720h, 30 days)
  --retain-census D    keep the census's request counts (verso pins) for D
                       (default 2160h, 90 days)
  --retention-interval D
                       time between deletions of what is past its
                       retention (default 10m)
  --read-header-timeout D, --read-timeout D, --write-timeout D,
  --idle-timeout D     http.Server timeouts (defaults 10s, 30s, 60s, 120s)
  --max-header-bytes N largest request header; larger gets 431 (default 65536)
`})
	register(&command{name: "accounts", summary: "create or list accounts of the demo API", run: runAccounts, usage: `Usage: verso accounts create [--db verso.db] [--name NAME]
       verso accounts list   [--db verso.db]

create makes a new account and prints its id and its first test API key
(shown once; stored hashed), tab-separated.

Flags:
  --db URL             a SQLite file (default verso.db) or postgres://...
  --name NAME          the account's name (default "Account")
`})
	register(&command{name: "keys", summary: "create or list API keys of the demo API", run: runKeys, usage: `Usage: verso keys create [--db verso.db] [--account acct_...]
       verso keys list   [--db verso.db] [--account acct_...]

create prints a new test API key (shown once; stored hashed). Without
--account it is for the first account, which is created if there is none.

Flags:
  --db URL             a SQLite file (default verso.db) or postgres://...
  --account ID         the account
`})
}

// EnvSecretsKey names the variable that may hold the sealing key.
const EnvSecretsKey = "VERSO_SECRETS_KEY"

// sealer returns the Sealer for the database at dbURL: the key in keyFile,
// else in $VERSO_SECRETS_KEY, else in the file DB.key beside a SQLite
// database (created, mode 0600, when missing). A PostgreSQL database
// needs the file or the variable when required is set; otherwise there
// is no sealer (the command touches no secret).
func sealer(dbURL, keyFile string, required bool) (*storage.Sealer, error) {
	var key []byte
	var err error
	switch {
	case keyFile != "":
		key, err = storage.LoadOrCreateKeyFile(keyFile)
	case os.Getenv(EnvSecretsKey) != "":
		key, err = storage.ParseKey(os.Getenv(EnvSecretsKey))
		if err != nil {
			err = fmt.Errorf("%s: %w", EnvSecretsKey, err)
		}
	case strings.HasPrefix(dbURL, "postgres://"), strings.HasPrefix(dbURL, "postgresql://"):
		if required {
			return nil, fmt.Errorf("a PostgreSQL database needs the key that seals webhook secrets: set %s or --secrets-key-file (the same key on every server; make one with: openssl rand -hex 32)", EnvSecretsKey)
		}
		return nil, nil
	case dbURL == ":memory:":
		key = make([]byte, storage.KeySize)
		_, err = rand.Read(key)
	default:
		path := strings.TrimPrefix(dbURL, "file:")
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		key, err = storage.LoadOrCreateKeyFile(path + ".key")
	}
	if err != nil {
		return nil, err
	}
	return storage.NewSealer(key)
}

func openAPI(ctx context.Context, dbURL, timelinePath string, logger *slog.Logger, cfg api.Config) (*api.Server, *storage.DB, error) {
	db, err := storage.Open(ctx, dbURL)
	if err != nil {
		return nil, nil, err
	}
	cfg.DB, cfg.Logger = db, logger
	if timelinePath != "" {
		tl, err := gates.LoadFile(timelinePath, &gates.Options{Funcs: api.Funcs()})
		if err != nil {
			db.Close()
			return nil, nil, err
		}
		cfg.Timeline = tl
	}
	s, err := api.New(ctx, cfg)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return s, db, nil
}

func runServe(e *env, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:4242", "")
	port := fs.Int("port", 0, "")
	dbURL := fs.String("db", "verso.db", "")
	tlPath := fs.String("timeline", "", "")
	logFormat := fs.String("log-format", "text", "")
	rate := fs.Int("rate", 100, "")
	ipRate := fs.Int("ip-rate", 200, "")
	ipHeader := fs.String("client-ip-header", "", "")
	proxies := fs.String("trusted-proxies", "", "")
	metricsAddr := fs.String("metrics-addr", "", "")
	shadowRate := fs.Float64("shadow-rate", 0, "")
	reportSample := fs.Float64("report-sample", 1, "")
	nearest := fs.Bool("nearest-version", false, "")
	defaultVersion := fs.String("default-version", "", "")
	allowPrivate := fs.Bool("webhooks-allow-private", false, "")
	keyFile := fs.String("secrets-key-file", "", "")
	retain := api.Retention{Events: webhooks.DefaultRetention, Interval: 10 * time.Minute}
	fs.Var((*retention)(&retain.Events), "retain-events", "")
	fs.DurationVar(&retain.Census, "retain-census", pins.DefaultRetention, "")
	fs.DurationVar(&retain.Interval, "retention-interval", retain.Interval, "")
	retryBase := fs.Duration("webhook-retry-base", webhooks.DefaultBackoff().Initial, "")
	hookConc := fs.Int("webhook-concurrency", webhooks.DefaultConcurrency, "")
	d := api.DefaultHTTPLimits
	var limits api.HTTPLimits
	fs.DurationVar(&limits.ReadHeaderTimeout, "read-header-timeout", d.ReadHeaderTimeout, "")
	fs.DurationVar(&limits.ReadTimeout, "read-timeout", d.ReadTimeout, "")
	fs.DurationVar(&limits.WriteTimeout, "write-timeout", d.WriteTimeout, "")
	fs.DurationVar(&limits.IdleTimeout, "idle-timeout", d.IdleTimeout, "")
	fs.IntVar(&limits.MaxHeaderBytes, "max-header-bytes", d.MaxHeaderBytes, "")
	if err := flagsOnly(fs, args); err != nil {
		return err
	}
	if *port != 0 {
		if *port < 0 || *port > 65535 {
			return usagef("--port %d is out of range", *port)
		}
		*addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(*port))
	}
	if *reportSample <= 0 || *reportSample > 1 {
		return usagef("--report-sample must be above 0 and at most 1")
	}
	if *shadowRate < 0 || *shadowRate > 1 {
		return usagef("--shadow-rate must be between 0 and 1")
	}
	if *rate < 1 {
		return usagef("--rate must be at least 1")
	}
	var defVersion versions.Version
	if *defaultVersion != "" {
		var err error
		if defVersion, err = versions.Parse(*defaultVersion); err != nil {
			return usagef("--default-version: %v", err)
		}
	}
	if *retryBase <= 0 || *retryBase > webhooks.DefaultBackoff().Max {
		return usagef("--webhook-retry-base must be a positive duration up to %v, such as 1m or 200ms", webhooks.DefaultBackoff().Max)
	}
	if retain.Census <= 0 {
		return usagef("--retain-census must be a positive duration, such as 2160h")
	}
	if retain.Interval <= 0 {
		return usagef("--retention-interval must be a positive duration, such as 10m")
	}
	if *hookConc < 1 || *hookConc > 10000 {
		return usagef("--webhook-concurrency must be from 1 to 10000")
	}
	if *ipRate < 1 {
		return usagef("--ip-rate must be at least 1")
	}
	if limits.ReadHeaderTimeout <= 0 || limits.ReadTimeout <= 0 || limits.WriteTimeout <= 0 || limits.IdleTimeout <= 0 {
		return usagef("the timeouts must be positive durations, such as 30s")
	}
	if limits.MaxHeaderBytes < 1024 {
		return usagef("--max-header-bytes must be at least 1024")
	}
	var trusted []netip.Prefix
	if *proxies != "" {
		if *ipHeader == "" {
			return usagef("--trusted-proxies needs --client-ip-header")
		}
		for _, p := range strings.Split(*proxies, ",") {
			pfx, err := netip.ParsePrefix(strings.TrimSpace(p))
			if err != nil {
				return usagef("--trusted-proxies: %v", err)
			}
			trusted = append(trusted, pfx)
		}
	}
	if h := strings.ToLower(*ipHeader); h != "" && h != "x-forwarded-for" && h != "x-real-ip" {
		return usagef("--client-ip-header must be X-Forwarded-For or X-Real-IP")
	}
	seal, err := sealer(*dbURL, *keyFile, true)
	if err != nil {
		return err
	}
	var logger *slog.Logger
	switch *logFormat {
	case "text":
		logger = slog.New(slog.NewTextHandler(e.stderr, nil))
	case "json":
		logger = slog.New(slog.NewJSONHandler(e.stderr, nil))
	default:
		return usagef("--log-format must be text or json")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if e.interrupt != nil {
		go func() {
			select {
			case <-e.interrupt:
				stop()
			case <-ctx.Done():
			}
		}()
	}
	s, db, err := openAPI(ctx, *dbURL, *tlPath, logger, api.Config{
		KeyLimit: ratelimit.Per(*rate, time.Second), IPLimit: ratelimit.Per(*ipRate, time.Second),
		ClientIPHeader: *ipHeader, TrustedProxies: trusted, SeparateMetrics: *metricsAddr != "",
		ShadowRate: *shadowRate, NearestVersion: *nearest, DefaultVersion: defVersion, ReportSampleRate: *reportSample,
		WebhooksAllowPrivate: *allowPrivate, Sealer: seal, HTTP: limits,
		Webhooks: webhooks.Config{Backoff: webhooks.Backoff{Initial: *retryBase}, Concurrency: *hookConc}, Retention: retain,
	})
	if err != nil {
		return err
	}
	defer db.Close()
	if *metricsAddr != "" {
		mln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			return err
		}
		msrv := &http.Server{Handler: s.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second, WriteTimeout: time.Minute}
		go msrv.Serve(mln)
		defer msrv.Close()
		fmt.Fprintf(e.stdout, "verso: metrics on http://%s/metrics\n", mln.Addr())
	}
	acct, secret, err := s.EnsureAccount(ctx)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	tl := s.Engine.Timeline()
	fmt.Fprintf(e.stdout, "verso: serving %s on http://%s (database %s)\n", orDefault(tl.API(), "the demo API"), ln.Addr(), db.Dialect)
	fmt.Fprintf(e.stdout, "verso: %d versions, newest %s, base %s; header %s\n", tl.Versions().Len(), tl.Newest(), tl.Versions().Base(), tl.Header())
	switch {
	case !defVersion.IsZero():
		fmt.Fprintf(e.stdout, "verso: a request with no %s header pins its account to %s (--default-version)\n", tl.Header(), defVersion)
	case tl.NewestStable() != tl.Newest():
		fmt.Fprintf(e.stdout, "verso: a request with no %s header pins its account to %s (newer versions are previews, served when asked for)\n", tl.Header(), tl.NewestStable())
	}
	if secret != "" {
		fmt.Fprintf(e.stdout, "verso: created account %s; its test API key (shown once):\n\n    %s\n\n", acct.ID, secret)
		fmt.Fprintf(e.stdout, "verso: try: curl -s http://%s/v1/customers -u %s: -d email=jenny@example.com -H '%s: 2019-10-17'\n", ln.Addr(), secret, tl.Header())
	} else {
		fmt.Fprintf(e.stdout, "verso: account %s; make a key with: verso keys create --db %s\n", acct.ID, *dbURL)
	}
	err = s.Serve(ctx, ln, 20*time.Second)
	fmt.Fprintln(e.stdout, "verso: stopped")
	return err
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// openAdmin opens the demo's database for the keys and accounts commands,
// with the key that seals its secrets, logging warnings only.
func openAdmin(ctx context.Context, e *env, dbURL string) (*api.Server, *storage.DB, error) {
	seal, err := sealer(dbURL, "", false)
	if err != nil {
		return nil, nil, err
	}
	return openAPI(ctx, dbURL, "", slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), api.Config{Sealer: seal})
}

func runKeys(e *env, args []string) error {
	fs := flag.NewFlagSet("keys", flag.ContinueOnError)
	dbURL := fs.String("db", "verso.db", "")
	account := fs.String("account", "", "")
	sub, err := subcommand(fs, args, "create", "list")
	if err != nil {
		return err
	}
	ctx := context.Background()
	s, db, err := openAdmin(ctx, e, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	id := *account
	if id == "" {
		acct, secret, err := s.EnsureAccount(ctx)
		if err != nil {
			return err
		}
		id = acct.ID
		if secret != "" && sub == "create" {
			fmt.Fprintln(e.stdout, secret)
			return nil
		}
	} else if _, err := s.Accounts.Account(ctx, id); err != nil {
		return fmt.Errorf("account %s: %w", id, err)
	}
	if sub == "list" {
		keys, err := s.Accounts.ListKeys(ctx, id)
		if err != nil {
			return err
		}
		for _, k := range keys {
			state := "active"
			if !k.Revoked.IsZero() {
				state = "revoked"
			}
			fmt.Fprintf(e.stdout, "%s\t%s\t%s\t%s\n", k.ID, k.Redacted(), k.Created.Format(time.RFC3339), state)
		}
		return nil
	}
	secret, _, err := s.Accounts.CreateKey(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, secret)
	return nil
}

func runAccounts(e *env, args []string) error {
	fs := flag.NewFlagSet("accounts", flag.ContinueOnError)
	dbURL := fs.String("db", "verso.db", "")
	name := fs.String("name", "Account", "")
	sub, err := subcommand(fs, args, "create", "list")
	if err != nil {
		return err
	}
	ctx := context.Background()
	s, db, err := openAdmin(ctx, e, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if sub == "list" {
		all, err := s.Accounts.Accounts(ctx)
		if err != nil {
			return err
		}
		for _, a := range all {
			fmt.Fprintf(e.stdout, "%s\t%s\n", a.ID, a.Name)
		}
		return nil
	}
	acct, err := s.Accounts.CreateAccount(ctx, *name)
	if err != nil {
		return err
	}
	secret, _, err := s.Accounts.CreateKey(ctx, acct.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s\t%s\n", acct.ID, secret)
	return nil
}

// retention is the value of --retain-events: a positive duration, or
// "forever" (stored as -1: keep).
type retention time.Duration

func (r *retention) String() string {
	if r == nil {
		return ""
	}
	if *r < 0 {
		return "forever"
	}
	return time.Duration(*r).String()
}

func (r *retention) Set(s string) error {
	if s == "forever" {
		*r = -1
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return fmt.Errorf("want a positive duration, such as 720h, or forever")
	}
	*r = retention(d)
	return nil
}
