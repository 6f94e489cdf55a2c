package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"transdb/internal/perlsamples"
	"transdb/mmapdb"
	"transdb/translation"
)

// readableSample returns the path of a copy of a sample that the Perl
// module reads: the superseded one with its byte 4 put back, as its
// expectation was made.
func readableSample(t *testing.T, s perlsamples.Sample) string {
	t.Helper()
	b, err := os.ReadFile(s.Path)
	if err != nil {
		t.Fatal(err)
	}
	if b[4] == 0 {
		b[4] = 'N'
	}
	path := filepath.Join(t.TempDir(), s.Name+".mmdb")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// nextID returns the next ID of the database file.
func nextID(t *testing.T, db string) uint64 {
	t.Helper()
	d, err := mmapdb.Open(db, &mmapdb.Options{ReadOnly: true, CheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	s, err := d.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	return s.NextID()
}

func TestImportOfEverySampleDumpsRawAsTheModuleReadsIt(t *testing.T) {
	for _, s := range perlsamples.All(t) {
		t.Run(s.Name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "trans.mmdb")
			out := ok(t, "", "import", "-db", db, readableSample(t, s))
			want := "imported records=" + strconv.Itoa(s.Expect.Records) + " next_id=" + strconv.FormatUint(s.Expect.NextID, 10) + " generation=1\n"
			if out != want {
				t.Errorf("import printed %q, want %q", out, want)
			}
			if got := ok(t, "", "dump", "-db", db, "-raw"); got != s.Expect.Body() {
				t.Errorf("dump -raw:\n%s\nwant:\n%s", got, s.Expect.Body())
			}
			if got := nextID(t, db); got != s.Expect.NextID {
				t.Errorf("next ID %d, want %d", got, s.Expect.NextID)
			}
		})
	}
}

func TestImportedExampleIsTheExampleTableWithItsNotes(t *testing.T) {
	db := filepath.Join(t.TempDir(), "trans.mmdb")
	ok(t, "", "import", "-db", db, perlsamples.Get(t, "example").Path)
	out := ok(t, "", "dump", "-db", db, "-basekey", "[qw/trans db/]", "-format", "jsonl")
	var got []translation.Record
	for line := range strings.Lines(out) {
		var r struct {
			Key, URI     string
			Block, Order uint32
			Action, Note string
			ID           uint64
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		got = append(got, translation.Record{Key: r.Key, URI: r.URI, Block: r.Block, Order: r.Order, Action: r.Action, Note: r.Note, ID: r.ID})
	}
	f, err := os.Open("../../testdata/example.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := translation.NewReader(f, translation.FormatText)
	if err != nil {
		t.Fatal(err)
	}
	// The rows of the table and the IDs the Perl module gave them: an
	// action's ID, then its note's, if any.
	perlID := map[uint64]uint64{1: 1, 2: 3, 3: 4, 4: 5, 5: 6, 6: 7, 7: 9, 8: 10, 9: 11, 10: 13, 11: 14, 12: 15, 13: 16}
	notes := map[uint64]string{1: "host check", 6: "static files\nfrom the docroot", 9: "basic auth everywhere"}
	want := map[uint64]translation.Record{}
	for {
		r, err := rd.Next()
		if err != nil {
			break
		}
		r.Note = notes[r.ID]
		r.ID = perlID[r.ID]
		want[r.ID] = r
	}
	if len(got) != 13 || len(want) != 13 {
		t.Fatalf("the imported table has %d rows, the example %d:\n%s", len(got), len(want), out)
	}
	for _, r := range got {
		if w, found := want[r.ID]; !found || r != w {
			t.Errorf("imported row %+v, want %+v", r, w)
		}
	}
	// The translation view of the Perl provider's table: fetch with notes.
	fetched := ok(t, "", "fetch", "-db", db, "-basekey", "trans", "-basekey", "db", "-notes", "front", "/static")
	if !strings.Contains(fetched, `"id":7,"note":"static files\nfrom the docroot"`) {
		t.Errorf("fetch front /static -notes: %s", fetched)
	}
}

func TestExportIsImportedBackToTheSameRecords(t *testing.T) {
	for _, name := range []string{"t005-gen2", "example", "t005-N-format0"} {
		s := perlsamples.Get(t, name)
		dir := t.TempDir()
		db := filepath.Join(dir, "trans.mmdb")
		ok(t, "", "import", "-db", db, s.Path)
		for _, intfmt := range []string{"N", "L", "J", "Q"} {
			perl := filepath.Join(dir, "perl-"+intfmt+".mmdb")
			out := ok(t, "", "export", "-db", db, "-intfmt", intfmt, perl)
			if want := "exported records=" + strconv.Itoa(s.Expect.Records) + " intfmt=" + intfmt + " to " + perl + "\n"; out != want {
				t.Errorf("export printed %q, want %q", out, want)
			}
			back := filepath.Join(dir, "back-"+intfmt+".mmdb")
			ok(t, "", "import", "-db", back, perl)
			if got := ok(t, "", "dump", "-db", back, "-raw"); got != s.Expect.Body() {
				t.Errorf("%s exported with %s and imported again:\n%s\nwant:\n%s", name, intfmt, got, s.Expect.Body())
			}
			if got := nextID(t, back); got != s.Expect.NextID {
				t.Errorf("%s exported with %s: next ID %d, want %d", name, intfmt, got, s.Expect.NextID)
			}
		}
	}
}

func TestImportReplacesTheDatabaseAndRefusesBadPerlFiles(t *testing.T) {
	db, _ := exampleDB(t)
	dir := t.TempDir()
	s := perlsamples.Get(t, "t005-N")
	out := ok(t, "", "import", "-db", db, s.Path)
	if out != "imported records=10 next_id=11 generation=2\n" {
		t.Errorf("import over a loaded table printed %q", out)
	}
	if got := ok(t, "", "dump", "-db", db, "-raw"); got != s.Expect.Body() {
		t.Errorf("the loaded table is still there:\n%s", got)
	}
	notPerl := writeFile(t, dir, "not.mmdb", "this is not a Perl MMapDB file at all, but a text file long enough\n")
	wantError(t, transdbd(t, "", "import", "-db", db, notPerl), 1, "transdbd import: ", `not a Perl MMapDB file`)
	wantError(t, transdbd(t, "", "import", "-db", db, perlsamples.Get(t, "t005-gen2.superseded").Path), 1,
		"transdbd import: ", `superseded`)
	wantError(t, transdbd(t, "", "import", "-db", db, filepath.Join(dir, "missing.mmdb")), 1,
		"transdbd import: ", `no such file`)
	if got := ok(t, "", "dump", "-db", db, "-raw"); got != s.Expect.Body() {
		t.Error("a refused import changed the database")
	}

	// A Perl file that opens but is corrupt inside is refused during the
	// import's transaction; into a new file, it leaves no file behind.
	data, err := os.ReadFile(s.Path)
	if err != nil {
		t.Fatal(err)
	}
	copy(data[100:], "\xff\xff\xff\xff")
	corrupt := writeFile(t, dir, "corrupt.mmdb", string(data))
	fresh := filepath.Join(dir, "fresh.mmdb")
	wantError(t, transdbd(t, "", "import", "-db", fresh, corrupt), 1, "transdbd import: ", `corrupt file: string at offset 4294967295`)
	if _, err := os.Stat(fresh); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a refused import left %s behind: %v", fresh, err)
	}
}

func TestPerlCommandsUsageErrors(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "x.mmdb")
	cases := []struct {
		args    []string
		prefix  string
		pattern string
	}{
		{[]string{"import", "-db", db}, "transdbd import: ", `missing arguments: usage: transdbd import -db FILE`},
		{[]string{"import", "-db", db, "a", "b"}, "transdbd import: ", `too many arguments`},
		{[]string{"import", "-db", db, "-basekey", "x", "a"}, "transdbd import: ", `-basekey needs -config`},
		{[]string{"export", "-db", db}, "transdbd export: ", `missing arguments`},
		{[]string{"export", "-db", db, "-intfmt", "X", "out"}, "transdbd export: ", `invalid value "X" for flag -intfmt: want N, L, J or Q`},
		{[]string{"dump", "-db", db, "-raw", "-format", "text"}, "transdbd dump: ", `-raw and -format exclude each other`},
		{[]string{"dump", "-db", db, "-raw", "-basekey", "trans"}, "transdbd dump: ", `-raw dumps the whole file, every base key: -basekey needs -config`},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := transdbd(t, "", c.args...)
			wantError(t, r, 2, c.prefix, c.pattern)
		})
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("a usage error created the database file")
	}
}
