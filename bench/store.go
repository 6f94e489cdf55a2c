// Package bench compares the transdb storage engine (mmapdb) with two
// peers on the same translation-shaped data (see transdb/translation/transgen):
//
//   - "transdb": an mmapdb file, records under the key path [key, uri] with
//     the sort field pack("N2", block, order) and the action as data;
//   - "map": what a load-everything provider does: the table serialized to a
//     flat file and loaded into a map[key]map[uri][]Entry on open;
//   - "bbolt": go.etcd.io/bbolt with nested buckets key -> uri ->
//     (sort field -> action).
//
// Every store implements [Store]. A lookup returns the block list of a
// (key, uri) pair in the form natural to the store and touches every record
// of it (both sort fields and the action), so that the stores do comparable
// work; see [Reader]. The program bench/cmd/storebench measures the stores
// side by side and prints a table; the Go benchmarks in this package measure
// lookups and opens at 10k and 100k records (1M with TRANSDB_BENCH_LARGE=1).
//
// The package lives in its own module, so that the peers' dependencies stay
// out of the transdb module.
package bench

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"transdb/translation/transgen"
)

// Store is one storage engine under comparison.
type Store interface {
	// Name is the store's name in flags and tables.
	Name() string
	// Build writes rows into a new database at path (which must not
	// exist) and syncs it to disk. rows are sorted by (Key, URI, Block,
	// Order), as transgen.Generate returns them.
	Build(path string, rows []transgen.Row) error
	// Open opens the database at path for lookups: after Open returns, the
	// reader answers lookups without further setup.
	Open(path string) (Reader, error)
	// OpenWriter opens the database at path for single-record commits.
	OpenWriter(path string) (Writer, error)
}

// Reader answers lookups on an open database. A Reader is safe for use by
// one goroutine at a time.
type Reader interface {
	// Lookup fetches the block list of (key, uri) and touches each record.
	// It returns the number of records and their [Touch] sum; a missing
	// pair gives (0, 0).
	Lookup(key, uri string) (n int, sum uint64)
	// Close releases the database.
	Close() error
}

// Writer commits changes to a database, one durable transaction at a time.
type Writer interface {
	// Commit adds one record in its own transaction and returns after the
	// change is durable, as the store makes it durable.
	Commit(row transgen.Row) error
	// Close releases the database.
	Close() error
}

// Stores lists every store under comparison, in table order.
var Stores = []Store{Transdb{}, Map{}, Bolt{}}

// StoreByName returns the store called name.
func StoreByName(name string) (Store, error) {
	for _, s := range Stores {
		if s.Name() == name {
			return s, nil
		}
	}
	return nil, fmt.Errorf("unknown store %q", name)
}

// Touch is the value one record adds to a Lookup sum: block plus order
// plus the action's length plus its first byte. Computing it reads the
// whole sort field and the start of the action, as a caller that uses the
// record must.
func Touch[S ~string | ~[]byte](block, order uint32, action S) uint64 {
	sum := uint64(block) + uint64(order) + uint64(len(action))
	if len(action) > 0 {
		sum += uint64(action[0])
	}
	return sum
}

// touchSort is Touch for a record given as an 8-byte sort field; a sort
// field of another length counts as block and order 0.
func touchSort(sort, action []byte) uint64 {
	if len(sort) != 8 {
		return Touch(0, 0, action)
	}
	return Touch(binary.BigEndian.Uint32(sort), binary.BigEndian.Uint32(sort[4:]), action)
}

// SortField returns the 8-byte sort field of a record: pack("N2", block,
// order), big-endian block then order, so that bytewise order is
// (block, order) order.
func SortField(block, order uint32) [8]byte {
	var s [8]byte
	binary.BigEndian.PutUint32(s[:4], block)
	binary.BigEndian.PutUint32(s[4:], order)
	return s
}

// CommitRow returns the record of the i-th single-record commit of a
// benchmark: under key, at a uri no generated row has, so that every
// commit adds a record.
func CommitRow(key string, i int) transgen.Row {
	return transgen.Row{
		Key:    key,
		URI:    "/commit/" + strconv.Itoa(i),
		Action: "Proxy: 'http://commit" + strconv.Itoa(i) + "/'.$URI",
	}
}

// SizeLabel names a record count in benchmark and table names: 10k, 1M.
func SizeLabel(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n >= 1000 && n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

// Expected is the Lookup result that rows imply for every (key, uri) pair.
type Expected struct {
	N   int
	Sum uint64
}

// ExpectedLookups returns, for every (key, uri) pair in rows, what Lookup
// must return.
func ExpectedLookups(rows []transgen.Row) map[[2]string]Expected {
	m := make(map[[2]string]Expected, len(rows)/4+1)
	for _, r := range rows {
		p := [2]string{r.Key, r.URI}
		e := m[p]
		e.N++
		e.Sum += Touch(r.Block, r.Order, r.Action)
		m[p] = e
	}
	return m
}

// syncDir fsyncs a directory, so that a rename in it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// FileSize returns the size in bytes of the database at path.
func FileSize(path string) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// RemoveDatabase removes the database at path and the files a store keeps
// beside it (lock files, leftovers of interrupted commits).
func RemoveDatabase(path string) error {
	matches, err := filepath.Glob(path + ".*")
	if err != nil {
		return err
	}
	for _, p := range slices.Concat([]string{path}, matches) {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}
