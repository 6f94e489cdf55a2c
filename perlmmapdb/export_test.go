package perlmmapdb

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"transdb/internal/perlsamples"
	"transdb/mmapdb"
)

// workedExample is the file of FORMAT-NOTES.md section 8, written by the
// module after inserting [["a","bc"],"s","data"], [["a","bc"],"",undef]
// and [["x"],"s","d2"].
const workedExample = `
4d4d 4443 4e00 0000 0000 0068 0000 00a0 0000 0004 0000 00bc 0000 0001 0000 0001
0000 0002 0000 0000 0000 0008 0000 0010 0000 0018 0000 0001 0000 0002 0000 0002
0000 0000 0000 0008 0000 0024 0000 0024 0000 0001 0000 0003 0000 0001 0000 002c
0000 0010 0000 0034 0000 0002 0000 0003 0000 0000 0000 0001 0000 0088 0000 002c
0000 0001 0000 0050 0000 0001 0000 0004 0000 0008 0000 0002 0000 0034 0000 0018
0000 0003 0000 0001 0000 0018 0000 0002 0000 0034 0000 0003 0000 0050 0000 0001
6100 0000 0000 0002 6263 0000 0000 0001 7300 0000 0000 0004 6461 7461 0000 0000
0000 0000 0000 0000 0000 0001 7800 0000 0000 0002 6432 0000`

