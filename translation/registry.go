package translation

import (
	"fmt"
	"sync"
	"time"

	"transdb/mmapdb"
)

// The registry shares one mmapdb.DB, and so one mapping of the file,
// between all providers of the process that use the same database file,
// whatever their base keys and whether they are read-only, as the Perl
// provider shares one MMapDB object. Providers are told apart only by
// the cleaned absolute path of the file and by NoLock, which is a
// property of the DB (it decides whether commits take the lock file).
// ReadOnly is enforced by each provider, so the shared DB is opened
// writable; it writes nothing until a writable provider begins a
// transaction.
//
// Two spellings of a path that differ only through symbolic links are
// two files to the registry; they would then be mapped twice.

// dbKey identifies a shared DB.
type dbKey struct {
	path   string
	noLock bool
}

// sharedDB is one open DB and the number of started providers using it.
type sharedDB struct {
	key  dbKey
	db   *mmapdb.DB
	refs int // guarded by registry.mu
}

var registry struct {
	mu  sync.Mutex
	dbs map[dbKey]*sharedDB
}

// acquireDB returns the shared DB for the key, opening it when no started
// provider uses it yet. checkInterval is passed to mmapdb.Open by the
// opener only; later providers share the DB as it was opened.
func acquireDB(key dbKey, checkInterval time.Duration) (*sharedDB, error) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if s := registry.dbs[key]; s != nil {
		s.refs++
		return s, nil
	}
	db, err := mmapdb.Open(key.path, &mmapdb.Options{
		NoLock:        key.noLock,
		CheckInterval: checkInterval,
	})
	if err != nil {
		return nil, fmt.Errorf("translation: %w", err) // err names the file
	}
	s := &sharedDB{key: key, db: db, refs: 1}
	if registry.dbs == nil {
		registry.dbs = make(map[dbKey]*sharedDB)
	}
	registry.dbs[key] = s
	return s, nil
}

// release drops one provider's use of the DB; the last one closes it.
// Snapshots still held stay valid until they are released.
func (s *sharedDB) release() error {
	registry.mu.Lock()
	s.refs--
	last := s.refs == 0
	if last {
		delete(registry.dbs, s.key)
	}
	registry.mu.Unlock()
	if !last {
		return nil
	}
	// Close waits for a transaction still open on the file: outside the
	// registry's lock, so that its owner can open providers meanwhile.
	return s.db.Close()
}
