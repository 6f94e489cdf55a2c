package main

import (
	"bytes"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
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
	// The default configuration takes the AdminToken from the
	// environment; the demo makes one up, so that its admin page can
	// write, and prints it.
	token, tokenFrom := os.Getenv("TRANSDB_ADMIN_TOKEN"), "from $TRANSDB_ADMIN_TOKEN"
	if token == "" {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return c.fail(err)
		}
		token, tokenFrom = hex.EncodeToString(b), "made for this run; set TRANSDB_ADMIN_TOKEN to choose it"
		if err := os.Setenv("TRANSDB_ADMIN_TOKEN", token); err != nil {
			return c.fail(err)
		}
	}
	cfg, err := conf.Default()
	if err != nil {
		return c.fail(err)
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	var db string
	return serve(e, c.prog, cfg, "the default configuration", serveHooks{
		started: func(providers []*translation.Provider) error {
			db = providers[0].Path()
			return buildDemo(e, providers[0])
		},
		listening: func(addr net.Addr) {
			printTour(e, addr, db)
			if cfg.Admin {
				fmt.Fprintf(e.stdout, "The admin page: %s/admin/ (AdminToken %s, %s)\n", baseURL(addr), token, tokenFrom)
			}
		},
	})
}

// overview describes transdbd as a whole, for "transdbd -h".
func overview() string {
	var b strings.Builder
	b.WriteString(`Without a command, transdbd serves a demo with the embedded default
configuration (conf/default.conf in the source): the example table of
Apache2::Translation, at the top of transdb-demo.mmdb in a data directory,
loaded when that table is empty (on the first start): $TRANSDB_DATA if set,
else $XDG_DATA_HOME/transdb or ~/.local/share/transdb, else a new temporary
directory. It listens on ` + conf.DefaultListen + ` and prints example
requests.

Commands ("transdbd COMMAND -h" describes each):
`)
	width := 0
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-*s %s\n", width, c.name, c.summary)
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

// buildDemo loads the example table into p when p's table is empty: in
// a new database, or in one whose table was emptied or lies elsewhere
// (before the top of the file was the default, the demo kept its table
// under the base key trans, db). Of several transdbd started at once,
// one loads it; the others find that the database has moved on.
func buildDemo(e *env, p *translation.Provider) error {
	s, err := p.Snapshot()
	if err != nil {
		return err
	}
	was := s.Generation()
	n, err := s.Records()
	s.Release()
	if err != nil {
		return err
	}
	if n != 0 {
		fmt.Fprintf(e.stdout, "transdbd: demo database %s (generation %d, %d records)\n", p.Path(), was, n)
		return nil
	}
	gen, n, err := p.Load(bytes.NewReader(exampleTable), translation.LoadOptions{ExpectGeneration: &was})
	if errors.Is(err, translation.ErrGenerationMismatch) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("building the demo database: %w", err)
	}
	done := "created the demo database %s from the example table"
	if was != 0 {
		done = "loaded the example table into the empty table of the demo database %s"
	}
	fmt.Fprintf(e.stdout, "transdbd: "+done+" (generation %d, %d records)\n", p.Path(), gen, n)
	return nil
}

// printTour prints requests to try against the server at addr, and
// commands to try on its database file db.
func printTour(e *env, addr net.Addr, db string) {
	fmt.Fprintf(e.stdout, `transdbd: serving %s; stop with Ctrl-C. Try:
  curl '%[1]s/v1/translate?uri=/static/img.png&host=www.xyz.de'
  curl '%[1]s/v1/translate?uri=/appl1/x&host=www.example.org'
  curl '%[1]s/v1/fetch?key=front&uri=/static'
  curl '%[1]s/v1/resolve?key=front&uri=/static/img.png'
  curl '%[1]s/v1/keys'
  curl '%[1]s/v1/uris?key=back'
  curl '%[1]s/v1/dump'
  curl '%[1]s/v1/stats'
The command line works on the same table, e.g.:
  transdbd translate -db %[2]s -key front -host www.xyz.de /appl1/x
  transdbd fetch -db %[2]s front /static
  transdbd dump -db %[2]s -format jsonl
`, baseURL(addr), shellQuote(db))
}

// baseURL returns the URL of the server listening on addr.
func baseURL(addr net.Addr) string {
	host := addr.String()
	if a, ok := addr.(*net.TCPAddr); ok && a.IP.IsUnspecified() {
		host = net.JoinHostPort("localhost", fmt.Sprint(a.Port))
	}
	return "http://" + host
}

// shellQuote returns s as one word of a shell command line: as it is when
// it holds only characters a shell takes literally, else single-quoted.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@%,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
