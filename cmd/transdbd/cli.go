package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"transdb/translation"
)

// defaultBaseKey is the base key of the commands working on one database
// file when -basekey is not given: that of the default configuration.
var defaultBaseKey = []string{"trans", "db"}

// cli parses the command line of one subcommand with its own FlagSet.
// "-h" prints the usage to stdout and exits 0; any other problem with the
// command line is reported in one line on stderr and exits 2.
type cli struct {
	e        *env
	prog     string // "transdbd fetch"
	synopsis string // the arguments, as in "transdbd fetch -db FILE KEY URI"
	about    string // what the command does, a paragraph or two
	fs       *flag.FlagSet
	required []string // names of flags that must be given
}

// newCLI returns the parser of the subcommand name ("" for transdbd
// without a command).
func newCLI(e *env, name, synopsis, about string) *cli {
	prog := strings.TrimSpace("transdbd " + name)
	c := &cli{
		e:        e,
		prog:     prog,
		synopsis: synopsis,
		about:    about,
		fs:       flag.NewFlagSet(prog, flag.ContinueOnError),
	}
	// Parse errors are reported by parse, in one line; the usage is
	// printed only when asked for.
	c.fs.SetOutput(io.Discard)
	c.fs.Usage = func() {}
	return c
}

// dbFlag defines the required flag -db FILE.
func (c *cli) dbFlag() *string {
	c.required = append(c.required, "db")
	return c.fs.String("db", "", "the database `FILE` (required)")
}

// baseKeyFlag defines -basekey, which may be repeated.
func (c *cli) baseKeyFlag() *baseKeyFlag {
	b := new(baseKeyFlag)
	c.fs.Var(b, "basekey", "base `KEY` of the table: repeat it per level (-basekey trans -basekey db) or give it\n"+
		"once in a BaseKey form ('[qw/trans db/]'); '' is the top of the file (default trans db)")
	return b
}

// parse parses args, in which flags and positional arguments may be
// interleaved ("diff -db a b -key k"); "--" ends the flags. It returns the
// positional arguments, between minArgs and maxArgs of them (maxArgs < 0:
// any number). When ok is false the command is over with exit status code:
// 0 after -h, 2 after a usage error.
func (c *cli) parse(args []string, minArgs, maxArgs int) (pos []string, code int, ok bool) {
	for {
		err := c.fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			c.usage()
			return nil, exitOK, false
		}
		if err != nil {
			return nil, c.usageError(err), false
		}
		rest := c.fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	for _, name := range c.required {
		if c.fs.Lookup(name).Value.String() == "" {
			return nil, c.usageError(fmt.Errorf("-%s is required", name)), false
		}
	}
	switch {
	case len(pos) < minArgs:
		return nil, c.usageError(fmt.Errorf("missing arguments: usage: %s %s", c.prog, c.synopsis)), false
	case maxArgs >= 0 && len(pos) > maxArgs:
		return nil, c.usageError(fmt.Errorf("too many arguments: %q", pos[maxArgs:])), false
	}
	return pos, 0, true
}

// usage prints the command's help to stdout.
func (c *cli) usage() {
	w := c.e.stdout
	fmt.Fprintf(w, "Usage: %s %s\n\n%s\n", c.prog, c.synopsis, strings.TrimSpace(c.about))
	if hasFlags(c.fs) {
		fmt.Fprint(w, "\nFlags:\n")
		c.fs.SetOutput(w)
		c.fs.PrintDefaults()
		c.fs.SetOutput(io.Discard)
	}
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// usageError reports a usage error and returns exitUsage.
func (c *cli) usageError(err error) int {
	return usageError(c.e, c.prog, err, c.prog+" -h")
}

// fail reports a failure and returns exitFailure.
func (c *cli) fail(err error) int {
	return failure(c.e, c.prog, err)
}

// baseKeyFlag is the value of -basekey: every occurrence is one level,
// except that a single occurrence is read as a BaseKey parameter, as
// translation.ParseBaseKey reads it.
type baseKeyFlag struct {
	values []string
	set    bool
}

func (b *baseKeyFlag) String() string {
	if b == nil || !b.set {
		return ""
	}
	return strings.Join(b.values, " ")
}

func (b *baseKeyFlag) Set(s string) error {
	if len(b.values) == 0 {
		// Check the first value now, so that a malformed list is a usage
		// error; it is read as a list only if it stays alone.
		if _, err := translation.ParseBaseKey(s); err != nil {
			return err
		}
	}
	b.values = append(b.values, s)
	b.set = true
	return nil
}

// keys returns the base key: the default when -basekey was not given,
// the parsed BaseKey form when given once, the levels when repeated.
func (b *baseKeyFlag) keys() []string {
	switch len(b.values) {
	case 0:
		return defaultBaseKey
	case 1:
		keys, _ := translation.ParseBaseKey(b.values[0]) // checked by Set
		return keys
	default:
		return b.values
	}
}

// openProvider returns a provider for the table under baseKey in the
// database file path. A reading command needs the file to exist; a
// writing one creates it when it is missing. The provider does not watch
// the file for replacements: a command is over before that matters.
func openProvider(path string, baseKey []string, write bool) (*translation.Provider, error) {
	if !write {
		if err := mustExist(path); err != nil {
			return nil, err
		}
	}
	p, err := translation.New(translation.Options{
		FileName:      path,
		ReadOnly:      !write,
		BaseKey:       baseKey,
		CheckInterval: -1,
	})
	if err != nil {
		return nil, err
	}
	if err := p.Start(); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

// mustExist reports, as opening it would, why path cannot be read.
func mustExist(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	return f.Close()
}
