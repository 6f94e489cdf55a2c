package main

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"transdb/translation"
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

// A load from a pipe reads its input before it takes the file's lock:
// while its input is still on its way, other writers commit.
func TestALoadFromAPipeHoldsUpNoWriter(t *testing.T) {
	db, _ := exampleDB(t)
	cmd := exec.Command(binary, "load", "-db", db, "-format", "jsonl", "-")
	cmd.Env = childEnv()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if _, err := io.WriteString(stdin, `{"key":"k","uri":"/piped","block":0,"order":0,"action":"a"}`+"\n"); err != nil {
		t.Fatal(err)
	}
	// The piped load waits for the rest of its input; another load
	// commits meanwhile.
	if out := ok(t, `{"key":"k","uri":"/direct","block":0,"order":0,"action":"b"}`+"\n", "load", "-db", db, "-format", "jsonl", "-"); out != "loaded records=1 generation=2\n" {
		t.Errorf("the other load: %q", out)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil || stdout.String() != "loaded records=1 generation=3\n" {
		t.Errorf("the piped load: %v, %q, %q", err, stdout.String(), stderr.String())
	}
}

// A command whose result line cannot be written has not succeeded.
func TestAResultThatCannotBeWrittenIsAFailure(t *testing.T) {
	db, _ := exampleDB(t)
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer full.Close()
	cmd := exec.Command(binary, "verify", "-db", db)
	cmd.Env = childEnv()
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = full, &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(stderr.String(), "transdbd verify: writing standard output:") {
		t.Errorf("verify to a full disk: %v, stderr %q", err, stderr.String())
	}
}

// The database file itself is no place for a backup or an export, which
// would replace it without its lock; and diff reads a pipe whole.
func TestFileCommandsKeepTheDatabaseAndReadPipesWhole(t *testing.T) {
	db, table := exampleDB(t)
	before := ok(t, "", "dump", "-db", db)
	wantError(t, transdbd(t, "", "backup", "-db", db, db), 1, "transdbd backup: ", `that is the database file itself`)
	wantError(t, transdbd(t, "", "export", "-db", db, filepath.Dir(db)+"/./"+filepath.Base(db)), 1, "transdbd export: ", `that is the database file itself`)
	if after := ok(t, "", "dump", "-db", db); after != before {
		t.Error("a refused backup or export changed the database")
	}
	fifo := filepath.Join(t.TempDir(), "table.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer f.Close()
		b, _ := os.ReadFile(table)
		f.Write(b)
	}()
	if r := transdbd(t, "", "diff", "-db", db, fifo); r.code != 0 || r.stdout != "" || r.stderr != "" {
		t.Errorf("diff with the same table through a FIFO: exit %d, %q, %q", r.code, r.stdout, r.stderr)
	}
}

// diff lists a record whose action is not UTF-8 (imported Latin-1), the
// bytes shown as U+FFFD.
func TestDiffShowsRecordsThatAreNotUTF8(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.mmdb"), filepath.Join(dir, "b.mmdb")
	for _, db := range []string{a, b} {
		p, err := translation.New(translation.Options{FileName: db})
		if err != nil {
			t.Fatal(err)
		}
		action := "Do: 'caf\xe9'"
		if db == b {
			action = "Do: 'caf\xe8'"
		}
		_, err = p.Update(func(tx *translation.Txn) error {
			_, err := tx.Insert(translation.Record{Key: "k", URI: "/", Action: action})
			return err
		})
		p.Stop()
		if err != nil {
			t.Fatal(err)
		}
	}
	r := transdbd(t, "", "diff", "-db", a, b)
	want := "- {\"key\":\"k\",\"uri\":\"/\",\"block\":0,\"order\":0,\"action\":\"Do: 'caf\uFFFD'\"}\n" +
		"+ {\"key\":\"k\",\"uri\":\"/\",\"block\":0,\"order\":0,\"action\":\"Do: 'caf\uFFFD'\"}\n"
	if r.code != 1 || r.stdout != want || r.stderr != "" {
		t.Errorf("diff: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
