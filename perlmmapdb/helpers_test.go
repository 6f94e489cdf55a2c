package perlmmapdb

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"transdb/internal/perlsamples"
	"transdb/mmapdb"
	"transdb/translation/transgen"
)

// openDB opens a new database in a temporary directory.
func openDB(t testing.TB) *mmapdb.DB {
	t.Helper()
	db, err := mmapdb.Open(filepath.Join(t.TempDir(), "trans.mmdb"), &mmapdb.Options{CheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// sampleFile writes the readable bytes of a sample to a temporary file
// and opens it.
func sampleFile(t testing.TB, s perlsamples.Sample) *File {
	t.Helper()
	path := filepath.Join(t.TempDir(), s.Name+".mmdb")
	if err := os.WriteFile(path, readable(t, s), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// rawDump returns the raw dump of the current version of db.
func rawDump(t testing.TB, db *mmapdb.DB) string {
	t.Helper()
	var buf bytes.Buffer
	err := db.View(func(s *mmapdb.Snapshot) error {
		_, err := WriteRaw(&buf, s)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// fillA2T inserts n generated rows in the layout of
// Apache2::Translation::MMapDB under the base key trans, db: every
// action, and a note for every seventh row; some of the notes are
// Latin-1 bytes that are not UTF-8, some UTF-8 text. Every eleventh
// record is deleted again, so that the IDs have gaps, and the next ID is
// set past the highest.
func fillA2T(t testing.TB, db *mmapdb.DB, n int) {
	t.Helper()
	rows := transgen.Generate(n, 1)
	err := db.Update(func(tx *mmapdb.Txn) error {
		var sort [8]byte
		for i, r := range rows {
			binary.BigEndian.PutUint32(sort[:], r.Block)
			binary.BigEndian.PutUint32(sort[4:], r.Order)
			id, err := tx.Insert([]string{"trans", "db", "actn", r.Key, r.URI}, sort[:], []byte(r.Action))
			if err != nil {
				return err
			}
			if i%7 == 0 {
				note := []byte("note")
				switch i % 3 {
				case 1:
					note = []byte("caf\xe9 latin-1")
				case 2:
					note = []byte("заметка")
				}
				if _, err := tx.Insert([]string{"trans", "db", "note", r.Key, r.URI}, sort[:], note); err != nil {
					return err
				}
			}
			if i%11 == 5 {
				if _, _, err := tx.Delete(id); err != nil {
					return err
				}
			}
		}
		return tx.SetNextID(uint64(2*n + 1000))
	})
	if err != nil {
		t.Fatal(err)
	}
}
