package mmapdb

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"transdb/internal/fault"
)

// versionFile returns the bytes of a database file whose key k holds
// s=data, created now.
func versionFile(t *testing.T, data string) []byte {
	t.Helper()
	db, path := openTemp(t, nil)
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "k", "s", data) })
	db.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// openCopy writes b to a file of its own and opens it read-only, with
// the identity check every checkInterval.
func openCopy(t *testing.T, b []byte, checkInterval time.Duration) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.mmdb")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path, &Options{ReadOnly: true, CheckInterval: checkInterval})
	if err != nil {
		t.Fatal(err)
	}
	return db, path
}

// repeat calls fn(0), fn(1), ... on a goroutine of wg until stop is
// closed or fn returns false.
func repeat(wg *sync.WaitGroup, stop <-chan struct{}, fn func(i int) bool) {
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if !fn(i) {
				return
			}
		}
	})
}

// writeOver writes b over the file at path in place, from offset off.
func writeOver(t *testing.T, path string, b []byte, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// A read that faults is a changed file even when the snapshot it read
// through was the last reference to its version, released by the
// reader's deferred call before fault.Call could look at the address:
// the pattern of every request (pin, defer the release, read).
func TestAFaultAfterTheLastReleaseIsAChange(t *testing.T) {
	a, b := versionFile(t, "A"), versionFile(t, "B")
	db, path := openCopy(t, a, -1)
	defer db.Close()
	s1, err := db.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	// Another tool writes B over the file; the next snapshot maps it
	// anew, and s1 holds the last reference to the version of A. Then
	// the file is cut short.
	writeOver(t, path, b, 0)
	current(t, db, func(*Snapshot) {})
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	err = fault.Call(func() error {
		defer s1.Release()
		_, err := s1.Lookup("k")
		return err
	})
	if !errors.Is(err, fault.ErrChanged) {
		t.Errorf("a read of the cut file: %v, want ErrChanged", err)
	}
}

// A file written over in place header first (rsync --inplace) is not
// taken while its body is the old one's: a version whose bytes change
// under its serial would deceive the caches that trust a mapping. The
// old version serves until the body is whole, then the new one.
func TestAFileWrittenOverInPlaceIsTakenWhenWhole(t *testing.T) {
	a, b := versionFile(t, "A"), versionFile(t, "B")
	if len(a) != len(b) {
		t.Fatalf("versions of %d and %d bytes, want one size", len(a), len(b))
	}
	db, path := openCopy(t, a, -1)
	defer db.Close()
	var before uint64
	current(t, db, func(s *Snapshot) { before = s.Serial() })
	writeOver(t, path, b[:headerLen], 0)
	if err := db.Reload(); err == nil || !strings.Contains(err.Error(), "written over in place") {
		t.Errorf("Reload between the header and the body: %v, want an error saying so", err)
	}
	current(t, db, func(s *Snapshot) {
		if s.Serial() != before {
			t.Error("a file whose body is not its header's was mapped")
		}
	})
	writeOver(t, path, b[headerLen:], int64(headerLen))
	time.Sleep(20 * time.Millisecond) // past the pause after a failed switch
	current(t, db, func(s *Snapshot) {
		if s.Serial() == before {
			t.Error("the whole file is still read through the old mapping")
		}
		if got := leafStrings(t, s, "k"); !slices.Equal(got, []string{"s=B"}) {
			t.Errorf("k holds %q, want s=B", got)
		}
	})
}

// A commit through another DB of the file, as another process makes it,
// is seen by the next snapshot, also while other readers of this DB
// switch at the same time.
func TestACommitElsewhereIsSeenByTheNextSnapshot(t *testing.T) {
	w, path := openTemp(t, nil)
	commit := func() (g uint64) {
		update(t, w, func(tx *Txn) { mustInsert(t, tx, "k", "s", "d") })
		current(t, w, func(s *Snapshot) { g = s.Generation() })
		return g
	}
	commit()
	r, err := Open(path, &Options{ReadOnly: true, CheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		repeat(&wg, stop, func(int) bool {
			if s, err := r.Snapshot(); err == nil {
				s.Release()
			}
			return true
		})
	}
	stale := 0
	for range 300 {
		g := commit()
		current(t, r, func(s *Snapshot) {
			if s.Generation() != g {
				stale++
			}
		})
	}
	close(stop)
	wg.Wait()
	if stale > 0 {
		t.Errorf("%d of 300 snapshots taken after a commit elsewhere are of an older version", stale)
	}
}

// A file cut short and written again in place, over and over, while a
// reader reads under fault.Call and the identity check runs often: the
// process goes on, the reads that fault fail, and no mapping is left
// after Close.
func TestAFileWrittenOverAgainAndAgain(t *testing.T) {
	a, b := versionFile(t, "A"), versionFile(t, "B")
	db, path := openCopy(t, a, 200*time.Microsecond)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	repeat(&wg, stop, func(i int) bool {
		v := [2][]byte{a, b}[i%2]
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			t.Error(err)
			return false
		}
		for off := 0; off < len(v); off += 512 {
			_, _ = f.WriteAt(v[off:min(off+512, len(v))], int64(off))
		}
		f.Close()
		return true
	})
	repeat(&wg, stop, func(int) bool {
		_ = fault.Call(func() error {
			s, err := db.Snapshot()
			if err != nil {
				return err
			}
			defer s.Release()
			_, err = s.Lookup("k")
			return err
		})
		return true
	})
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()
	if err := os.WriteFile(path, a, 0o644); err != nil {
		t.Fatal(err)
	}
	db.Close()
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skip("no /proc/self/maps:", err)
	}
	if n := strings.Count(string(maps), path+"\n"); n > 0 {
		t.Errorf("%d mappings of the file left after Close", n)
	}
}
