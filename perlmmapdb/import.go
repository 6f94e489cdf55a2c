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
// new one, never a part. The new version is then verified.
//
// Records are inserted in the order of f's data section, so records of
// one leaf with equal sort strings keep the order the module gives them.
// A NEXTID of 0, which the module's allocation skips, becomes 1. Import
// takes a few words of memory per record beyond the new database: keys
// are not copied out of f's mapping while the transaction is built, so f
// must stay open until Import returns.
func Import(db *mmapdb.DB, f *File) (ImportResult, error) {
	if f.data == nil {
		return ImportResult{}, ErrClosed
	}
	if f.Superseded() {
		return ImportResult{}, ErrSuperseded
	}
	if err := f.Check(); err != nil {
		return ImportResult{}, err
	}
	next := max(f.NextID(), 1)
	res := ImportResult{NextID: next}
	err := db.Update(func(t *mmapdb.Txn) error {
		res.Generation = t.Base().Generation() + 1
		if err := t.Clear(); err != nil {
			return err
		}
		keys := make([]string, 0, 8)
		for r, err := range f.Scan() {
			if err != nil {
				return err
			}
			keys = keys[:0]
			for _, k := range r.Keys {
				// A view of the mapping: the transaction keeps the keys
				// until it has written them, within this call.
				keys = append(keys, bstr(k.Bytes))
			}
			if err := t.InsertID(r.ID, keys, r.Sort.Bytes, r.Data.Bytes); err != nil {
				return fmt.Errorf("record %d at %d: %w", r.ID, r.Pos, err)
			}
			res.Records++
		}
		return t.SetNextID(next)
	})
	if err != nil {
		return ImportResult{}, fmt.Errorf("perlmmapdb: import into %s: %w", db.Path(), err)
	}
	s, err := db.Snapshot()
	if err != nil {
		return res, err
	}
	defer s.Release()
	// Another writer may have committed since; what is verified then is
	// its version.
	if s.Generation() == res.Generation && (s.Len() != uint64(res.Records) || s.NextID() != next) {
		return res, fmt.Errorf("perlmmapdb: import into %s: committed %d records and next ID %d, wanted %d and %d",
			db.Path(), s.Len(), s.NextID(), res.Records, next)
	}
	if err := s.Verify(nil); err != nil {
		return res, fmt.Errorf("perlmmapdb: import into %s: %w", db.Path(), err)
	}
	return res, nil
}
