package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"transdb/mmapdb"
	"transdb/perlmmapdb"
	"transdb/translation"
)

// formatFlag defines -format, checked by translation.ParseFormat; of says
// what it is the format of.
func (c *cli) formatFlag(of string) *translation.Format {
	f := translation.FormatText
	c.fs.Func("format", "`FORMAT` "+of+": text, file or jsonl (default text)", func(s string) error {
		var err error
		f, err = translation.ParseFormat(s)
		return err
	})
	return &f
}

func runDump(e *env, args []string) int {
	c := newCLI(e, "dump", "-db FILE|-config FILE [-basekey ...] [-format text|file|jsonl] | -raw", `
Writes the table of the newest version of FILE to standard output, ordered
by key, uri, block and order; a base key under which FILE has no table is
an error. The text format (the default) and jsonl keep
everything, so "transdbd load" takes their output back unchanged; the file
format is that of Apache2::Translation::File and has no notes. The text and
file formats start with "# transdb dump generation=G records=N": load such a
dump with -generation G to refuse it when the database has moved on.

-raw writes instead every record stored in FILE, of every base key, in
ascending ID order, one JSON object a line with the lower-case hex of its
bytes:

  {"id":1,"keys":["7472616e73","6462",...],"sort":"0000000000000000","data":"..."}

the lines of the .expect.jsonl files that show what the Perl module MMapDB
reads from a file: after "transdbd import", the lines of the Perl file.`)
	f := c.tableFlags()
	format := c.formatFlag("of the output")
	raw := c.fs.Bool("raw", false, "write every stored record, of every base key, as hex JSON lines in ID order")
	c.checks = append(c.checks, func() error {
		if !*raw {
			return nil
		}
		formatSet := false
		c.fs.Visit(func(fl *flag.Flag) { formatSet = formatSet || fl.Name == "format" })
		switch {
		case formatSet:
			return errors.New("-raw and -format exclude each other")
		case f.baseKey.set && f.config == "":
			return errors.New("-raw dumps the whole file, every base key: -basekey needs -config")
		}
		return nil
	})
	if _, code, ok := c.parse(args, 0, 0); !ok {
		return code
	}
	if *raw {
		return dumpRaw(c, f)
	}
	p, _, err := f.openTable(false)
	if err != nil {
		return c.fail(err)
	}
	defer p.Stop()
	if err := p.Dump(e.stdout, *format); err != nil {
		return c.fail(err)
	}
	return exitOK
}

func runLoad(e *env, args []string) int {
	c := newCLI(e, "load", "-db FILE|-config FILE [-basekey ...] [-format text|file|jsonl] [-clear [-empty]] [-generation G] INPUT|-", `
Loads the table in INPUT (- for standard input) into FILE in one
transaction: all records or, on any error, none. The records get new IDs;
IDs in the input are ignored. Without -clear the records are added to the
table; with it they replace it. FILE is created when it does not exist
(a refused load leaves no new file behind), and so is the table under a
new base key. With -config, the load goes to
the provider's table even when the daemon serves it read-only.

A dump whose "# transdb dump" line says records=N must hold N records,
and a text dump whose line says end=1 must end with "# transdb dump end":
a dump cut short is refused. An input without records does not replace
the table unless it says records=0 or -empty is given.

-generation G refuses the load when the database is no longer at generation
G, as when a dump of generation G was edited while someone else committed.
On success it prints the number of records loaded and the new generation.`)
	f := c.tableFlags()
	format := c.formatFlag("of the input")
	clear := c.fs.Bool("clear", false, "replace the table instead of adding to it")
	empty := c.fs.Bool("empty", false, "with -clear, let an input without records empty the table")
	var generation *uint64
	c.fs.Func("generation", "load only if the database is at generation `G`", func(s string) error {
		g, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return errors.New("not a generation number")
		}
		generation = &g
		return nil
	})
	pos, code, ok := c.parse(args, 1, 1)
	if !ok {
		return code
	}
	in, total, err := openInput(e, pos[0])
	if err != nil {
		return c.fail(err)
	}
	defer in.Close()
	if total < 0 {
		// A pipe or a terminal is read whole before the load takes the
		// file's lock, so that a slow input holds up no other writer.
		spooled, n, err := spool(in)
		if err != nil {
			return c.fail(err)
		}
		defer spooled.Close()
		in, total = spooled, n
	}
	t, err := f.target()
	if err != nil {
		return c.fail(err)
	}
	created := missing(t.path)
	p, err := openTable(t, true)
	if err != nil {
		return c.fail(err)
	}
	defer p.Stop()
	prog := newProgress(e, "loading")
	gen, n, err := p.Load(&countingReader{r: in, total: total, p: prog}, translation.LoadOptions{
		Format:           *format,
		Clear:            *clear,
		AllowEmpty:       *empty,
		ExpectGeneration: generation,
	})
	prog.done()
	if errors.Is(err, translation.ErrEmptyLoad) {
		err = fmt.Errorf("%w; give -empty to empty the table", err)
	}
	if err != nil {
		if created {
			removeUnused(t.path)
		}
		return c.fail(err)
	}
	fmt.Fprintf(e.stdout, "loaded records=%d generation=%d\n", n, gen)
	return exitOK
}

// dumpRaw writes every record of the file the flags name, as dump -raw.
func dumpRaw(c *cli, f *dbFlags) int {
	path, err := f.file()
	if err != nil {
		return c.fail(err)
	}
	db, err := openDB(path, true)
	if err != nil {
		return c.fail(err)
	}
	defer db.Close()
	err = db.View(func(s *mmapdb.Snapshot) error {
		_, err := perlmmapdb.WriteRaw(c.e.stdout, s)
		return err
	})
	if err != nil {
		return c.fail(err)
	}
	return exitOK
}

