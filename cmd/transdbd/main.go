// Command transdbd serves translation tables to reverse proxies over HTTP
// and manages their database files from the command line.
//
// Without arguments it serves a demo database built from the example table
// of Apache2::Translation, with the embedded default configuration:
//
//	transdbd [-listen ADDR]
//
// With a subcommand it serves a configuration file or works on one
// database file:
//
//	transdbd serve   -config FILE [-cpuprofile FILE]
//	transdbd fetch   -db FILE [-basekey ...] [-notes] KEY URI
//	transdbd resolve -db FILE [-basekey ...] KEY URI
//	transdbd dump    -db FILE [-basekey ...] [-format text|file|jsonl]
//	transdbd dump    -db FILE -raw
//	transdbd load    -db FILE [-basekey ...] [-format ...] [-clear] [-generation G] INPUT|-
//	transdbd diff    -db FILE [-basekey ...] [-format ...] OTHER [-key K] [-uri U]
//	transdbd backup  -db FILE [PATH]
//	transdbd backups -db FILE -dir DIR
//	transdbd restore -db FILE PATH
//	transdbd verify  -db FILE
//	transdbd import  -db FILE PERLFILE
//	transdbd export  -db FILE [-intfmt N|L|J|Q] OUT
//	transdbd stats   -db FILE [-basekey ...]
//
// Without -basekey a command works on the table at the top of the file,
// as a provider without BaseKey does. Every command that takes -db FILE
// takes -config FILE instead: the configuration of "transdbd serve",
// whose first provider, or the one whose base key -basekey gives, names
// the database file and base key, so that the command works on what the
// daemon serves. "transdbd CMD -h" describes each. Exit status: 0 on success (a lookup
// that finds nothing is a success), 1 on failure, 2 on a usage error;
// diff exits 1 when the tables differ and 2 on any error. Errors are
// reported on standard error in one line.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// env is what a command runs with: the standard streams. Commands write
// their results to stdout and nothing else there; messages go to stderr.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// stderrTTY reports whether stderr is a terminal, where long work
	// shows its progress.
	stderrTTY bool
}

// command is one subcommand of transdbd.
type command struct {
	name    string
	summary string // one line for the overview
	run     func(e *env, args []string) int
}

// commands lists the subcommands in the order the overview shows them.
var commands = []command{
	{"serve", "serve the providers of a configuration file over HTTP", runServe},
	{"fetch", "print the block list of a key and uri", runFetch},
	{"resolve", "print what a request of a uri under a key resolves to", runResolve},
	{"translate", "evaluate the table for a request and print the decision", runTranslate},
	{"check", "list the rows whose action the engine cannot evaluate", runCheck},
	{"dump", "write the table in a text format", runDump},
	{"load", "load a table in a text format, in one transaction", runLoad},
	{"diff", "compare the table with another database file or a table", runDiff},
	{"backup", "copy the current version of a database file", runBackup},
	{"backups", "list the automatic backups of a database file", runBackups},
	{"restore", "put a backup in place, as a new version", runRestore},
	{"verify", "check a database file completely", runVerify},
	{"import", "replace a database file's content with a Perl MMapDB file's", runImport},
	{"export", "write a database file as a Perl MMapDB file", runExport},
	{"stats", "print the numbers of a table", runStats},
}

func main() {
	e := &env{
		stdin:     os.Stdin,
		stdout:    os.Stdout,
		stderr:    os.Stderr,
		stderrTTY: isTerminal(os.Stderr),
	}
	os.Exit(run(e, os.Args[1:]))
}

// run runs transdbd with the arguments after the program name and returns
// the exit status.
func run(e *env, args []string) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return runDefault(e, args)
	}
	name := args[0]
	if name == "help" {
		if len(args) == 1 {
			return runDefault(e, []string{"-h"})
		}
		name, args = args[1], []string{args[1], "-h"}
	}
	for _, c := range commands {
		if c.name == name {
			out := &stickyWriter{w: e.stdout}
			ce := *e
			ce.stdout = out
			code := c.run(&ce, args[1:])
			if code == exitOK && out.err != nil {
				// A result that did not reach its reader is no success.
				return failure(e, "transdbd "+name, fmt.Errorf("writing standard output: %w", out.err))
			}
			return code
		}
	}
	return usageError(e, "transdbd", fmt.Errorf("unknown command %q", name), "transdbd -h")
}

// stickyWriter passes writes on to w and keeps the first error.
type stickyWriter struct {
	w   io.Writer
	err error
}

func (s *stickyWriter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	if err != nil && s.err == nil {
		s.err = err
	}
	return n, err
}

// usageError reports a usage error in one line, with the command that
// explains the usage, and returns exitUsage.
func usageError(e *env, prog string, err error, help string) int {
	fmt.Fprintf(e.stderr, "%s: %s (see %s)\n", prog, oneLine(err), help)
	return exitUsage
}

// failure reports err in one line and returns exitFailure.
func failure(e *env, prog string, err error) int {
	fmt.Fprintf(e.stderr, "%s: %s\n", prog, oneLine(err))
	return exitFailure
}

// oneLine returns the error message on one line: errors joined with
// errors.Join hold line breaks.
func oneLine(err error) string {
	msg := strings.TrimSpace(err.Error())
	return strings.NewReplacer("\r\n", "; ", "\n", "; ").Replace(msg)
}

// isTerminal reports whether f is a character device, as a terminal is.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
