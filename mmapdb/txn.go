package mmapdb

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sort"

	"github.com/gofrs/flock"
)

// Txn is a write transaction. It works from the version current at Begin;
// its inserts and deletes are invisible to readers until Commit, which
// writes a complete new file and swaps it in. A Txn is not safe for
// concurrent use; a DB has at most one open Txn.
type Txn struct {
	db   *DB
	lock *flock.Flock // nil with NoLock
	base *Snapshot    // the pin of the version the transaction started from
	view *Snapshot    // the handle Base returns: a view of base that cannot release it
	wf   *os.File     // the base file opened for writing its valid flag
	done bool

	root        *pnode              // inserted records by key path
	ins         []*prec             // inserted records in insertion order
	byID        map[uint64]*prec    // built when ins is not in ID order
	deleted     map[uint64]struct{} // deleted records of the base version
	deletedOffs []uint64            // their offsets in the base file
	cleared     bool                // every base record is deleted

	nextID     uint64 // next ID to try
	baseMaxID  uint64 // highest ID in the base version
	live       uint64 // records the new version will hold
	nInserted  uint64
	nDeleted   uint64
	lastKeys   []string // key path of the last insert
	lastLeaf   *pnode   // its leaf
	chunk      []prec   // allocation chunk for prec values
	arena      []byte   // allocation chunk for sort and data bytes
	insInOrder bool     // ins is sorted by ID
}

// Begin starts a transaction: it takes the exclusive lock on <file>.lock
// (unless NoLock), removes temporary files of dead writers, creates the
// database if it is missing, and pins the newest version as the base.
// It fails with ErrReadOnly on a read-only DB, with ErrClosed after
// Close, and with ErrTxnActive when this DB already has an open
// transaction (Update waits for it instead). The transaction belongs to
// the caller, who ends it with Commit or Rollback.
func (db *DB) Begin() (*Txn, error) {
	if err := db.takeWriter(false); err != nil {
		return nil, err
	}
	return db.begin()
}

// takeWriter fills the transaction slot, waiting for the open transaction
// to end if wait is set, else failing with ErrTxnActive.
func (db *DB) takeWriter(wait bool) error {
	if db.opts.ReadOnly {
		return ErrReadOnly
	}
	if db.closed.Load() {
		return ErrClosed
	}
	if !wait {
		select {
		case db.writer <- struct{}{}:
		default:
			return ErrTxnActive
		}
	} else {
		select {
		case db.writer <- struct{}{}:
		case <-db.closing:
			return ErrClosed
		}
	}
	// Close may have begun meanwhile; it waits for this slot, so give
	// the slot back and fail as after Close.
	if db.closed.Load() {
		<-db.writer
		return ErrClosed
	}
	return nil
}

// begin starts a transaction in the slot that takeWriter filled; on
// failure it empties the slot.
func (db *DB) begin() (*Txn, error) {
	t := &Txn{db: db, insInOrder: true}
	if !db.opts.NoLock {
		fl, err := lock(db.path, db.opts.LockTimeout, db.opts.Mode)
		if err != nil {
			<-db.writer
			return nil, err
		}
		t.lock = fl
		removeStaleTemps(db.path)
	}
	if err := t.pinBase(); err != nil {
		t.unlock()
		<-db.writer
		return nil, err
	}
	return t, nil
}

// pinBase maps the newest version (creating an empty database when the
// file is missing) and opens it for writing its valid flag.
func (t *Txn) pinBase() error {
	db := t.db
	for attempt := 0; ; attempt++ {
		if _, err := os.Stat(db.path); errors.Is(err, fs.ErrNotExist) {
			if err := db.create(); err != nil {
				return err
			}
		}
		if _, err := db.refresh(); err != nil {
			return err
		}
		s, err := db.Snapshot()
		if err != nil {
			return err
		}
		wf, err := os.OpenFile(db.path, os.O_WRONLY, 0)
		if err != nil {
			s.Release()
			return fmt.Errorf("mmapdb: open for writing: %w", err)
		}
		fi, err := wf.Stat()
		if err != nil {
			s.Release()
			wf.Close()
			return fmt.Errorf("mmapdb: %w", err)
		}
		// The file at the path must be the pinned version; it can differ
		// only when another tool replaced it meanwhile.
		if dev, ino := fileIdentity(fi); (dev != s.v.dev || ino != s.v.ino) && attempt < 5 {
			s.Release()
			wf.Close()
			continue
		}
		t.base, t.view, t.wf = s, borrow(s.v), wf
		t.nextID = s.NextID()
		t.live = s.Len()
		ids, err := s.idIndex()
		if err != nil {
			t.base.Release()
			wf.Close()
			return err
		}
		if ids.n > 0 {
			t.baseMaxID = ids.id(ids.n - 1)
		}
		return nil
	}
}