func TestExportWritesTheWorkedExampleByteForByte(t *testing.T) {
	want, err := hex.DecodeString(strings.Join(strings.Fields(workedExample), ""))
	if err != nil || len(want) != 248 {
		t.Fatalf("the worked example: %d bytes, %v", len(want), err)
	}
	db := openDB(t)
	err = db.Update(func(tx *mmapdb.Txn) error {
		for _, r := range []struct{ keys, sort, data string }{{"a/bc", "s", "data"}, {"a/bc", "", ""}, {"x", "s", "d2"}} {
			if _, err := tx.Insert(strings.Split(r.keys, "/"), []byte(r.sort), []byte(r.data)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := exportFile(t, db, IntN)
	if !bytes.Equal(got, want) {
		t.Errorf("export differs from the worked example:\n%s\nwant:\n%s", hex.Dump(got), hex.Dump(want))
	}
}

func TestExportOfAnEmptyDatabaseIs36Bytes(t *testing.T) {
	db := openDB(t)
	if err := db.Update(func(*mmapdb.Txn) error { return nil }); err != nil {
		t.Fatal(err)
	}
	got := exportFile(t, db, IntN)
	want := "4d4d44434e000000" + "00000018" + "00000020" + "00000001" + "00000024" + "00000000" + "00000003" + "00000000"
	if hex.EncodeToString(got) != want {
		t.Errorf("empty export %x, want %s", got, want)
	}
	f, err := NewFile(got)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Check(); err != nil || f.Len() != 0 {
		t.Errorf("reading the empty export: %d records, %v", f.Len(), err)
	}
}

// exportFile exports db in the integer format and returns the file.
func exportFile(t testing.TB, db *mmapdb.DB, letter byte) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "perl.mmdb")
	err := db.View(func(s *mmapdb.Snapshot) error {
		_, err := Export(s, path, ExportOptions{IntFormat: letter})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestExportRoundTripsEverySample(t *testing.T) {
	for _, s := range perlsamples.All(t) {
		src := sampleFile(t, s)
		db := openDB(t)
		if _, err := Import(db, src); err != nil {
			t.Fatal(err)
		}
		for _, letter := range []byte{IntN, IntL, IntJ, IntQ} {
			t.Run(s.Name+"/"+string(letter), func(t *testing.T) {
				f, err := NewFile(exportFile(t, db, letter))
				if err != nil {
					t.Fatal(err)
				}
				if err := f.Check(); err != nil {
					t.Fatal(err)
				}
				if f.Format() != 1 || f.IntFormat() != letter || f.NextID() != s.Expect.NextID {
					t.Errorf("format %d, integers %c, next ID %d; want 1, %c, %d", f.Format(), f.IntFormat(), f.NextID(), letter, s.Expect.NextID)
				}
				if got := strings.Join(rawLines(t, f.Records()), ""); got != s.Expect.Body() {
					t.Errorf("the export reads\n%s\nwant\n%s", got, s.Expect.Body())
				}
				sameFlags(t, src, f)
			})
		}
	}
}

// sameFlags checks that the strings of two files that hold the same
// records carry the same UTF-8 flags, wherever a has flags (format 1).
func sameFlags(t *testing.T, a, b *File) {
	t.Helper()
	if a.Format() == 0 {
		return
	}
	for ra, err := range a.Records() {
		if err != nil {
			t.Fatal(err)
		}
		rb, found, err := b.ByID(ra.ID)
		if err != nil || !found {
			t.Fatalf("ID %d: %v %v", ra.ID, found, err)
		}
		for i, k := range ra.Keys {
			if k.UTF8 != rb.Keys[i].UTF8 {
				t.Errorf("ID %d key %q: UTF-8 flag %v, the source's %v", ra.ID, k.Bytes, rb.Keys[i].UTF8, k.UTF8)
			}
		}
		if ra.Sort.UTF8 != rb.Sort.UTF8 || ra.Data.UTF8 != rb.Data.UTF8 {
			t.Errorf("ID %d: sort and data flags %v %v, the source's %v %v", ra.ID, rb.Sort.UTF8, rb.Data.UTF8, ra.Sort.UTF8, ra.Data.UTF8)
		}
	}
}

func TestExportRoundTripsAGeneratedTable(t *testing.T) {
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	db := openDB(t)
	fillA2T(t, db, n)
	want := rawDump(t, db)
	var nextID uint64
	db.View(func(s *mmapdb.Snapshot) error { nextID = s.NextID(); return nil })
	for _, letter := range []byte{IntN, IntQ} {
		f, err := NewFile(exportFile(t, db, letter))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Check(); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(rawLines(t, f.Records()), ""); got != want {
			t.Errorf("%c: the export of %d rows reads other records", letter, n)
		}
		if f.NextID() != nextID {
			t.Errorf("%c: next ID %d, want %d", letter, f.NextID(), nextID)
		}
		// And back: importing the export gives the database again.
		back := openDB(t)
		if _, err := Import(back, f); err != nil {
			t.Fatal(err)
		}
		if rawDump(t, back) != want {
			t.Errorf("%c: importing the export gives other records", letter)
		}
	}
}

// Keys of octets and of UTF-8 text beyond ASCII in one index: Export
// sorts them bytewise, as the module's binary search needs, which is not
// Perl's cmp order; Check accepts either, so the export imports again.
func TestExportOfMixedOctetAndUTF8KeysImportsAgain(t *testing.T) {
	db := openDB(t)
	err := db.Update(func(t *mmapdb.Txn) error {
		for _, uri := range []string{"/caf\xe9", "/caf\xc3\xa9", "/cafe", "/caf\xc3\xa8s"} {
			if _, err := t.Insert([]string{"k", uri}, []byte("s"), []byte("d "+uri)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := rawDump(t, db)
	f, err := NewFile(exportFile(t, db, IntN))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Check(); err != nil {
		t.Fatal(err)
	}
	back := openDB(t)
	if _, err := Import(back, f); err != nil {
		t.Fatal(err)
	}
	if got := rawDump(t, back); got != want {
		t.Errorf("imported again:\n%s\nwant:\n%s", got, want)
	}
	for _, uri := range []string{"/caf\xe9", "/caf\xc3\xa9"} {
		if recs, err := f.Lookup("k", uri); err != nil || len(recs) != 1 {
			t.Errorf("Lookup %q: %d records, %v", uri, len(recs), err)
		}
	}
}

func TestExportRefusesAnUnknownIntegerFormat(t *testing.T) {
	db := openDB(t)
	if err := db.Update(func(*mmapdb.Txn) error { return nil }); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "perl.mmdb")
	err := db.View(func(s *mmapdb.Snapshot) error {
		_, err := Export(s, path, ExportOptions{IntFormat: 'X'})
		return err
	})
	if err == nil {
		t.Fatal("export with integer format X succeeded")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed export left %s: %v", path, err)
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*")); len(m) != 0 {
		t.Errorf("a failed export left %q", m)
	}
}

// TestExportRemovesTheTempsOfKilledExports: the temporary file an export
// killed before its rename left is deleted by the next export to the
// same path, which holds the lock; other files stay, and so does a
// temporary file when the export takes no lock (it cannot know that no
// other export is alive).
func TestExportRemovesTheTempsOfKilledExports(t *testing.T) {
	db := openDB(t)
	if err := db.Update(func(*mmapdb.Txn) error { return nil }); err != nil {
		t.Fatal(err)
	}
	for _, noLock := range []bool{false, true} {
		dir := t.TempDir()
		path := filepath.Join(dir, "perl.mmdb")
		stale := filepath.Join(dir, ".perl.mmdb.tmp-4242")
		others := []string{filepath.Join(dir, ".other.mmdb.tmp-4242"), filepath.Join(dir, "perl.mmdb.tmp-4242")}
		for _, f := range append([]string{stale}, others...) {
			if err := os.WriteFile(f, []byte("partial"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		err := db.View(func(s *mmapdb.Snapshot) error {
			_, err := Export(s, path, ExportOptions{NoLock: noLock})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(stale); noLock != (err == nil) {
			t.Errorf("NoLock %v: the stale %s: %v", noLock, filepath.Base(stale), err)
		}
		for _, f := range others {
			if _, err := os.Stat(f); err != nil {
				t.Errorf("NoLock %v: %s, not an export's, was removed: %v", noLock, filepath.Base(f), err)
			}
		}
	}
}

func TestExportOverAPerlFileMarksItAsTheModuleDoes(t *testing.T) {
	s := perlsamples.Get(t, "t005-N")
	src := sampleFile(t, s)
	db := openDB(t)
	if _, err := Import(db, src); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "perl.mmdb")
	if err := os.WriteFile(path, readable(t, s), 0o644); err != nil {
		t.Fatal(err)
	}
	reader, err := Open(path) // a Perl reader of the old version
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	err = db.View(func(snap *mmapdb.Snapshot) error {
		_, err := Export(snap, path, ExportOptions{IntFormat: IntQ})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reader.Superseded() {
		t.Error("the replaced Perl file is not marked superseded")
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.IntFormat() != IntQ || f.Len() != s.Expect.Records {
		t.Errorf("the new file: integers %c, %d records", f.IntFormat(), f.Len())
	}
	if _, err := os.Stat(path + ".lock"); err != nil {
		t.Errorf("the lock file of Perl writers: %v", err)
	}
	// A file that is not a Perl file is replaced but left unmarked.
	other := filepath.Join(t.TempDir(), "other")
	if err := os.WriteFile(other, []byte("MMDX not a Perl file"), 0o644); err != nil {
		t.Fatal(err)
	}
	keep, err := os.Open(other)
	if err != nil {
		t.Fatal(err)
	}
	defer keep.Close()
	err = db.View(func(snap *mmapdb.Snapshot) error {
		_, err := Export(snap, other, ExportOptions{NoLock: true})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var head [5]byte
	if _, err := keep.ReadAt(head[:], 0); err != nil || string(head[:]) != "MMDX " {
		t.Errorf("the replaced foreign file now starts %q, %v", head, err)
	}
	if _, err := os.Stat(other + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("NoLock made a lock file: %v", err)
	}
}
