package mmapdb

import (
	"fmt"
	"testing"

	"transdb/internal/pagecache"
)

// TestColdOpenReadsNoMoreThanItNeeds opens a database whose file is not in
// the page cache, makes one lookup, and counts the file's pages that were
// read: a handful. Every mapping is advised MADV_RANDOM before its first
// fault; without that advice a fault reads the pages around it (128 KiB
// with the kernel's default read-ahead, 8 MiB on some disks), and a cold
// open or first lookup waits for it.
func TestColdOpenReadsNoMoreThanItNeeds(t *testing.T) {
	db, path := openTemp(t, nil)
	update(t, db, func(tx *Txn) {
		for i := range 2000 {
			if _, err := tx.Insert([]string{"key", fmt.Sprint(i)}, nil, make([]byte, 4000)); err != nil {
				t.Fatal(err)
			}
		}
	})
	db.Close() // its mapping would keep the pages resident
	if err := pagecache.Evict(path); err != nil {
		t.Fatal(err)
	}
	resident, total, err := pagecache.Resident(path)
	if err != nil {
		t.Fatal(err)
	}
	if resident > total/100 {
		t.Skipf("%d of %d pages still resident after the eviction: this file system keeps files in memory", resident, total)
	}
	db, err = Open(path, &Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	current(t, db, func(s *Snapshot) {
		l, err := s.Lookup("key", "1000")
		if err != nil || l.Len() != 1 {
			t.Fatalf("lookup: %d records, %v", l.Len(), err)
		}
	})
	after, _, err := pagecache.Resident(path)
	if err != nil {
		t.Fatal(err)
	}
	// The header, the root, the index of "key" and its hash slots, the
	// leaf: a few pages each at most.
	if read := after - resident; read > 16 {
		t.Fatalf("open and one lookup read %d of the file's %d pages", read, total)
	}
	t.Logf("open and one lookup read %d of the file's %d pages", after-resident, total)
}