// create writes an empty database (generation 0) at the path.
func (db *DB) create() error {
	return db.replace(nil, false, func(b *builder, h *header) error {
		root, err := b.index("", nil)
		if err != nil {
			return err
		}
		h.nextID = 1
		return b.finish(h, root, nil)
	})
}

// Base returns the version the transaction started from, pinned until
// the transaction ends. The transaction owns the pin: Release of the
// returned handle does nothing, and after Commit or Rollback its reads
// fail with ErrReleased.
func (t *Txn) Base() *Snapshot { return t.view }

// Insert adds a record under the key path and returns its new ID. IDs are
// allocated upward from the header's next ID; past Options.MaxID they wrap
// to the lowest free ID. Sort and data are copied. A key path that would
// mix records and sub-indices fails with ErrMixed.
func (t *Txn) Insert(keys []string, sort, data []byte) (uint64, error) {
	leaf, err := t.leafFor(keys)
	if err != nil {
		return 0, err
	}
	id, err := t.allocID()
	if err != nil {
		return 0, err
	}
	t.add(leaf, keys, t.copyBytes(sort), t.copyBytes(data), id)
	return id, nil
}

// InsertID is Insert with a caller-chosen ID; it fails with ErrDuplicateID
// when the ID is in use and with an error when it is 0 or above MaxID.
func (t *Txn) InsertID(id uint64, keys []string, sort, data []byte) error {
	return t.insertID(id, keys, sort, data, true)
}

// InsertIDView is InsertID without copying sort and data: the
// transaction keeps the slices themselves, which must not change until
// the transaction ends. It is meant for copying from memory that outlives
// the transaction anyway, such as the mapping of another database file,
// without holding a second copy of the records on the heap.
func (t *Txn) InsertIDView(id uint64, keys []string, sort, data []byte) error {
	return t.insertID(id, keys, sort, data, false)
}

func (t *Txn) insertID(id uint64, keys []string, sort, data []byte, copy bool) error {
	if t.done {
		return ErrNoTxn
	}
	if id == 0 || id > t.db.opts.MaxID {
		return fmt.Errorf("mmapdb: record id %d outside 1..%d", id, t.db.opts.MaxID)
	}
	if t.used(id) {
		return fmt.Errorf("%w: %d", ErrDuplicateID, id)
	}
	leaf, err := t.leafFor(keys)
	if err != nil {
		return err
	}
	if copy {
		sort, data = t.copyBytes(sort), t.copyBytes(data)
	}
	t.add(leaf, keys, sort, data, id)
	if id >= t.nextID {
		t.nextID = id + 1
	}
	return nil
}

// SetNextID sets the ID that the next Insert tries first, and that the
// committed version records, as when copying a database whose allocator
// stands past its highest ID. IDs in use are skipped as always, so any
// value in 1..MaxID+1 is safe; 0 and larger values fail. A later InsertID
// of an ID at or above it moves it on again.
func (t *Txn) SetNextID(id uint64) error {
	if t.done {
		return ErrNoTxn
	}
	if maxID := t.db.opts.MaxID; id == 0 || id > maxID && id-1 != maxID {
		return fmt.Errorf("mmapdb: next id %d outside 1..MaxID+1 (MaxID %d)", id, maxID)
	}
	t.nextID = id
	return nil
}

// Delete deletes the record with the ID and returns it; found is false
// when no live record has that ID. The record's Sort and Data stay valid
// until the transaction ends.
func (t *Txn) Delete(id uint64) (rec Record, found bool, err error) {
	if t.done {
		return Record{}, false, ErrNoTxn
	}
	if p := t.pending(id); p != nil {
		p.deleted = true
		if t.byID != nil {
			delete(t.byID, id)
		}
		t.live--
		t.nInserted--
		return p.record(), true, nil
	}
	rec, found, err = t.baseRecord(id)
	if err != nil || !found {
		return Record{}, false, err
	}
	if t.deleted == nil {
		t.deleted = make(map[uint64]struct{})
	}
	t.deleted[id] = struct{}{}
	t.deletedOffs = append(t.deletedOffs, rec.off)
	t.live--
	t.nDeleted++
	return rec, true, nil
}

// Get returns the live record with the ID as the transaction sees it:
// inserted ones included, deleted ones not.
func (t *Txn) Get(id uint64) (Record, bool, error) {
	if t.done {
		return Record{}, false, ErrNoTxn
	}
	if p := t.pending(id); p != nil {
		return p.record(), true, nil
	}
	return t.baseRecord(id)
}

// Lookup returns the records at the key path as the transaction sees them,
// in leaf order: the base version's live records merged with the inserted
// ones. Unlike Snapshot.Lookup it allocates the result.
func (t *Txn) Lookup(keys ...string) ([]Record, error) {
	if t.done {
		return nil, ErrNoTxn
	}
	var old Leaf
	if !t.cleared {
		var err error
		if old, err = t.base.Lookup(keys...); err != nil {
			return nil, err
		}
	}
	var recs []Record
	err := t.mergeLeaf(old, t.pendingLeaf(keys), func(r Record) error {
		recs = append(recs, r)
		return nil
	})
	return recs, err
}

