package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A load that would lose records is refused with exit status 1 and one
// line on stderr, and leaves the database as it was: a dump cut short,
// and a clearing load of an input without records unless -empty or the
// input's records=0 says that emptying the table is meant.
func TestLoadRefusesATruncatedDumpAndAnEmptyClear(t *testing.T) {
	db, _ := exampleDB(t)
	dir := t.TempDir()
	before := ok(t, "", "dump", "-db", db)
	lines := strings.SplitAfter(string(exampleTable), "\n")
	truncated := writeFile(t, dir, "truncated.txt", strings.Join(lines[:13], ""))
	cutInLastLine := writeFile(t, dir, "cut.txt", strings.Join(lines[:len(lines)-2], "")+"action> Perl")
	cutBeforeEnd := writeFile(t, dir, "cutend.txt", strings.Join(lines[:len(lines)-2], ""))
	empty := writeFile(t, dir, "empty.txt", "")

	refused := []struct {
		name    string
		stdin   string
		args    []string
		pattern string
	}{
		{"dump cut after 13 lines", "", []string{"-clear", truncated}, `line 1: the dump comment declares records=13, the input ends after 4 \(truncated\?\)`},
		{"dump cut after 13 lines, added", "", []string{truncated}, `declares records=13, the input ends after 4`},
		{"dump cut in its last line", "", []string{"-clear", cutInLastLine}, `ends in the middle of a line`},
		{"dump cut before its end line", "", []string{"-clear", cutBeforeEnd}, `ends without the end line "# transdb dump end"`},
		{"empty file", "", []string{"-clear", empty}, `refusing to empty the table with an input of no records \(the input does not declare records=0\); give -empty to empty the table\n$`},
		{"empty standard input", "", []string{"-clear", "-"}, `refusing to empty the table`},
		{"empty jsonl", "\n", []string{"-format", "jsonl", "-clear", "-"}, `refusing to empty the table`},
		{"comments only", "# transdb dump generation=1\n", []string{"-clear", "-"}, `does not declare records=0`},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			r := transdbd(t, c.stdin, append([]string{"load", "-db", db}, c.args...)...)
			wantError(t, r, 1, "transdbd load: ", c.pattern)
			if after := ok(t, "", "dump", "-db", db); after != before {
				t.Errorf("a refused load changed the database:\n%s", after)
			}
		})
	}

	// -empty empties the table; the dump of the empty table says
	// records=0 and replaces a table without -empty.
	if out := ok(t, "", "load", "-db", db, "-clear", "-empty", empty); out != "loaded records=0 generation=2\n" {
		t.Fatalf("load -clear -empty: %q", out)
	}
	emptyDump := ok(t, "", "dump", "-db", db)
	if emptyDump != "# transdb dump generation=2 records=0 end=1\n# transdb dump end\n" {
		t.Fatalf("dump of the emptied table: %q", emptyDump)
	}
	other := filepath.Join(dir, "other.mmdb")
	ok(t, string(exampleTable), "load", "-db", other, "-")
	if out := ok(t, emptyDump, "load", "-db", other, "-clear", "-"); out != "loaded records=0 generation=2\n" {
		t.Errorf("load -clear of a records=0 dump: %q", out)
	}
}

// A refused load into a file that did not exist leaves no file behind;
// one into an existing empty database leaves the database.
func TestARefusedLoadLeavesNoNewFile(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.txt", "not a table line\n")
	db := filepath.Join(dir, "new.mmdb")
	wantError(t, transdbd(t, "", "load", "-db", db, bad), 1, "transdbd load: ", `line 1`)
	if _, err := os.Stat(db); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a refused load left %s behind: %v", db, err)
	}
	ok(t, "# transdb dump generation=0 records=0\n", "load", "-db", db, "-clear", "-")
	wantError(t, transdbd(t, "", "load", "-db", db, bad), 1, "transdbd load: ", `line 1`)
	if out := ok(t, "", "dump", "-db", db); out != "# transdb dump generation=1 records=0 end=1\n# transdb dump end\n" {
		t.Errorf("the existing database after a refused load: %q", out)
	}
}
