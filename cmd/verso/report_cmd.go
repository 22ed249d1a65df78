package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"io"
	"strings"

	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/proxy"
	"github.com/verso-api/verso/reports"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/versions"
)

func init() {
	register(&command{name: "upgrade-report", summary: "print an account's upgrade report, measured on its own traffic", run: runUpgradeReport, usage: `Usage: verso upgrade-report --db URL (--account A | --authorization VALUE) [--to V] [--format json|html] [-f TIMELINE]

Prints the upgrade report of one account: every change between the
account's version (its pin; --default-version, else the newest stable
version, when it has none) and version V (--to; the newest stable version
by default), oldest first, each with whether it is breaking, whether it
touches the account's own requests, responses and webhook deliveries of
the last 30 days (affects_you: true, false, or "unknown" for behaviour
changes), the evidence (counts, endpoints, fields, event types, first and
last seen), and what to do; then a summary. The evidence is what verso
serve and verso proxy recorded in the database (names and counts, never
values).

For accounts of verso proxy, which names a client by a keyed hash of its
Authorization header, give --authorization with the header's whole value
(- reads it from standard input), as for verso pins set.

Flags:
  --db URL               a SQLite file (default verso.db) or postgres://...
  --account A            the account, as the server names it
  --authorization VALUE  an Authorization header's value (verso proxy)
  --to V                 the version to move to (default: the newest stable)
  --default-version V    the version of an account with no pin
  --format F             json (default) or html
  -f, --timeline FILE    the timeline (default: the demo API's)
`})
}

// runUpgradeReport is verso upgrade-report.
func runUpgradeReport(e *env, args []string) error {
	fs := flag.NewFlagSet("upgrade-report", flag.ContinueOnError)
	dbURL := fs.String("db", "verso.db", "")
	account := fs.String("account", "", "")
	auth := fs.String("authorization", "", "")
	to := fs.String("to", "", "")
	def := fs.String("default-version", "", "")
	format := fs.String("format", "json", "")
	file := timelineFlag(e, fs)
	if err := flagsOnly(fs, args); err != nil {
		return err
	}
	if (*account == "") == (*auth == "") {
		return usagef("give one of --account A and --authorization VALUE")
	}
	if *format != "json" && *format != "html" {
		return usagef("--format: json or html, not %q", *format)
	}
	tl, err := pinsTimeline(file)
	if err != nil {
		return err
	}
	var target, from versions.Version
	if *to != "" {
		if target, err = resolve(tl, "to", *to); err != nil {
			return err
		}
	}
	if *def != "" {
		if from, err = resolve(tl, "default-version", *def); err != nil {
			return err
		}
	} else {
		from = tl.NewestStable()
	}
	ctx := context.Background()
	db, err := storage.Open(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	name := *account
	if *auth != "" {
		if *auth == "-" {
			line, err := bufio.NewReader(io.LimitReader(e.stdin, maxImportLine)).ReadString('\n')
			if err != nil && err != io.EOF {
				return err
			}
			if *auth = strings.TrimRight(line, "\r\n"); *auth == "" {
				return usagef("--authorization -: standard input holds no value")
			}
		}
		salt, err := proxy.LoadSalt(ctx, db)
		if err != nil {
			return err
		}
		name = proxy.AccountOf(salt, *auth)
	}
	pinStore, err := pins.NewSQLStore(ctx, db, nil)
	if err != nil {
		return err
	}
	switch p, err := pinStore.Get(ctx, name); {
	case err == nil:
		from = p.Version
	case !errors.Is(err, pins.ErrNotPinned):
		return err
	}
	store, err := reports.NewSQLStore(ctx, db, nil)
	if err != nil {
		return err
	}
	rep, err := reports.NewReporter(tl, store, nil)
	if err != nil {
		return err
	}
	r, err := rep.Report(ctx, name, from, target)
	if err != nil {
		return err
	}
	if *format == "html" {
		return r.WriteHTML(e.stdout, nil)
	}
	js, err := r.JSON()
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(append(js, '\n'))
	return err
}
