package main

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"transdb/conf"
	"transdb/translation"
)

// exampleTable is the example table of Apache2::Translation, the demo
// database's content. It is a copy of testdata/example.txt, which go:embed
// cannot reach from here; a test keeps the two identical.
//
//go:embed example.txt
var exampleTable []byte

// runDefault serves the demo: the embedded default configuration, whose
// database lives in a data directory and is built from exampleTable on
// the first start.
func runDefault(e *env, args []string) int {
	c := newCLI(e, "", "[-listen ADDR]\n       transdbd COMMAND [flags]", overview())
	listen := c.fs.String("listen", "", "serve on `ADDR` instead of "+conf.DefaultListen+" (127.0.0.1:0 picks a free port)")
	if _, code, ok := c.parse(args, 0, 0); !ok {
		return code
	}
	dir, from, err := dataDir()
	if err != nil {
		return c.fail(err)
	}
	hint := ""
	if from != fromEnv {
		hint = "; set TRANSDB_DATA to choose another"
	}
	fmt.Fprintf(e.stdout, "transdbd: data directory %s (%s%s)\n", dir, from, hint)
	if err := os.Setenv("TRANSDB_DATA", dir); err != nil {
		return c.fail(err)
	}
	cfg, err := conf.Default()
	if err != nil {
		return c.fail(err)
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	return serve(e, c.prog, cfg, "the default configuration", serveHooks{
		started: func(providers []*translation.Provider) error {
			return buildDemo(e, providers[0])
		},
		listening: func(addr net.Addr) { printTour(e, addr) },
	})
}

// overview describes transdbd as a whole, for "transdbd -h".
func overview() string {
	var b strings.Builder
	b.WriteString(`Without a command, transdbd serves a demo with the embedded default
configuration (conf/default.conf in the source): the example table of
Apache2::Translation, in transdb-demo.mmdb in a data directory, built on the
first start: $TRANSDB_DATA if set, else $XDG_DATA_HOME/transdb or
~/.local/share/transdb, else a new temporary directory. It listens on
` + conf.DefaultListen + ` and prints example requests.

Commands ("transdbd COMMAND -h" describes each):
`)
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-8s %s\n", c.name, c.summary)
	}
	b.WriteString(`
The commands working on a database file take -db FILE, or -config FILE to
work on what transdbd serve -config FILE serves: the file and base key of
its first provider, or of the one -basekey selects. Those reading or
writing a table take -basekey; with -db its default is the top of the file,
where the default configuration keeps its table. Reading a base key under
which the file has no table is an error.

Exit status: 0 success (a lookup that finds nothing is a success), 1
failure, 2 usage error; diff exits 0 when the tables agree, 1 when they
differ, 2 on error.`)
	return b.String()
}

// fromEnv is where dataDir says a directory named by $TRANSDB_DATA came
// from.
const fromEnv = "from $TRANSDB_DATA"

// dataDir picks the demo's data directory and creates it: $TRANSDB_DATA,
// else $XDG_DATA_HOME/transdb, else ~/.local/share/transdb, else a new
// temporary directory. It returns the directory, made absolute, and where
// it came from.
func dataDir() (dir, from string, err error) {
	if d := os.Getenv("TRANSDB_DATA"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", "", err
		}
		d, err := filepath.Abs(d)
		return d, fromEnv, err
	}
	var candidates [][2]string
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		candidates = append(candidates, [2]string{filepath.Join(d, "transdb"), "from $XDG_DATA_HOME"})
	}
	if home, err := os.UserHomeDir(); err == nil {
		candidates = append(candidates, [2]string{filepath.Join(home, ".local", "share", "transdb"), "in the home directory"})
	}
	for _, c := range candidates {
		if os.MkdirAll(c[0], 0o755) == nil {
			return c[0], c[1], nil
		}
	}
	d, err := os.MkdirTemp("", "transdb-")
	if err != nil {
		return "", "", err
	}
	return d, "a temporary directory", nil
}

// buildDemo loads the example table into p when its database is new:
// generation 0 and no records. Of several transdbd started at once, one
// loads it; the others find that the database has moved on.
func buildDemo(e *env, p *translation.Provider) error {
	s, err := p.Snapshot()
	if err != nil {
		return err
	}
	gen := s.Generation()
	n, err := s.Records()
	s.Release()
	if err != nil {
		return err
	}
	if gen != 0 || n != 0 {
		fmt.Fprintf(e.stdout, "transdbd: demo database %s (generation %d, %d records)\n", p.Path(), gen, n)
		return nil
	}
	var zero uint64
	gen, n, err = p.Load(bytes.NewReader(exampleTable), translation.LoadOptions{ExpectGeneration: &zero})
	if errors.Is(err, translation.ErrGenerationMismatch) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("building the demo database: %w", err)
	}
	fmt.Fprintf(e.stdout, "transdbd: created the demo database %s from the example table (generation %d, %d records)\n", p.Path(), gen, n)
	return nil
}

// printTour prints requests to try against the server at addr.
func printTour(e *env, addr net.Addr) {
	host := addr.String()
	if a, ok := addr.(*net.TCPAddr); ok && a.IP.IsUnspecified() {
		host = net.JoinHostPort("localhost", fmt.Sprint(a.Port))
	}
	base := "http://" + host
	fmt.Fprintf(e.stdout, `transdbd: serving %s; stop with Ctrl-C. Try:
  curl '%[1]s/v1/fetch?key=front&uri=/static'
  curl '%[1]s/v1/resolve?key=front&uri=/static/img.png'
  curl '%[1]s/v1/keys'
  curl '%[1]s/v1/uris?key=back'
  curl '%[1]s/v1/dump'
  curl '%[1]s/v1/stats'
`, base)
}
