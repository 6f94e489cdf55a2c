package perlmmapdb

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"transdb/internal/perlsamples"
	"transdb/mmapdb"
)

// A Perl file cut short in place while it is mapped (as cp over it does
// first) faults on the next read: Check and Import report ErrChanged,
// the process goes on, and the database keeps its version and its lock
// is free for the next writer.
func TestAFileCutShortUnderItsReaderIsAnError(t *testing.T) {
	s := perlsamples.Get(t, "example")
	data, err := os.ReadFile(s.Path)
	if err != nil {
		t.Fatal(err)
	}
	open := func() (*File, string) {
		path := filepath.Join(t.TempDir(), "perl.mmdb")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		if err := os.Truncate(path, 0); err != nil {
			t.Fatal(err)
		}
		return f, path
	}

	f, _ := open()
	if err := f.Check(); !errors.Is(err, ErrChanged) {
		t.Errorf("Check: %v, want ErrChanged", err)
	}

	db := openDB(t)
	fillA2T(t, db, 10)
	before := rawDump(t, db)
	f, _ = open()
	if _, err := Import(db, f); !errors.Is(err, ErrChanged) {
		t.Errorf("Import: %v, want ErrChanged", err)
	}
	if got := rawDump(t, db); got != before {
		t.Error("the failed import changed the database")
	}
	err = db.Update(func(t *mmapdb.Txn) error { return t.SetNextID(99) })
	if err != nil {
		t.Errorf("the next writer: %v", err)
	}
}
