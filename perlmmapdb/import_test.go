package perlmmapdb

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"transdb/internal/perlsamples"
	"transdb/mmapdb"
)

func TestEverySampleImportsToItsExpectation(t *testing.T) {
	for _, s := range perlsamples.All(t) {
		t.Run(s.Name, func(t *testing.T) {
			db := openDB(t)
			res, err := Import(db, sampleFile(t, s))
			if err != nil {
				t.Fatal(err)
			}
			if res.Records != s.Expect.Records || res.NextID != s.Expect.NextID || res.Generation != 1 {
				t.Errorf("imported %+v, want %d records, next ID %d, generation 1", res, s.Expect.Records, s.Expect.NextID)
			}
			if got := rawDump(t, db); got != s.Expect.Body() {
				t.Errorf("raw dump after import:\n%s\nwant:\n%s", got, s.Expect.Body())
			}
			err = db.View(func(snap *mmapdb.Snapshot) error {
				if snap.NextID() != s.Expect.NextID {
					t.Errorf("next ID %d, want %d", snap.NextID(), s.Expect.NextID)
				}
				return snap.Verify(nil)
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestImportReplacesEverythingAndCountsOneGeneration(t *testing.T) {
	db := openDB(t)
	err := db.Update(func(tx *mmapdb.Txn) error {
		_, err := tx.Insert([]string{"other", "table"}, nil, []byte("goes away"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	s := perlsamples.Get(t, "t005-gen2")
	f := sampleFile(t, s)
	for want := uint64(2); want <= 3; want++ {
		res, err := Import(db, f)
		if err != nil {
			t.Fatal(err)
		}
		if res.Generation != want {
			t.Errorf("import made generation %d, want %d", res.Generation, want)
		}
		if got := rawDump(t, db); got != s.Expect.Body() {
			t.Errorf("after import %d:\n%s\nwant only the Perl records:\n%s", want, got, s.Expect.Body())
		}
	}
}

func TestImportRefusesASupersededFileAndKeepsTheDatabase(t *testing.T) {
	db := openDB(t)
	good := perlsamples.Get(t, "t005-N")
	if _, err := Import(db, sampleFile(t, good)); err != nil {
		t.Fatal(err)
	}
	s := perlsamples.Get(t, "t005-gen2.superseded")
	path := filepath.Join(t.TempDir(), "perl.mmdb")
	if err := os.WriteFile(path, readable(t, s), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	supersede(t, path)
	if _, err := Import(db, f); !errors.Is(err, ErrSuperseded) {
		t.Errorf("import of a superseded file: %v, want ErrSuperseded", err)
	}
	if got := rawDump(t, db); got != good.Expect.Body() {
		t.Error("a refused import changed the database")
	}
}

func TestImportRefusesACorruptFileAndKeepsTheDatabase(t *testing.T) {
	db := openDB(t)
	good := perlsamples.Get(t, "t005-N")
	if _, err := Import(db, sampleFile(t, good)); err != nil {
		t.Fatal(err)
	}
	b := readable(t, perlsamples.Get(t, "example"))
	b[len(b)-200] ^= 0x40 // inside the string table: a length or a flag
	b[0x30] ^= 0x01       // inside the first record
	f, err := NewFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Import(db, f); !errors.Is(err, ErrCorrupt) {
		t.Errorf("import of a damaged file: %v, want ErrCorrupt", err)
	}
	if got := rawDump(t, db); got != good.Expect.Body() {
		t.Error("a refused import changed the database")
	}
}

// A Perl file whose records share one long string would take far more
// room in transdb, which stores each record's own: past ImportGrowth
// times the file's size it is refused, and the database keeps its
// version.
func TestImportRefusesAFileThatWouldGrowTooMuch(t *testing.T) {
	defer func(f int64) { importFloor = f }(importFloor)
	importFloor = 0 // the ratio alone, without the 1 GiB floor
	src := openDB(t)
	shared := bytes.Repeat([]byte("Do: 1;"), 10<<10) // 60 KiB
	if err := src.Update(func(tx *mmapdb.Txn) error {
		for i := range 200 {
			if _, err := tx.Insert([]string{"k", fmt.Sprintf("/u%d", i)}, []byte("\x00\x00\x00\x00\x00\x00\x00\x00"), shared); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "shared.mmdb")
	if err := src.View(func(s *mmapdb.Snapshot) error {
		_, err := Export(s, path, ExportOptions{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	db := openDB(t)
	good := perlsamples.Get(t, "t005-N")
	if _, err := Import(db, sampleFile(t, good)); err != nil {
		t.Fatal(err)
	}
	_, err = Import(db, f)
	if err == nil || !strings.Contains(err.Error(), "would fill the disk") {
		t.Fatalf("import of %d bytes sharing one string among 200 records: %v, want it refused", len(f.data), err)
	}
	if got := rawDump(t, db); got != good.Expect.Body() {
		t.Error("a refused import changed the database")
	}
	// The same file within the bound imports.
	importFloor = 1 << 30
	if res, err := Import(db, f); err != nil || res.Records != 200 {
		t.Errorf("within the floor: %+v, %v", res, err)
	}
}
