package mmapdb

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestOpenOfADirectorySaysSo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dir.mmdb")
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, nil)
	if err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("Open of a directory: %v, want an error saying it is a directory", err)
	}
	if err := VerifyFile(path, nil); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("VerifyFile of a directory: %v, want an error saying it is a directory", err)
	}
}

// A version written over the mapped file in place, its size and
// modification time kept (cp -p, rsync --inplace -t), is seen at the
// next snapshot, without waiting for the identity check: it is mapped
// anew, with its own header, though no committer cleared the valid flag
// of the one mapped before.
func TestAVersionWrittenOverInPlaceIsMappedAnew(t *testing.T) {
	db, path := openTemp(t, &Options{CheckInterval: -1})
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "k", "s", "A") })
	other, otherPath := openTemp(t, nil)
	update(t, other, func(tx *Txn) { mustInsert(t, tx, "k", "s", "B") })
	other.Close()
	b, err := os.ReadFile(otherPath)
	if err != nil {
		t.Fatal(err)
	}
	var before uint64
	current(t, db, func(s *Snapshot) { before = s.Serial() })
	reloads := db.Stats().Reloads
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != int64(len(b)) {
		t.Fatalf("the two versions have %d and %d bytes, want the same size", fi.Size(), len(b))
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(b, 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	current(t, db, func(s *Snapshot) {
		if s.Serial() == before {
			t.Error("the version written over in place is read through the old mapping")
		}
		if got := leafStrings(t, s, "k"); !slices.Equal(got, []string{"s=B"}) {
			t.Errorf("k holds %q, want the new version's s=B", got)
		}
	})
	if n := db.Stats().Reloads - reloads; n != 1 {
		t.Errorf("%d reloads, want 1", n)
	}
}
