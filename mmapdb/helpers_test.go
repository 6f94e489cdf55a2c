package mmapdb

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// openTemp opens a database in a fresh temporary directory.
func openTemp(t testing.TB, opts *Options) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.mmdb")
	db, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

// update runs fn in a transaction and commits it.
func update(t testing.TB, db *DB, fn func(tx *Txn)) {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	fn(tx)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// mustInsert inserts a record with string keys, sort and data.
func mustInsert(t testing.TB, tx *Txn, path, sort, data string) uint64 {
	t.Helper()
	id, err := tx.Insert(strings.Split(path, "/"), []byte(sort), []byte(data))
	if err != nil {
		t.Fatalf("insert %s %s %s: %v", path, sort, data, err)
	}
	return id
}

// leafStrings renders the leaf at path as "sort=data" strings.
func leafStrings(t testing.TB, s *Snapshot, path string) []string {
	t.Helper()
	l, err := s.Lookup(strings.Split(path, "/")...)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := range l.Len() {
		r, err := l.At(i)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(r.Sort)+"="+string(r.Data))
	}
	return out
}

// current runs fn on a fresh snapshot of db.
func current(t testing.TB, db *DB, fn func(s *Snapshot)) {
	t.Helper()
	s, err := db.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	fn(s)
}

// dumpAll renders every record as "k1/k2 sort=data #id", in key order.
func dumpAll(t testing.TB, s *Snapshot) []string {
	t.Helper()
	var out []string
	for r, err := range s.All() {
		if err != nil {
			t.Fatal(err)
		}
		keys, err := r.Keys()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %s=%s #%d", strings.Join(keys, "/"), r.Sort, r.Data, r.ID))
	}
	return out
}

// sortField packs block and order like Perl's pack("N2", block, order).
func sortField(block, order uint32) []byte {
	b := binary.BigEndian.AppendUint32(nil, block)
	return binary.BigEndian.AppendUint32(b, order)
}

// genRecords inserts n translation-shaped records: 100 keys
// site%03d.example.com, two-segment URIs, four records per key path with
// block/order sort fields. It returns the key path of each record.
func genRecords(t testing.TB, tx *Txn, n int) [][]string {
	t.Helper()
	paths := make([][]string, 0, n)
	var keys []string
	for i := 0; i < n; i++ {
		leaf := i / 4
		if i%4 == 0 {
			key := fmt.Sprintf("site%03d.example.com", leaf%100)
			uri := fmt.Sprintf("/s%d/t%d", (leaf/100)%61, (leaf/100)/61)
			keys = []string{"trans", "db", "actn", key, uri}
		}
		data := fmt.Sprintf("Proxy: 'http://backend%d/'.$URI # record %d", i%17, i)
		if _, err := tx.Insert(keys, sortField(uint32(i%4/2), uint32(i%2)), []byte(data)); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, keys)
	}
	return paths
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lookupPosition is MMapDB's index_lookup_position: it walks to the index
// addressed by all keys but the last and returns it together with the
// position of the last key in it: where the key is, when found, or where
// it would be inserted. Iterating ix from pos lists the keys >= the last
// key. found is false also when the parent path does not lead to an index,
// in which case ix is empty.
func lookupPosition(s *Snapshot, keys ...string) (ix Index, pos int, found bool, err error) {
	if len(keys) == 0 {
		return Index{}, 0, false, nil
	}
	ix, ok, err := s.LookupIndex(keys[:len(keys)-1]...)
	if err != nil || !ok {
		return Index{}, 0, false, err
	}
	pos, found, err = ix.Search(keys[len(keys)-1])
	return ix, pos, found, err
}
