package translation

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"transdb/mmapdb"
)

// mappingsPerVersion is how many mappings an open version of a database
// file has: the whole file, and its header page once more.
const mappingsPerVersion = 2

// mappings returns how many mappings of the file at path this process has.
func mappings(t *testing.T, path string) int {
	t.Helper()
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skipf("no /proc/self/maps: %v", err)
	}
	n := 0
	for line := range strings.Lines(string(maps)) {
		if strings.HasSuffix(strings.TrimSuffix(line, "\n"), " "+path) {
			n++
		}
	}
	return n
}

func TestProvidersShareOneMapping(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "trans.mmdb")
	open := func(opts Options) *Provider {
		t.Helper()
		p, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Stop() })
		return p
	}
	rw := open(Options{FileName: path, BaseKey: []string{"trans", "db"}})
	if err := rw.Start(); err != nil {
		t.Fatal(err)
	}
	ro := open(Options{FileName: "trans.mmdb", Root: dir, BaseKey: []string{"trans", "db"}, ReadOnly: true})
	other := open(Options{FileName: "./sub/../trans.mmdb", Root: dir, BaseKey: []string{"other"}})
	for _, p := range []*Provider{rw, other} {
		tx, err := p.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Insert(Record{Key: "k", URI: "/u", Action: "a"}); err != nil {
			tx.Rollback()
			t.Fatal(err)
		}
		if _, err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []*Provider{rw, ro, other} {
		if list, err := p.Fetch("k", "/u", true); err != nil || len(list) != 1 {
			t.Fatalf("Fetch = %v, %v", list, err)
		}
	}

	shared := rw.shared.Load()
	if ro.shared.Load() != shared || other.shared.Load() != shared {
		t.Fatal("providers on one file with different base keys or read-only flags do not share a database")
	}
	if shared.refs != 3 {
		t.Errorf("shared database has %d users, want 3", shared.refs)
	}
	if n := mappings(t, path); n != mappingsPerVersion {
		t.Errorf("the file has %d mappings, want %d: one version", n, mappingsPerVersion)
	}

	// NoLock is a property of the database: such a provider has its own.
	nolock := open(Options{FileName: path, NoLock: true, ReadOnly: true})
	if nolock.shared.Load() == shared {
		t.Error("a NoLock provider shares the database of locking providers")
	}
	if err := nolock.Stop(); err != nil {
		t.Fatal(err)
	}

	// The last Stop closes the database.
	for _, p := range []*Provider{rw, ro} {
		if err := p.Stop(); err != nil {
			t.Fatal(err)
		}
	}
	if s, err := shared.db.Snapshot(); err != nil {
		t.Errorf("database closed while a provider still uses it: %v", err)
	} else {
		s.Release()
	}
	if err := other.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := shared.db.Snapshot(); !errors.Is(err, mmapdb.ErrClosed) {
		t.Errorf("Snapshot after the last Stop: %v, want ErrClosed", err)
	}
	registry.mu.Lock()
	left := len(registry.dbs)
	_, stillThere := registry.dbs[dbKey{path: path}]
	registry.mu.Unlock()
	if stillThere {
		t.Errorf("registry keeps the closed database (%d entries)", left)
	}
	if n := mappings(t, path); n != 0 {
		t.Errorf("the file is still mapped %d times after the last Stop", n)
	}
}
