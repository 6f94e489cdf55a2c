package mmapdb

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// copyImage writes the current version of db, as NewImageReader reads
// it, to a new file in dir and returns its path.
func copyImage(t *testing.T, db *DB, dir string) string {
	t.Helper()
	f, err := os.CreateTemp(dir, "copy-*")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	current(t, db, func(s *Snapshot) {
		if _, err := io.Copy(f, NewImageReader(s.Bytes())); err != nil {
			t.Fatal(err)
		}
	})
	return f.Name()
}

func TestImageReaderReadsTheFileAsCommitted(t *testing.T) {
	db, path := openTemp(t, nil)
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "k/u", "1", "v1") })
	committed, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := db.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "k/u", "2", "v2") })
	if !s.Superseded() || bytes.Equal(s.Bytes(), committed) {
		t.Fatal("the commit did not clear the valid flag in the old mapping")
	}
	got, err := io.ReadAll(NewImageReader(s.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, committed) {
		t.Fatal("the image of a superseded version differs from its file as committed")
	}
}

func TestInstallPutsANewerCopyInPlaceAsItIs(t *testing.T) {
	writer, _ := openTemp(t, nil)
	update(t, writer, func(tx *Txn) { mustInsert(t, tx, "k/u", "1", "v1") })
	update(t, writer, func(tx *Txn) { mustInsert(t, tx, "k/u", "2", "v2") })

	dir := t.TempDir()
	path := filepath.Join(dir, "replica.mmdb")
	reader, err := Open(path, &Options{ReadOnly: true, CheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()

	// A missing database is created by the first copy.
	src := copyImage(t, writer, dir)
	want, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	info, err := Install(path, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if info.Generation != 2 || info.Records != 2 || info.Size != int64(len(want)) {
		t.Fatalf("Install says %+v", info)
	}
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("the installed file differs from the copy (%v)", err)
	}
	if _, err := os.Stat(src); !os.IsNotExist(err) {
		t.Fatalf("the copy is still there: %v", err)
	}
	pinned, err := reader.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer pinned.Release()
	if pinned.Generation() != 2 {
		t.Fatalf("reader sees generation %d, want 2", pinned.Generation())
	}

	// A newer one replaces it, and readers of the old one move on at
	// once, through the valid flag (the identity check is off).
	update(t, writer, func(tx *Txn) { mustInsert(t, tx, "k/u", "3", "v3") })
	if _, err := Install(path, copyImage(t, writer, dir), nil); err != nil {
		t.Fatal(err)
	}
	if !pinned.Superseded() {
		t.Fatal("Install did not invalidate the replaced version")
	}
	current(t, reader, func(s *Snapshot) {
		if s.Generation() != 3 {
			t.Fatalf("reader sees generation %d, want 3", s.Generation())
		}
		if got := leafStrings(t, s, "k/u"); !slices.Equal(got, []string{"1=v1", "2=v2", "3=v3"}) {
			t.Fatalf("reader sees %q", got)
		}
	})
	if st, err := StatFile(path); err != nil || st.Generation != 3 || st.Records != 3 {
		t.Fatalf("StatFile: %+v, %v", st, err)
	}
}

func TestInstallRefusesOlderAndDamagedCopies(t *testing.T) {
	writer, _ := openTemp(t, nil)
	update(t, writer, func(tx *Txn) { mustInsert(t, tx, "k/u", "1", "v1") })
	dir := t.TempDir()
	older := copyImage(t, writer, dir)
	update(t, writer, func(tx *Txn) { mustInsert(t, tx, "k/u", "2", "v2") })
	path := filepath.Join(dir, "replica.mmdb")
	if _, err := Install(path, copyImage(t, writer, dir), nil); err != nil {
		t.Fatal(err)
	}
	installed, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	update(t, writer, func(tx *Txn) { mustInsert(t, tx, "k/u", "3", "v3") })

	damage := func(fn func(b []byte) []byte) string {
		src := copyImage(t, writer, dir)
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(src, fn(b), 0o644); err != nil {
			t.Fatal(err)
		}
		return src
	}
	for _, c := range []struct {
		name string
		src  string
		want error
	}{
		{"older", older, ErrNotNewer},
		{"same", copyImage(t, writer, dir), nil}, // installed below, then again
		{"flipped body byte", damage(func(b []byte) []byte { b[len(b)-3] ^= 0x10; return b }), ErrCorrupt},
		{"truncated", damage(func(b []byte) []byte { return b[:len(b)-100] }), ErrCorrupt},
		{"foreign", damage(func(b []byte) []byte {
			return []byte("not a database at all, but long enough to have a header of some sort")
		}), ErrBadMagic},
	} {
		if c.want == nil {
			if _, err := Install(path, c.src, nil); err != nil {
				t.Fatal(err)
			}
			if installed, err = os.ReadFile(path); err != nil {
				t.Fatal(err)
			}
			again := copyImage(t, writer, dir)
			if _, err := Install(path, again, nil); !errors.Is(err, ErrNotNewer) {
				t.Errorf("the same generation again: %v, want ErrNotNewer", err)
			}
			continue
		}
		_, err := Install(path, c.src, nil)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if _, serr := os.Stat(c.src); serr != nil {
			t.Errorf("%s: the refused copy is gone: %v", c.name, serr)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, installed) {
			t.Errorf("%s: the database changed", c.name)
		}
	}
	if err := VerifyFile(path, nil); err != nil {
		t.Fatal(err)
	}
}

func TestInstallWantsTheCopyBesideTheDatabase(t *testing.T) {
	writer, _ := openTemp(t, nil)
	update(t, writer, func(tx *Txn) { mustInsert(t, tx, "k/u", "1", "v1") })
	src := copyImage(t, writer, t.TempDir())
	if _, err := Install(filepath.Join(t.TempDir(), "x.mmdb"), src, nil); err == nil {
		t.Fatal("Install across directories succeeded")
	}
}

// TestInstalledFilesAreKnownVerified: a file that Install verified, and
// a file a snapshot verified, are Verified when mapped again; a file
// this process only wrote, a copy of a verified file, or one touched in
// place after it verified, is not.
func TestInstalledFilesAreKnownVerified(t *testing.T) {
	writer, written := openTemp(t, nil)
	update(t, writer, func(tx *Txn) { mustInsert(t, tx, "k/u", "1", "v1") })
	if verifiedAt(t, written, false) {
		t.Error("a version committed here, never verified: Verified")
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "replica.mmdb")
	if _, err := Install(path, copyImage(t, writer, dir), nil); err != nil {
		t.Fatal(err)
	}
	if !verifiedAt(t, path, false) {
		t.Error("the installed file: not Verified")
	}
	installed, err := Open(path, &Options{ReadOnly: true, CheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer installed.Close()
	s, err := installed.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	s.Release()
	if s.Verified() {
		t.Error("a released snapshot of the installed file: Verified")
	}

	// A copy of the installed file is another file: not verified until
	// a snapshot of it verifies.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(t.TempDir(), "copy.mmdb")
	if err := os.WriteFile(copyPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if verifiedAt(t, copyPath, true) {
		t.Error("a copy of the installed file: Verified")
	}
	if !verifiedAt(t, copyPath, false) {
		t.Error("the copy after a snapshot of it verified: not Verified")
	}

	// Damaged in place, its modification time put back (as rsync
	// --inplace -t does): the inode change time moved, so no longer
	// known verified.
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond) // past the file system's clock tick
	damaged := append([]byte(nil), data...)
	damaged[len(damaged)-3] ^= 1
	writeWithTime(t, path, damaged, fi.ModTime())
	if verifiedAt(t, path, false) {
		t.Error("the installed file damaged in place, its time put back: still Verified")
	}
	// Removed and copied back with its times (as cp -p does), over a
	// recycled inode or not: not known verified either.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	writeWithTime(t, path, data, fi.ModTime())
	if verifiedAt(t, path, false) {
		t.Error("a copy put in place with the installed file's times: Verified")
	}

	// A damaged copy is refused by Install and not marked.
	update(t, writer, func(tx *Txn) { mustInsert(t, tx, "k/u", "2", "v2") })
	bad := copyImage(t, writer, dir)
	b, err := os.ReadFile(bad)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-3] ^= 1
	if err := os.WriteFile(bad, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Install(path, bad, nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Install of a damaged copy: %v", err)
	}
	if verifiedAt(t, bad, false) {
		t.Error("a damaged copy Install refused: Verified")
	}
}

// writeWithTime writes data to the file at path and sets its
// modification time to mtime, as a copy that keeps times does.
func writeWithTime(t *testing.T, path string, data []byte, mtime time.Time) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// verifiedAt reports Snapshot.Verified of the file at path, opened
// read-only, after verifying it when verify is set.
func verifiedAt(t *testing.T, path string, verify bool) (verified bool) {
	t.Helper()
	db, err := Open(path, &Options{ReadOnly: true, CheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	current(t, db, func(s *Snapshot) {
		verified = s.Verified()
		if verify {
			if err := s.Verify(nil); err != nil {
				t.Fatal(err)
			}
		}
	})
	return verified
}
