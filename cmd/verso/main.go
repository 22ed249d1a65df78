// Command verso serves every pinned version of an API from one code base,
// and renders, upgrades and checks bodies against a timeline of versions.
//
// Usage:
//
//	verso render  -f TIMELINE --to VERSION [--from VERSION] [FILE]
//	verso upgrade -f TIMELINE --from VERSION [--endpoint "POST /v1/customers"] [FILE]
//	verso check   -f TIMELINE
//	verso versions -f TIMELINE
//	verso serve   [--addr 127.0.0.1:4242] [--db verso.db] [--timeline FILE]
//
// Run "verso help COMMAND" for the flags of each command. Exit status is 0
// on success, 1 for bad input and 2 for wrong usage.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	_ "github.com/verso-api/verso/storage/drivers" // registers the SQLite and PostgreSQL drivers
)

// usageError is wrong usage of the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// env is what a command runs with; tests give it buffers.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// interrupt, when set, is closed to stop long-running commands
	// (serve) in tests.
	interrupt <-chan struct{}
}

type command struct {
	name    string
	summary string
	usage   string
	run     func(e *env, args []string) error
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

func main() {
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	os.Exit(run(e, os.Args[1:]))
}

// run executes one command line and returns the exit status. It never lets
// a panic through as a stack trace.
func run(e *env, args []string) (status int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(e.stderr, "verso: internal error: %v\n", r)
			status = 1
		}
	}()
	if len(args) == 0 {
		topUsage(e.stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "-h", "--help", "-help", "help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				fmt.Fprint(e.stdout, c.usage)
				return 0
			}
			fmt.Fprintf(e.stderr, "verso: unknown command %q\n", args[1])
			return 2
		}
		topUsage(e.stdout)
		return 0
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(e.stderr, "verso: unknown command %q; run 'verso help'\n", name)
		return 2
	}
	err := c.run(e, args[1:])
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(e.stdout, c.usage)
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "verso %s: %s\n%s", name, ue.msg, c.usage)
		return 2
	}
	fmt.Fprintf(e.stderr, "verso %s: %s\n", name, oneLine(err.Error()))
	return 1
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

func topUsage(w io.Writer) {
	fmt.Fprint(w, "verso serves every pinned version of an API from one code base.\n\nUsage:\n  verso COMMAND [flags]\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(w, "\nRun 'verso help COMMAND' for a command's flags.\nExit status: 0 success, 1 bad input, 2 wrong usage.\n")
}

// parseFlags parses flags that may come before or after positional
// arguments, and returns the positional ones.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// subcommand returns the subcommand args start with, one of subs, and
// parses fs's flags after it, refusing any other argument: `verso keys
// create --db verso.db`.
func subcommand(fs *flag.FlagSet, args []string, subs ...string) (string, error) {
	if len(args) == 0 || !slices.Contains(subs, args[0]) {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return "", flag.ErrHelp
		}
		return "", usagef("want '%s'", strings.Join(subs, "' or '"))
	}
	if err := flagsOnly(fs, args[1:]); err != nil {
		return "", err
	}
	return args[0], nil
}

// flagsOnly parses args as fs's flags, refusing any positional argument.
func flagsOnly(fs *flag.FlagSet, args []string) error {
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	return nil
}

// readInput reads FILE, or standard input when there is no file or it is "-".
func readInput(e *env, pos []string) ([]byte, error) {
	const max = 256 << 20
	var r io.Reader = e.stdin
	switch len(pos) {
	case 0:
	case 1:
		if pos[0] != "-" {
			f, err := os.Open(pos[0])
			if err != nil {
				return nil, err
			}
			defer f.Close()
			r = f
		}
	default:
		return nil, usagef("want at most one FILE, got %d", len(pos))
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if len(b) > max {
		return nil, fmt.Errorf("input is larger than %d bytes", max)
	}
	return b, nil
}