// spool copies r into an unnamed temporary file and returns it, read
// from its start, with its size.
func spool(r io.Reader) (*os.File, int64, error) {
	f, err := os.CreateTemp("", "transdbd-input-*")
	if err != nil {
		return nil, 0, err
	}
	os.Remove(f.Name()) // unnamed: gone when closed
	n, err := io.Copy(f, r)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("reading the input: %w", err)
	}
	return f, n, nil
}

// openInput opens the table at name, standard input for "-", and returns
// its size when known (-1 otherwise).
func openInput(e *env, name string) (io.ReadCloser, int64, error) {
	if name == "-" {
		return io.NopCloser(e.stdin), -1, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, err
	}
	size := int64(-1)
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	return f, size, nil
}

func runDiff(e *env, args []string) int {
	c := newCLI(e, "diff", "-db FILE|-config FILE [-basekey ...] [-format text|file|jsonl] OTHER [-key K] [-uri U]", `
Compares the table in FILE with OTHER: another database file (its table
under the same base key) or a table in a text format (- for standard
input), such as an edited dump. It prints one line per record that differs,
"- " for a record only in FILE and "+ " for one only in OTHER, followed by
the record as jsonl without its id:

  - {"key":"front","uri":"/old","block":0,"order":0,"action":"..."}
  + {"key":"front","uri":"/new","block":0,"order":0,"action":"..."}

Key, uri, block, order, action and note are compared; IDs are not. Bytes
of an action or note that are not UTF-8 are compared as they are and
shown as U+FFFD.
Exit status: 0 when there is no difference, 1 when there is one, 2 on an
error.`)
	f := c.tableFlags()
	format := c.formatFlag("of OTHER when it is a table")
	key := c.fs.String("key", "", "compare only the records of key `K`")
	uri := c.fs.String("uri", "", "compare only the records of uri `U`")
	pos, code, ok := c.parse(args, 1, 1)
	if !ok {
		return code
	}
	// Every error is exit status 2 here, as in diff(1).
	fail := func(err error) int {
		c.fail(err)
		return exitUsage
	}
	p, t, err := f.openTable(false)
	if err != nil {
		return fail(err)
	}
	defer p.Stop()
	other, closeOther, err := openSource(e, pos[0], t.baseKey, *format)
	if err != nil {
		return fail(err)
	}
	defer closeOther()
	changes, err := p.Diff(other, translation.Filter{Key: *key, URI: *uri})
	if err != nil {
		return fail(err)
	}
	out := bufio.NewWriter(e.stdout)
	for _, ch := range changes {
		line, err := diffLine(ch)
		if err != nil {
			return fail(err)
		}
		out.Write(line)
	}
	if err := out.Flush(); err != nil {
		return fail(err)
	}
	if len(changes) > 0 {
		return exitFailure
	}
	return exitOK
}

// openSource opens name for diff: the table under baseKey when it is a
// database file, else a table in format f ("-" is standard input).
func openSource(e *env, name string, baseKey []string, f translation.Format) (translation.Source, func(), error) {
	if name != "-" {
		isDB, err := isDatabaseFile(name)
		if err != nil {
			return nil, nil, err
		}
		if isDB {
			p, err := openTable(target{path: name, baseKey: baseKey}, false)
			if err != nil {
				return nil, nil, err
			}
			return p, func() { p.Stop() }, nil
		}
	}
	in, _, err := openInput(e, name)
	if err != nil {
		return nil, nil, err
	}
	rd, err := translation.NewReader(in, f)
	if err != nil {
		in.Close()
		return nil, nil, err
	}
	return translation.ReaderSource(rd), func() { in.Close() }, nil
}

// isDatabaseFile reports whether the file at path starts like an mmapdb
// file: a msgpack map (whose tag is a byte >= 0x80, which no text table
// starts with) holding the magic string among its first bytes.
func isDatabaseFile(path string) (bool, error) {
	// Only a regular file can be a database; a pipe must not lose its
	// first bytes to the look.
	if fi, err := os.Stat(path); err != nil {
		return false, err
	} else if !fi.Mode().IsRegular() {
		return false, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, 32)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return false, err // an *fs.PathError, naming path
	}
	head = head[:n]
	return n > 0 && head[0] >= 0x80 && bytes.Contains(head, []byte(mmapdb.Magic)), nil
}

// diffLine formats one change: "- " or "+ " and the record as the jsonl
// writer writes it, without the id field. The jsonl writer puts the id
// last, so the line is its output with that field cut off.
func diffLine(ch translation.Change) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte(ch.Op)
	buf.WriteByte(' ')
	w, err := translation.NewWriter(&buf, translation.FormatJSONL, 0, -1)
	if err != nil {
		return nil, err
	}
	rec := ch.Record
	rec.ID = 0
	// JSON holds text only: bytes that are not UTF-8 (a Perl table's
	// Latin-1) are shown as U+FFFD. The records were compared as bytes.
	rec.Action = strings.ToValidUTF8(rec.Action, "\uFFFD")
	rec.Note = strings.ToValidUTF8(rec.Note, "\uFFFD")
	if err := w.Write(rec); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	line, ok := bytes.CutSuffix(buf.Bytes(), []byte(`,"id":0}`+"\n"))
	if !ok {
		return nil, fmt.Errorf("diff: unexpected jsonl record %q", buf.Bytes())
	}
	return append(line, "}\n"...), nil
}