// LookupSort returns the records at the key path whose sort field is
// field, as the transaction sees them and in the order Lookup lists
// them. It finds them by binary search: its cost does not grow with the
// other records of the leaf.
func (t *Txn) LookupSort(field []byte, keys ...string) ([]Record, error) {
	if t.done {
		return nil, ErrNoTxn
	}
	var recs []Record
	if !t.cleared {
		old, err := t.base.Lookup(keys...)
		if err != nil {
			return nil, err
		}
		var atErr error
		i := sort.Search(old.Len(), func(i int) bool {
			r, err := old.At(i)
			if err != nil {
				atErr = err
				return true
			}
			return bytes.Compare(r.Sort, field) >= 0
		})
		if atErr != nil {
			return nil, atErr
		}
		for ; i < old.Len(); i++ {
			r, err := old.At(i)
			if err != nil {
				return nil, err
			}
			if !bytes.Equal(r.Sort, field) {
				break
			}
			if _, gone := t.deleted[r.ID]; !gone {
				recs = append(recs, r)
			}
		}
	}
	pending := t.pendingLeaf(keys)
	if !slices.IsSortedFunc(pending, cmpPrec) {
		slices.SortStableFunc(pending, cmpPrec)
	}
	j := sort.Search(len(pending), func(j int) bool { return bytes.Compare(pending[j].sort, field) >= 0 })
	for ; j < len(pending) && bytes.Equal(pending[j].sort, field); j++ {
		if !pending[j].deleted {
			recs = append(recs, pending[j].record())
		}
	}
	return recs, nil
}

// Clear deletes every record: those of the base version and those inserted
// so far. ID allocation goes on from where it was.
func (t *Txn) Clear() error {
	if t.done {
		return ErrNoTxn
	}
	t.nDeleted += t.live - t.nInserted
	t.cleared = true
	t.deleted, t.deletedOffs = nil, nil
	t.root, t.ins, t.byID = nil, nil, nil
	t.lastKeys, t.lastLeaf = nil, nil
	t.insInOrder = true
	t.live = 0
	t.nInserted = 0
	return nil
}

// Commit writes the new version and swaps it in: a temporary file in the
// database's directory, fsync, rename over the database, fsync of the
// directory; then it clears the valid flag of the old version, so readers
// everywhere move on, and releases the lock. On error nothing changes and
// the transaction is over as after Rollback.
func (t *Txn) Commit() error { return t.commit(false) }

// commitKeepOld is Commit without invalidating the old version: readers
// of it are not told to move on (they notice through the identity check).
// It is meant for keeping the old file as a backup under another name.
func (t *Txn) commitKeepOld() error { return t.commit(true) }

// Rollback forgets the transaction and releases the lock.
func (t *Txn) Rollback() error {
	if t.done {
		return ErrNoTxn
	}
	t.end()
	return nil
}

func (t *Txn) commit(keepOld bool) error {
	return t.finish(keepOld, func(b *builder, h *header) error {
		root, err := t.writeIndex(b, 0, "", t.oldRoot(), t.root)
		if err != nil {
			return err
		}
		h.generation = t.base.Generation() + 1
		h.nextID = t.nextID
		return b.finish(h, root.off, t.base)
	})
}

// finish ends the transaction by replacing its base with what write
// writes, and counts the commit.
func (t *Txn) finish(keepOld bool, write func(*builder, *header) error) error {
	if t.done {
		return ErrNoTxn
	}
	defer t.end()
	if err := t.db.replace(t, keepOld, write); err != nil {
		return err
	}
	t.db.commits.Add(1)
	t.db.inserts.Add(t.nInserted)
	t.db.deletes.Add(t.nDeleted)
	return nil
}

// oldRoot returns the base root, or the zero Index after Clear.
func (t *Txn) oldRoot() *Index {
	if t.cleared {
		return nil
	}
	ix, err := t.base.Root()
	if err != nil {
		return &Index{} // reported again by writeIndex through Child
	}
	return &ix
}

// end releases everything the transaction holds.
func (t *Txn) end() {
	t.done = true
	t.view.state.Store(snapReleased)
	t.base.Release()
	if t.wf != nil {
		t.wf.Close()
	}
	t.unlock()
	<-t.db.writer
	t.root, t.ins, t.byID, t.deleted, t.chunk, t.arena = nil, nil, nil, nil, nil, nil
}

func (t *Txn) unlock() {
	if t.lock != nil {
		_ = t.lock.Unlock()
		_ = t.lock.Close()
		t.lock = nil
	}
}
