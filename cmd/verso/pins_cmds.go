package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/proxy"
)

// pinsSetUsage and pinsImportUsage are parts of verso pins's usage.
const pinsSetUsage = `verso pins set --db URL --version V (--account A | --authorization VALUE) [-f TIMELINE]

Pins one account to version V, whatever its pin was (creating it when it
has none), and records the move in the account's pin history: an existing
client keeps the version it integrated against. The account cannot roll an
operator's move back.

For accounts of verso proxy, which names a client by a keyed hash of its
Authorization header, give --authorization with the header's whole value
(Bearer sk_live_...): the account is hashed as the proxy hashes requests,
with the salt kept in the same database, and only the hash is stored.
--authorization - reads it from standard input, out of the shell's history.

Flags of pins set:
  --db URL               a SQLite file (default verso.db) or postgres://...
  --version V            the version, one of the timeline's
  --account A            the account, as the server names it
  --authorization VALUE  an Authorization header's value (verso proxy)
  -f, --timeline FILE    the timeline (default: the demo API's)
`

const pinsImportUsage = `verso pins import --db URL [--authorization] [-f TIMELINE] FILE

Pins every account of FILE (CSV: account,version per line; a first line
account,version is a header; - reads standard input) to its version, as
verso pins set does, in one transaction: either every line is pinned or,
when one is wrong, none, and the line is named. Each move is recorded in
its account's history.

With --authorization the first column is an Authorization header's whole
value (Bearer sk_live_...), hashed as verso proxy hashes requests with the
salt kept in the same database: credentials are never stored, and never
printed.

Flags of pins import:
  --db URL             a SQLite file (default verso.db) or postgres://...
  --authorization      the first column holds Authorization header values
  -f, --timeline FILE  the timeline (default: the demo API's)
`

// maxImportLine bounds a line of an import file.
const maxImportLine = 4096

// runPinsSet is verso pins set.
func runPinsSet(e *env, args []string) error {
	fs := flag.NewFlagSet("pins set", flag.ContinueOnError)
	dbURL := fs.String("db", "verso.db", "")
	version := fs.String("version", "", "")
	account := fs.String("account", "", "")
	auth := fs.String("authorization", "", "")
	file := timelineFlag(e, fs)
	if err := flagsOnly(fs, args); err != nil {
		return err
	}
	if (*account == "") == (*auth == "") {
		return usagef("give one of --account A and --authorization VALUE")
	}
	tl, err := pinsTimeline(file)
	if err != nil {
		return err
	}
	v, err := resolve(tl, "version", *version)
	if err != nil {
		return err
	}
	ctx := context.Background()
	store, db, err := openPins(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	name := *account
	if *auth == "-" {
		line, err := bufio.NewReader(io.LimitReader(e.stdin, maxImportLine)).ReadString('\n')
		if err != nil && err != io.EOF {
			return err
		}
		if *auth = strings.TrimRight(line, "\r\n"); *auth == "" {
			return usagef("--authorization -: standard input holds no value")
		}
	}
	if *auth != "" {
		salt, err := proxy.LoadSalt(ctx, db)
		if err != nil {
			return err
		}
		name = proxy.AccountOf(salt, *auth)
	}
	before, err := store.Get(ctx, name)
	if err != nil && !errors.Is(err, pins.ErrNotPinned) {
		return err
	}
	p, err := store.Set(ctx, name, v)
	if err != nil {
		return err
	}
	switch {
	case before.Version == p.Version:
		fmt.Fprintf(e.stdout, "verso: %s is already pinned to %s\n", name, p.Version)
	case before.Version.IsZero():
		fmt.Fprintf(e.stdout, "verso: pinned %s to %s\n", name, p.Version)
	default:
		fmt.Fprintf(e.stdout, "verso: moved %s from %s to %s\n", name, before.Version, p.Version)
	}
	return nil
}

// runPinsImport is verso pins import.
func runPinsImport(e *env, args []string) error {
	fs := flag.NewFlagSet("pins import", flag.ContinueOnError)
	dbURL := fs.String("db", "verso.db", "")
	auth := fs.Bool("authorization", false, "")
	file := timelineFlag(e, fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give one FILE (or - for standard input)")
	}
	tl, err := pinsTimeline(file)
	if err != nil {
		return err
	}
	var in io.Reader = e.stdin
	if pos[0] != "-" {
		f, err := os.Open(pos[0])
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	as, err := readAssignments(in, tl, *auth)
	if err != nil {
		return err
	}
	ctx := context.Background()
	store, db, err := openPins(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if *auth {
		salt, err := proxy.LoadSalt(ctx, db)
		if err != nil {
			return err
		}
		for i := range as {
			as[i].Account = proxy.AccountOf(salt, as[i].Account)
		}
	}
	n, err := store.SetMany(ctx, as)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "verso: imported %d lines: %d pins created or moved, the others already at their version\n", len(as), n)
	return nil
}

// readAssignments reads an import file: account,version per line, an
// optional header. Versions must be on tl. With secret set, the accounts
// are credentials: errors name lines, never their values.
func readAssignments(in io.Reader, tl *gates.Timeline, secret bool) ([]pins.Assignment, error) {
	r := csv.NewReader(&lineLimit{r: in, max: maxImportLine})
	r.FieldsPerRecord = 2
	r.TrimLeadingSpace = true
	r.ReuseRecord = true
	var out []pins.Assignment
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("line %d: not account,version: %v", pe.Line, pe.Err)
			}
			return nil, err
		}
		line, _ := r.FieldPos(0)
		account, version := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		if len(out) == 0 && line == 1 && strings.EqualFold(account, "account") && strings.EqualFold(version, "version") {
			continue
		}
		who := fmt.Sprintf("account %q", account)
		if secret {
			who = "its Authorization value"
		}
		if account == "" {
			return nil, fmt.Errorf("line %d: no account", line)
		}
		v, err := tl.Resolve(version)
		if err != nil {
			return nil, fmt.Errorf("line %d (%s): %w", line, who, err)
		}
		out = append(out, pins.Assignment{Account: account, Version: v})
	}
	if len(out) == 0 {
		return nil, errors.New("the file pins no account")
	}
	return out, nil
}

// lineLimit fails a read once a line is longer than max bytes.
type lineLimit struct {
	r    io.Reader
	max  int
	line int // bytes of the current line so far
}

var errLongLine = errors.New("a line is too long")

func (l *lineLimit) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for _, c := range p[:n] {
		if c == '\n' {
			l.line = 0
			continue
		}
		if l.line++; l.line > l.max {
			return 0, fmt.Errorf("%w (over %d bytes)", errLongLine, l.max)
		}
	}
	return n, err
}

// pinsTimeline loads -f, or the demo's timeline.
func pinsTimeline(file *timelineArg) (*gates.Timeline, error) {
	if file.path != "" {
		return loadTimeline(file)
	}
	return api.LoadDefaultTimeline()
}
