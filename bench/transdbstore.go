package bench

import (
	"fmt"

	"transdb/mmapdb"
	"transdb/translation/transgen"
)

// Transdb is the engine under test, transdb/mmapdb: records under the key
// path [key, uri], sort field pack("N2", block, order), the action as
// data. A lookup pins a snapshot, looks the leaf up (a hash probe per key
// level over the mapped bytes), walks its records with Leaf.Fields (views
// into the mapping) and releases the snapshot. Build inserts every row in one transaction; every
// commit is Begin, Insert, Commit (which writes a complete new file).
type Transdb struct{}

// Name returns "transdb".
func (Transdb) Name() string { return "transdb" }

// Build inserts rows into a new database at path in one transaction.
func (Transdb) Build(path string, rows []transgen.Row) error {
	db, err := mmapdb.Open(path, nil)
	if err != nil {
		return err
	}
	err = buildTransdb(db, rows)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("build %s: %w", path, err)
	}
	return nil
}

func buildTransdb(db *mmapdb.DB, rows []transgen.Row) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	var keys []string
	for i, r := range rows {
		if i == 0 || r.Key != rows[i-1].Key || r.URI != rows[i-1].URI {
			keys = []string{r.Key, r.URI}
		}
		sort := SortField(r.Block, r.Order)
		if _, err := tx.Insert(keys, sort[:], bytesOf(r.Action)); err != nil {
			tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

// Open opens the database at path read-only; the file is mapped and its
// header checked.
func (Transdb) Open(path string) (Reader, error) {
	db, err := mmapdb.Open(path, &mmapdb.Options{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	return &transdbReader{db: db}, nil
}

// OpenWriter opens the database at path for transactions.
func (Transdb) OpenWriter(path string) (Writer, error) {
	db, err := mmapdb.Open(path, nil)
	if err != nil {
		return nil, err
	}
	return &transdbWriter{db: db}, nil
}

type transdbReader struct{ db *mmapdb.DB }

// Lookup pins a snapshot, reads the leaf of [key, uri] and touches each
// record. Sort and Data alias the mapping and are valid only until the
// snapshot is released at the end of Lookup.
func (r *transdbReader) Lookup(key, uri string) (n int, sum uint64) {
	snap, err := r.db.Snapshot()
	if err != nil {
		return 0, 0
	}
	leaf, err := snap.Lookup(key, uri)
	if err == nil {
		for i := range leaf.Len() {
			sort, data, _, err := leaf.Fields(i)
			if err != nil {
				break
			}
			n++
			sum += touchSort(sort, data)
		}
	}
	snap.Release()
	return n, sum
}

func (r *transdbReader) Close() error { return r.db.Close() }

type transdbWriter struct{ db *mmapdb.DB }

// Commit inserts one record in its own transaction.
func (w *transdbWriter) Commit(row transgen.Row) error {
	tx, err := w.db.Begin()
	if err != nil {
		return err
	}
	sort := SortField(row.Block, row.Order)
	if _, err := tx.Insert([]string{row.Key, row.URI}, sort[:], []byte(row.Action)); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (w *transdbWriter) Close() error { return w.db.Close() }
