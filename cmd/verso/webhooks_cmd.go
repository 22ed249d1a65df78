package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"

	"github.com/verso-api/verso/demo/api"
)

func init() {
	register(&command{name: "webhooks", summary: "send a test event to a webhook endpoint in any version", run: runWebhooks, usage: `Usage: verso webhooks send --endpoint we_... --version VERSION (--event evt_... | --type TYPE) [--db verso.db] [--account acct_...]

Sends one event to a webhook endpoint of the demo API, rendered in VERSION
and signed with the endpoint's secret, without changing the endpoint or its
queue: try an upgrade on your receiver before you pin it. --event sends a
recorded event; --type sends a sample event of that type.

Flags:
  --endpoint ID        the webhook endpoint (required)
  --version VERSION    the version to render the event in (required)
  --event ID           a recorded event to send
  --type TYPE          a sample event type, such as customer.created
  --db URL             a SQLite file (default verso.db) or postgres://...
  --account ID         the endpoint's account (default: the first account)
  --timeline FILE      the timeline the server runs (default: the built-in one)
  --webhooks-allow-private
                       let the send reach loopback and private addresses
  --secrets-key-file F the key the server seals secrets with (see verso serve)
`})
}

func runWebhooks(e *env, args []string) error {
	fs := flag.NewFlagSet("webhooks send", flag.ContinueOnError)
	endpoint := fs.String("endpoint", "", "")
	version := fs.String("version", "", "")
	eventID := fs.String("event", "", "")
	typ := fs.String("type", "", "")
	dbURL := fs.String("db", "verso.db", "")
	account := fs.String("account", "", "")
	tlPath := fs.String("timeline", "", "")
	allowPrivate := fs.Bool("webhooks-allow-private", false, "")
	keyFile := fs.String("secrets-key-file", "", "")
	if _, err := subcommand(fs, args, "send"); err != nil {
		return err
	}
	switch {
	case *endpoint == "":
		return usagef("missing --endpoint")
	case (*eventID == "") == (*typ == ""):
		return usagef("give exactly one of --event and --type")
	}
	ctx := context.Background()
	seal, err := sealer(*dbURL, *keyFile, true)
	if err != nil {
		return err
	}
	s, db, err := openAPI(ctx, *dbURL, *tlPath, slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		api.Config{Sealer: seal, WebhooksAllowPrivate: *allowPrivate})
	if err != nil {
		return err
	}
	defer db.Close()
	v, err := resolve(s.Engine.Timeline(), "version", *version)
	if err != nil {
		return err
	}
	acct := *account
	if acct == "" {
		a, _, err := s.EnsureAccount(ctx)
		if err != nil {
			return err
		}
		acct = a.ID
	}
	res, err := s.SendTest(ctx, acct, *endpoint, *eventID, *typ, v)
	if err != nil {
		return err
	}
	if res.Status == 0 {
		return fmt.Errorf("%s was not delivered to %s: %s", res.EventID, *endpoint, res.Error)
	}
	fmt.Fprintf(e.stdout, "sent %s to %s in %s: HTTP %d\n", res.EventID, *endpoint, v, res.Status)
	if res.Status < 200 || res.Status > 299 {
		return fmt.Errorf("the endpoint answered %d", res.Status)
	}
	return nil
}
