package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/ratelimit"
	"github.com/verso-api/verso/storage"
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
  --shadow-rate R      share of old-version responses also rendered in the
                       newest, differences counted at /metrics (default 0)
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

func openAPI(ctx context.Context, dbURL, timelinePath string, logger *slog.Logger, cfg api.Config) (*api.Server, *storage.DB, error) {
	db, err := storage.Open(ctx, dbURL)
	if err != nil {
		return nil, nil, err
	}
	cfg.DB, cfg.Logger = db, logger
	if timelinePath != "" {
		tl, err := gates.LoadFile(timelinePath, nil)
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
	shadowRate := fs.Float64("shadow-rate", 0, "")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *port != 0 {
		if *port < 0 || *port > 65535 {
			return usagef("--port %d is out of range", *port)
		}
		*addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(*port))
	}
	if *shadowRate < 0 || *shadowRate > 1 {
		return usagef("--shadow-rate must be between 0 and 1")
	}
	if *rate < 1 {
		return usagef("--rate must be at least 1")
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
	s, db, err := openAPI(ctx, *dbURL, *tlPath, logger, api.Config{KeyLimit: ratelimit.Per(*rate, time.Second), ShadowRate: *shadowRate})
	if err != nil {
		return err
	}
	defer db.Close()
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
	if tl.NewestStable() != tl.Newest() {
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

func runKeys(e *env, args []string) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "list") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return flag.ErrHelp
		}
		return usagef("want 'create' or 'list'")
	}
	sub := args[0]
	fs := flag.NewFlagSet("keys", flag.ContinueOnError)
	dbURL := fs.String("db", "verso.db", "")
	account := fs.String("account", "", "")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	ctx := context.Background()
	s, db, err := openAPI(ctx, *dbURL, "", slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), api.Config{})
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
