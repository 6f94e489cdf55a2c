package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"transdb/conf"
	"transdb/translation"
)

// cli parses the command line of one subcommand with its own FlagSet.
// "-h" prints the usage to stdout and exits 0; any other problem with the
// command line is reported in one line on stderr and exits 2.
type cli struct {
	e        *env
	prog     string // "transdbd fetch"
	synopsis string // the arguments, as in "transdbd fetch -db FILE KEY URI"
	about    string // what the command does, a paragraph or two
	fs       *flag.FlagSet
	required []string       // names of flags that must be given
	checks   []func() error // further checks of the flags, usage errors
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

// dbFlags are the flags that say which database file, and for commands
// on one table which table, a command works on: -db FILE and -basekey, or
// -config FILE, the daemon's configuration, whose provider gives both.
type dbFlags struct {
	db, config string
	baseKey    baseKeyFlag
	// table: the command works on one table, and -basekey selects it.
	// Otherwise it works on a whole file, and -basekey only selects the
	// provider of -config whose file that is.
	table bool
}

// tableFlags defines -db, -config and -basekey for a command on one
// table.
func (c *cli) tableFlags() *dbFlags {
	f := &dbFlags{table: true}
	c.dbFileFlags(f)
	c.fs.Var(&f.baseKey, "basekey", "base `KEY` of the table: repeat it per level (-basekey trans -basekey db) or give it\n"+
		"once in a BaseKey form ('[qw/trans db/]'); '' is the top of the file. Default: with -db the\n"+
		"top of the file, with -config the first provider; with -config it selects the provider")
	return f
}

// fileFlags defines -db, -config and -basekey for a command on a whole
// database file.
func (c *cli) fileFlags() *dbFlags {
	f := new(dbFlags)
	c.dbFileFlags(f)
	c.fs.Var(&f.baseKey, "basekey", "with -config, the base `KEY` of the provider whose file to use (default the first)")
	c.checks = append(c.checks, func() error {
		if f.baseKey.set && f.config == "" {
			return errors.New("-basekey needs -config: the command works on the whole file, every base key")
		}
		return nil
	})
	return f
}

func (c *cli) dbFileFlags(f *dbFlags) {
	c.fs.StringVar(&f.db, "db", "", "the database `FILE`")
	c.fs.StringVar(&f.config, "config", "", "the configuration `FILE` of transdbd serve: work on the database file and base key of\n"+
		"its first provider, or of the one -basekey selects (instead of -db)")
	c.checks = append(c.checks, func() error {
		switch {
		case f.db != "" && f.config != "":
			return errors.New("-db and -config exclude each other: give one")
		case f.db == "" && f.config == "":
			return errors.New("-db FILE or -config FILE is required")
		}
		return nil
	})
}

// target is what a command works on.
type target struct {
	path    string   // the database file
	baseKey []string // the table's base key
	// configured: the table is one that a configuration serves, which
	// need not hold records yet.
	configured bool
	cfg        *conf.Config // the configuration of -config, nil with -db
	// backups are the automatic backups the configuration sets for the
	// file; nil with -db or when it sets none.
	backups *conf.Backups
}

// target returns the database file and base key the flags name, reading
// the configuration of -config.
func (f *dbFlags) target() (target, error) {
	if f.config == "" {
		return target{path: f.db, baseKey: f.baseKey.keys()}, nil
	}
	cfg, err := conf.Load(f.config)
	if err != nil {
		return target{}, err
	}
	p, err := f.provider(cfg)
	if err != nil {
		return target{}, err
	}
	return target{path: p.Path(), baseKey: p.Keys, configured: true, cfg: cfg, backups: p.Backups}, nil
}

// openTable opens the table the flags name; see openTable.
func (f *dbFlags) openTable(write bool) (*translation.Provider, target, error) {
	t, err := f.target()
	if err != nil {
		return nil, t, err
	}
	p, err := openTable(t, write)
	return p, t, err
}

// provider returns the provider of cfg that -basekey selects, as
// requests select it: by its base key, the first without -basekey.
func (f *dbFlags) provider(cfg *conf.Config) (conf.Provider, error) {
	if !f.baseKey.set {
		return cfg.Providers[0], nil
	}
	want := f.baseKey.keys()
	var have []string
	for _, p := range cfg.Providers {
		if slices.Equal(p.Keys, want) {
			return p, nil
		}
		have = append(have, fmt.Sprintf("%s (line %d)", translation.FormatBaseKey(p.Keys), p.Line))
	}
	return conf.Provider{}, fmt.Errorf("-basekey %s matches no provider of %s; its providers have the base keys %s",
		translation.FormatBaseKey(want), f.config, strings.Join(have, ", "))
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
	for _, check := range c.checks {
		if err := check(); err != nil {
			return nil, c.usageError(err), false
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

// keys returns the base key: none (the top of the file) when -basekey
// was not given, the parsed BaseKey form when given once, the levels
// when repeated.
func (b *baseKeyFlag) keys() []string {
	switch len(b.values) {
	case 0:
		return nil
	case 1:
		keys, _ := translation.ParseBaseKey(b.values[0]) // checked by Set
		return keys
	default:
		return b.values
	}
}

// checkKeyURI refuses, as the HTTP API does, a key or uri that no table
// can hold (see translation.ValidateKeyURI): it is a mistake in the
// command.
func checkKeyURI(key, uri string) error {
	if err := translation.ValidateField("key", key); err != nil {
		return err
	}
	return translation.ValidateField("uri", uri)
}

// openTable returns a provider for the table t names. A reading command
// needs the file to exist and, unless a configuration serves the table,
// the table too (see checkTable); a writing one creates the file when it
// is missing. The provider does not watch the file for replacements: a
// command is over before that matters.
func openTable(t target, write bool) (*translation.Provider, error) {
	if err := checkFile(t.path, write); err != nil {
		return nil, err
	}
	p, err := translation.New(translation.Options{
		FileName:      t.path,
		ReadOnly:      !write,
		BaseKey:       t.baseKey,
		CheckInterval: -1,
	})
	if err != nil {
		return nil, err
	}
	if err := p.Start(); err != nil {
		p.Stop()
		return nil, err
	}
	if !write && !t.configured {
		if err := checkTable(p); err != nil {
			p.Stop()
			return nil, err
		}
	}
	return p, nil
}

// checkTable fails when p's file has no table under p's base key, so that
// a mistyped -basekey is not read as an empty table. The top of the file
// of a database without any table is an empty table: that is where a
// table is loaded by default.
func checkTable(p *translation.Provider) error {
	have, err := p.BaseKeys()
	if err != nil {
		return err
	}
	want := p.BaseKey()
	if len(want) == 0 && len(have) == 0 {
		return nil
	}
	names := make([]string, len(have))
	for i, k := range have {
		if slices.Equal(k, want) {
			return nil
		}
		names[i] = translation.FormatBaseKey(k)
	}
	where := "under base key " + translation.FormatBaseKey(want)
	if len(want) == 0 {
		where = "at the top of the file (base key [])"
	}
	if len(names) == 0 {
		return fmt.Errorf("%s has no table %s; it holds no table at all", p.Path(), where)
	}
	return fmt.Errorf("%s has no table %s; it has tables under the base keys %s (select one with -basekey)",
		p.Path(), where, strings.Join(names, ", "))
}

// checkFile reports, in one clear line, why the database file at path
// cannot be used: it is a directory or, for reading, it cannot be
// opened; for writing, a missing file is created, but not a missing
// directory.
func checkFile(path string, write bool) error {
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return fmt.Errorf("%s is a directory, not a database file", path)
	case err == nil:
		return nil
	case write && errors.Is(err, fs.ErrNotExist):
		if _, err := os.Stat(filepath.Dir(path)); err != nil {
			return fmt.Errorf("cannot create %s: %w", path, err)
		}
		return nil
	}
	// The error of opening it, as reading it would report it.
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	return f.Close()
}
