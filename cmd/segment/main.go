// Command segment trains U-Nets on folders of images and masks, predicts masks for new
// images and scores models on whole data sets.
//
// Usage:
//
//	segment <command> [flags] [arguments]
//
// Run "segment help" for the list of commands and "segment <command> -h" for each one's
// flags. Exit status: 0 on success, 1 when the work failed (the reason is printed, naming the
// file), 2 for a usage error, 130 when interrupted.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// A command is one subcommand: its flags live on its own FlagSet, made fresh for each run so
// that tests can run commands one after another.
type command struct {
	name  string
	args  string // the usage line after the flags, e.g. "IMAGE..."
	short string // one line for the command list
	long  string // the help text's body
	flags func(fs *flag.FlagSet) func(fs *flag.FlagSet, out, errOut io.Writer) error
}

// commands is the command table, in the order help lists the commands: the order of a
// user's day. A new command is one line here and a file of its own.
var commands = []*command{
	trainCommand(),
	predictCommand(),
	evalCommand(),
	reportCommand(),
	serveCommand(),
	doctorCommand(),
	planCommand(),
	inspectCommand(),
	exportCommand(),
	landscapeCommand(),
	ablateCommand(),
	benchCommand(),
	versionCommand(),
}

// usageError is a mistake in the command line: exit status 2, with the command's usage.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// errInterrupted ends a command that stopped on Ctrl-C after saving what it had.
var errInterrupted = errors.New("interrupted")

// Exit statuses.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitInterrupted = 130
)

func main() {
	watchInterrupts(os.Stderr)
	stop := startProfile(os.Stderr)
	code := run(os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program, apart from the process: it returns the exit status.
func run(args []string, out, errOut io.Writer) int {
	if len(args) == 0 {
		printTopUsage(errOut)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			c := find(args[1])
			if c == nil {
				fmt.Fprintf(errOut, "segment help: unknown command %q\n", args[1])
				return exitUsage
			}
			printCommandUsage(out, c, newFlagSet(c))
			return exitOK
		}
		printTopUsage(out)
		return exitOK
	case "-version", "--version":
		name = "version"
	}
	c := find(name)
	if c == nil {
		fmt.Fprintf(errOut, "segment: unknown command %q\nRun 'segment help' for the list of commands.\n", name)
		return exitUsage
	}
	fs := newFlagSet(c)
	runFn := c.flags(fs)
	if err := parseInterspersed(fs, args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printCommandUsage(out, c, fs)
			return exitOK
		}
		fmt.Fprintf(errOut, "segment %s: %v\n", c.name, err)
		fmt.Fprintf(errOut, "Run 'segment %s -h' for usage.\n", c.name)
		return exitUsage
	}
	err := runFn(fs, out, errOut)
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(errOut, "segment %s: %v\nRun 'segment %s -h' for usage.\n", c.name, err, c.name)
		return exitUsage
	case errors.Is(err, errInterrupted):
		fmt.Fprintf(errOut, "segment %s: %v\n", c.name, err)
		return exitInterrupted
	default:
		fmt.Fprintf(errOut, "segment %s: %v\n", c.name, err)
		return exitFailure
	}
}

// parseInterspersed parses flags wherever they stand among the arguments ("segment doctor
// DIR --ignore 11" as well as "segment doctor --ignore 11 DIR"), as users expect; after
// "--" everything is an argument. fs.Args() then gives the arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) error {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		rest := fs.Args()
		consumed := args[:len(args)-len(rest)]
		if len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	return fs.Parse(append([]string{"--"}, pos...))
}

func find(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func newFlagSet(c *command) *flag.FlagSet {
	fs := flag.NewFlagSet("segment "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // run prints errors and usage itself, once
	return fs
}

func printTopUsage(w io.Writer) {
	fmt.Fprint(w, "segment trains U-Nets to segment images, predicts masks and scores models.\n\n")
	fmt.Fprint(w, "Usage:\n\n\tsegment <command> [flags] [arguments]\n\nCommands:\n\n")
	for _, c := range commands {
		fmt.Fprintf(w, "\t%-10s %s\n", c.name, c.short)
	}
	fmt.Fprint(w, "\nRun 'segment help <command>' or 'segment <command> -h' for a command's flags.\n")
}

func printCommandUsage(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: segment %s [flags] %s\n\n", c.name, c.args)
	fmt.Fprintln(w, strings.TrimSpace(c.long))
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprint(w, "\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
}
