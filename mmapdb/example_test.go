package mmapdb_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"transdb/mmapdb"
)

// A write transaction, then lock-free lookups in a snapshot.
func Example() {
	dir, err := os.MkdirTemp("", "mmapdb-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, err := mmapdb.Open(filepath.Join(dir, "example.mmdb"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	tx, err := db.Begin() // creates the file, takes example.mmdb.lock
	if err != nil {
		log.Fatal(err)
	}
	tx.Insert([]string{"fruit", "red"}, []byte("2"), []byte("cherry"))
	tx.Insert([]string{"fruit", "red"}, []byte("1"), []byte("apple"))
	tx.Insert([]string{"fruit", "yellow"}, []byte("1"), []byte("banana"))
	if err := tx.Commit(); err != nil {
		log.Fatal(err)
	}

	s, err := db.Snapshot()
	if err != nil {
		log.Fatal(err)
	}
	defer s.Release() // the views below are valid until then
	leaf, err := s.Lookup("fruit", "red")
	if err != nil {
		log.Fatal(err)
	}
	for i := range leaf.Len() {
		r, err := leaf.At(i)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s %s id=%d\n", r.Sort, r.Data, r.ID)
	}
	fmt.Println("generation", s.Generation(), "records", s.Len())
	// Output:
	// 1 apple id=2
	// 2 cherry id=1
	// generation 1 records 3
}

// Search finds where a key is or would be, and Entries lists the index
// from there on, as MMapDB's index_lookup_position does.
func ExampleIndex_Search() {
	dir, _ := os.MkdirTemp("", "mmapdb-example")
	defer os.RemoveAll(dir)
	db, _ := mmapdb.Open(filepath.Join(dir, "example.mmdb"), nil)
	defer db.Close()
	tx, _ := db.Begin()
	for _, k := range []string{"alpha", "charlie", "delta"} {
		tx.Insert([]string{"names", k}, nil, []byte(k))
	}
	tx.Commit()

	s, _ := db.Snapshot()
	defer s.Release()
	ix, _, _ := s.LookupIndex("names")
	pos, found, _ := ix.Search("bravo")
	fmt.Println("bravo at", pos, "found", found)
	for e, err := range ix.Entries(pos) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(string(e.Key))
	}
	// Output:
	// bravo at 1 found false
	// charlie
	// delta
}

// Fields reads a block list in a hot loop: sort field, data and ID, views
// into the mapping, without a Record per record.
func ExampleLeaf_Fields() {
	dir, _ := os.MkdirTemp("", "mmapdb-example")
	defer os.RemoveAll(dir)
	db, _ := mmapdb.Open(filepath.Join(dir, "example.mmdb"), nil)
	defer db.Close()
	tx, _ := db.Begin()
	tx.Insert([]string{"site", "/"}, []byte{0, 0, 0, 0, 0, 0, 0, 1}, []byte("File: /srv/index.html"))
	tx.Insert([]string{"site", "/"}, []byte{0, 0, 0, 0, 0, 0, 0, 0}, []byte("Cond: $HOSTNAME"))
	tx.Commit()

	s, _ := db.Snapshot()
	defer s.Release()
	leaf, _ := s.Lookup("site", "/")
	for i := range leaf.Len() {
		sort, data, id, err := leaf.Fields(i)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("order %d: %s (id %d)\n", sort[7], data, id)
	}
	// Output:
	// order 0: Cond: $HOSTNAME (id 2)
	// order 1: File: /srv/index.html (id 1)
}

// Automatic backups: one taken from a snapshot, then the layered
// retention applied at a later time.
func ExampleWriteBackup() {
	dir, err := os.MkdirTemp("", "mmapdb-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "example.mmdb")
	db, err := mmapdb.Open(path, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *mmapdb.Txn) error {
		_, err := tx.Insert([]string{"fruit"}, nil, []byte("apple"))
		return err
	}); err != nil {
		log.Fatal(err)
	}

	backups := filepath.Join(dir, "backups")
	if err := os.Mkdir(backups, 0o755); err != nil {
		log.Fatal(err)
	}
	taken := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	err = db.View(func(s *mmapdb.Snapshot) error {
		_, err := mmapdb.WriteBackup(backups, path, s.Bytes(), taken)
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	files, err := mmapdb.Backups(backups, path)
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range files {
		fmt.Println(filepath.Base(f.Path), f.Time)
	}
	// A year later it is the newest backup, and so it stays.
	removed, err := mmapdb.PruneBackups(backups, path, mmapdb.BackupPolicy{}, taken.AddDate(1, 0, 0))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("pruned:", len(removed))
	// Output:
	// example.mmdb.20261121T080000.000000000Z 2026-11-21 08:00:00 +0000 UTC
	// pruned: 0
}
