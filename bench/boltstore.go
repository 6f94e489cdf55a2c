package bench

import (
	"fmt"
	"unsafe"

	bolt "go.etcd.io/bbolt"

	"transdb/translation/transgen"
)

// Bolt is go.etcd.io/bbolt with nested buckets: one bucket per key, in it
// one bucket per uri, in it the records as sort field -> action. A lookup
// is a View transaction that opens both buckets and walks a cursor over
// the block list. Build loads the sorted rows one key per Update
// transaction (one transaction of a million records takes five times as
// long) with FillPercent 1.0, the setting bbolt documents for sequential
// loads; every commit is one Update transaction (bbolt syncs the file on
// commit).
type Bolt struct{}

// Name returns "bbolt".
func (Bolt) Name() string { return "bbolt" }

// Build loads rows into a new bbolt file at path, one Update transaction
// per key.
func (Bolt) Build(path string, rows []transgen.Row) error {
	db, err := bolt.Open(path, 0o644, nil)
	if err != nil {
		return err
	}
	for start := 0; start < len(rows) && err == nil; {
		end := start + 1
		for end < len(rows) && rows[end].Key == rows[start].Key {
			end++
		}
		err = db.Update(func(tx *bolt.Tx) error { return putKey(tx, rows[start:end]) })
		start = end
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("build %s: %w", path, err)
	}
	return nil
}

// putKey puts rows, which share one key, into their buckets.
func putKey(tx *bolt.Tx, rows []transgen.Row) error {
	kb, err := tx.CreateBucketIfNotExists([]byte(rows[0].Key))
	if err != nil {
		return err
	}
	kb.FillPercent = 1.0
	// Keys and values passed to Put must stay valid until the commit: one
	// backing array holds every sort field.
	sorts := make([]byte, 8*len(rows))
	var ub *bolt.Bucket
	for i, r := range rows {
		if i == 0 || r.URI != rows[i-1].URI {
			if ub, err = kb.CreateBucketIfNotExists([]byte(r.URI)); err != nil {
				return err
			}
			ub.FillPercent = 1.0
		}
		sort := sorts[8*i : 8*i+8 : 8*i+8]
		s := SortField(r.Block, r.Order)
		copy(sort, s[:])
		if err := ub.Put(sort, bytesOf(r.Action)); err != nil {
			return err
		}
	}
	return nil
}

// Open opens the bbolt file at path read-only.
func (Bolt) Open(path string) (Reader, error) {
	db, err := bolt.Open(path, 0o644, &bolt.Options{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	return &boltReader{db: db}, nil
}

// OpenWriter opens the bbolt file at path read-write.
func (Bolt) OpenWriter(path string) (Writer, error) {
	db, err := bolt.Open(path, 0o644, nil)
	if err != nil {
		return nil, err
	}
	return &boltWriter{db: db}, nil
}

type boltReader struct{ db *bolt.DB }

// Lookup runs one View transaction; keys, sort fields and actions are
// read in place (bbolt's values alias its mapping during the transaction).
func (r *boltReader) Lookup(key, uri string) (n int, sum uint64) {
	r.db.View(func(tx *bolt.Tx) error {
		kb := tx.Bucket(bytesOf(key))
		if kb == nil {
			return nil
		}
		ub := kb.Bucket(bytesOf(uri))
		if ub == nil {
			return nil
		}
		c := ub.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			n++
			sum += touchSort(k, v)
		}
		return nil
	})
	return n, sum
}

func (r *boltReader) Close() error { return r.db.Close() }

type boltWriter struct{ db *bolt.DB }

// Commit puts one record in one Update transaction.
func (w *boltWriter) Commit(row transgen.Row) error {
	return w.db.Update(func(tx *bolt.Tx) error {
		kb, err := tx.CreateBucketIfNotExists([]byte(row.Key))
		if err != nil {
			return err
		}
		ub, err := kb.CreateBucketIfNotExists([]byte(row.URI))
		if err != nil {
			return err
		}
		sort := SortField(row.Block, row.Order)
		return ub.Put(sort[:], []byte(row.Action))
	})
}

func (w *boltWriter) Close() error { return w.db.Close() }

// bytesOf returns the bytes of s without copying. The result must not be
// written to; bbolt only reads bucket names, keys and values.
func bytesOf(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
