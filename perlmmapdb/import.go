package perlmmapdb

import (
	"fmt"

	"transdb/mmapdb"
)

// ImportResult describes what Import committed.
type ImportResult struct {
	Records    int    // the records imported
	NextID     uint64 // the next ID of the new version
	Generation uint64 // the generation of the new version
}

// Import makes the database db hold exactly the records of the Perl file
// f, of every base key: each with its key path, sort string, data bytes
// (strings that are not UTF-8 stay the bytes they are) and ID, and the
// file's next ID. It checks f completely first (File.Check) and refuses
// a superseded file with ErrSuperseded. The records replace everything
// db held before, in one transaction: readers see the old version or the
// new one, never a part. Import checks the number of records and the
// next ID of the new version; to check the whole version, as transdbd
// import does, call Snapshot.Verify.
//
// Records are inserted in the order of f's data section, so records of
// one leaf with equal sort strings keep the order the module gives them.
// A NEXTID of 0, which the module's allocation skips, becomes 1. Import
// holds the transaction's few words per record on the heap, but no copy
// of the records: keys, sort strings and data stay in f's mapping until
// the new version is written, so f must stay open until Import returns.
// A file cut short in place meanwhile is ErrChanged, and db keeps its
// version.
//
// The Perl format stores a string once however many records share it;
// transdb stores each record's own. A file whose records would take more
// than ImportGrowth times its size (and more than 1 GiB) is refused
// before anything is written, so that a few megabytes of shared strings
// cannot fill the disk.
func Import(db *mmapdb.DB, f *File) (ImportResult, error) {
	return guarded(func() (ImportResult, error) { return importFile(db, f) })
}

// ImportGrowth bounds what Import writes: at most this many times the
// Perl file's size in keys, sort strings and data, or importFloor bytes
// if that is more. Real tables take about as much as their Perl file.
const ImportGrowth = 64

// importFloor is what Import may always write.
var importFloor int64 = 1 << 30

// importFile is Import, with faults not caught.
func importFile(db *mmapdb.DB, f *File) (ImportResult, error) {
	if f.data == nil {
		return ImportResult{}, ErrClosed
	}
	if f.Superseded() {
		return ImportResult{}, ErrSuperseded
	}
	next := max(f.NextID(), 1)
	res := ImportResult{NextID: next}
	limit, total := max(ImportGrowth*int64(len(f.data)), importFloor), int64(0)
	err := db.Update(func(t *mmapdb.Txn) error {
		res.Generation = t.Base().Generation() + 1
		if err := t.Clear(); err != nil {
			return err
		}
		keys := make([]string, 0, 8)
		// The records go in as Check reads the data section; the rest of
		// the check follows before the commit.
		err := f.check(func(r *Record) error {
			keys = keys[:0]
			total += int64(len(r.Sort.Bytes) + len(r.Data.Bytes))
			for _, k := range r.Keys {
				// A view of the mapping: the transaction keeps the keys
				// until it has written them, within this call.
				keys = append(keys, bstr(k.Bytes))
				total += int64(len(k.Bytes))
			}
			if total > limit {
				return fmt.Errorf("record %d at %d: the records take more than %d bytes, over %d times the file's %d: "+
					"refused, as strings the Perl file shares among many records would fill the disk", r.ID, r.Pos, limit, ImportGrowth, len(f.data))
			}
			if err := t.InsertIDView(r.ID, keys, r.Sort.Bytes, r.Data.Bytes); err != nil {
				return fmt.Errorf("record %d at %d: %w", r.ID, r.Pos, err)
			}
			res.Records++
			return nil
		})
		if err != nil {
			return err
		}
		return t.SetNextID(next)
	})
	if err != nil {
		return ImportResult{}, fmt.Errorf("perlmmapdb: import into %s: %w", db.Path(), err)
	}
	// What the commit wrote is checked by counting; Snapshot.Verify
	// checks the whole version, as transdbd import and a daemon's
	// background verification do.
	err = db.View(func(s *mmapdb.Snapshot) error {
		// Another writer may have committed since.
		if s.Generation() == res.Generation && (s.Len() != uint64(res.Records) || s.NextID() != next) {
			return fmt.Errorf("committed %d records and next ID %d, wanted %d and %d", s.Len(), s.NextID(), res.Records, next)
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("perlmmapdb: import into %s: %w", db.Path(), err)
	}
	return res, nil
}
