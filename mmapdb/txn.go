package mmapdb

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"github.com/gofrs/flock"
)

// Txn is a write transaction. It works from the version current at Begin;
// its inserts and deletes are invisible to readers until Commit, which
// writes a complete new file and swaps it in. A Txn is not safe for
// concurrent use; a DB has at most one open Txn.
type Txn struct {
	db   *DB
	lock *flock.Flock // nil with NoLock
	base Snapshot     // the version the transaction started from
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

// pnode is a node of the tree of inserted records: an index (children) or
// a leaf (recs).
type pnode struct {
	children map[string]*pnode
	recs     []*prec
	leaf     bool
}

// prec is an inserted record.
type prec struct {
	sort, data []byte
	id         uint64
	keys       []string
	deleted    bool
}

// Begin starts a transaction: it takes the exclusive lock on <file>.lock
// (unless NoLock), removes temporary files of dead writers, creates the
// database if it is missing, and pins the newest version as the base.
// It fails with ErrReadOnly on a read-only DB and with ErrTxnActive when
// this DB already has an open transaction.
func (db *DB) Begin() (*Txn, error) {
	if db.opts.ReadOnly {
		return nil, ErrReadOnly
	}
	if db.closed.Load() {
		return nil, ErrClosed
	}
	db.txMu.Lock()
	defer db.txMu.Unlock()
	if db.txn != nil {
		return nil, ErrTxnActive
	}
	t := &Txn{db: db, insInOrder: true}
	if !db.opts.NoLock {
		fl, err := lock(db.path, db.opts.LockTimeout, db.opts.Mode)
		if err != nil {
			return nil, err
		}
		t.lock = fl
		var backupDir []string
		if db.opts.Backups != nil {
			backupDir = append(backupDir, db.opts.Backups.withDefaults(db.path).Dir)
		}
		removeStaleTemps(db.path, backupDir...)
	}
	if err := t.pinBase(); err != nil {
		t.unlock()
		return nil, err
	}
	db.txn = t
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
		t.base, t.wf = s, wf
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

// Base returns the version the transaction started from. It stays pinned
// until the transaction ends; do not release it.
func (t *Txn) Base() Snapshot { return t.base }

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
	t.add(leaf, keys, sort, data, id)
	return id, nil
}

// InsertID is Insert with a caller-chosen ID; it fails with ErrDuplicateID
// when the ID is in use and with an error when it is 0 or above MaxID.
func (t *Txn) InsertID(id uint64, keys []string, sort, data []byte) error {
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
	t.add(leaf, keys, sort, data, id)
	if id >= t.nextID {
		t.nextID = id + 1
	}
	return nil
}

// leafFor returns the leaf of inserted records at the key path, creating
// it (and the indices above it) after checking that the path mixes records
// and sub-indices neither among the inserted records nor in the base
// version. Consecutive inserts under one key path, as loads make them,
// find the leaf without walking the tree.
func (t *Txn) leafFor(keys []string) (*pnode, error) {
	if t.done {
		return nil, ErrNoTxn
	}
	if t.lastLeaf != nil && slices.Equal(keys, t.lastKeys) {
		return t.lastLeaf, nil
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: a record needs at least one key", ErrMixed)
	}
	if len(keys) > maxKeys {
		return nil, fmt.Errorf("mmapdb: key path of %d keys, at most %d", len(keys), maxKeys)
	}
	// Against the inserted records.
	if t.root == nil {
		t.root = &pnode{}
	}
	n, depth := t.root, 0
	for ; depth < len(keys); depth++ {
		if n.leaf {
			return nil, fmt.Errorf("%w: %q holds records", ErrMixed, keys[:depth])
		}
		c := n.children[keys[depth]]
		if c == nil {
			break
		}
		n = c
	}
	if depth == len(keys) {
		if !n.leaf {
			return nil, fmt.Errorf("%w: %q is an index", ErrMixed, keys)
		}
	} else {
		// A new key path: check it against the base version, then make it.
		if err := t.checkBase(keys); err != nil {
			return nil, err
		}
		for ; depth < len(keys); depth++ {
			if n.children == nil {
				n.children = make(map[string]*pnode)
			}
			c := &pnode{}
			n.children[keys[depth]] = c
			n = c
		}
		n.leaf = true
	}
	t.lastKeys = append(t.lastKeys[:0], keys...)
	t.lastLeaf = n
	return n, nil
}

// checkBase checks a key path against the base version: no prefix of it
// may hold records and it may not lead to a sub-index. A conflict with
// base records that this transaction deletes is resolved at commit, which
// checks exactly.
func (t *Txn) checkBase(keys []string) error {
	if t.cleared || t.base.Len() == 0 {
		return nil
	}
	ix, err := t.base.Root()
	if err != nil {
		return err
	}
	for i, k := range keys {
		node, found, err := ix.Get(k)
		if err != nil || !found {
			return err
		}
		last := i == len(keys)-1
		if node.IsLeaf() && last {
			return nil
		}
		if node.IsLeaf() || last {
			live, err := t.liveNode(node)
			if err != nil || !live {
				return err
			}
			if last {
				return fmt.Errorf("%w: %q is an index", ErrMixed, keys)
			}
			return fmt.Errorf("%w: %q holds records", ErrMixed, keys[:i+1])
		}
		if ix, err = node.Index(); err != nil {
			return err
		}
	}
	return nil
}

// liveNode reports whether a base node holds a record this transaction
// has not deleted.
func (t *Txn) liveNode(n Node) (bool, error) {
	if t.cleared {
		return false, nil
	}
	if n.IsLeaf() {
		l, err := n.Leaf()
		if err != nil {
			return false, err
		}
		return t.liveInLeaf(l)
	}
	ix, err := n.Index()
	if err != nil {
		return false, err
	}
	live := false
	var walkErr error
	walkIndex(ix, func(l Leaf) bool {
		live, walkErr = t.liveInLeaf(l)
		return !live && walkErr == nil
	}, func(err error) { walkErr = err })
	return live, walkErr
}

func (t *Txn) liveInLeaf(l Leaf) (bool, error) {
	if len(t.deleted) == 0 {
		return l.Len() > 0, nil
	}
	for i := range l.Len() {
		r, err := l.At(i)
		if err != nil {
			return false, err
		}
		if _, gone := t.deleted[r.ID]; !gone {
			return true, nil
		}
	}
	return false, nil
}

// add records an insert into a leaf from leafFor; the caller has checked
// the ID.
func (t *Txn) add(n *pnode, keys []string, sort, data []byte, id uint64) {
	if len(t.chunk) == cap(t.chunk) {
		t.chunk = make([]prec, 0, 1024)
	}
	t.chunk = append(t.chunk, prec{
		sort: t.copyBytes(sort),
		data: t.copyBytes(data),
		id:   id,
	})
	p := &t.chunk[len(t.chunk)-1]
	if len(n.recs) > 0 {
		p.keys = n.recs[0].keys // one key path per leaf
	} else {
		p.keys = slices.Clone(keys)
	}
	n.recs = append(n.recs, p)
	if len(t.ins) > 0 && id < t.ins[len(t.ins)-1].id {
		t.insInOrder = false
	}
	t.ins = append(t.ins, p)
	if t.byID != nil {
		t.byID[id] = p
	}
	t.live++
	t.nInserted++
}

// copyBytes copies b into the transaction's arena.
func (t *Txn) copyBytes(b []byte) []byte {
	if len(b) > 4096 {
		return slices.Clone(b)
	}
	if len(t.arena)+len(b) > cap(t.arena) {
		t.arena = make([]byte, 0, 256<<10)
	}
	start := len(t.arena)
	t.arena = append(t.arena, b...)
	return t.arena[start:len(t.arena):len(t.arena)]
}

// pending returns the live inserted record with the ID, if any.
func (t *Txn) pending(id uint64) *prec {
	var p *prec
	if t.insInOrder {
		i, found := slices.BinarySearchFunc(t.ins, id, func(p *prec, id uint64) int {
			switch {
			case p.id < id:
				return -1
			case p.id > id:
				return 1
			}
			return 0
		})
		if found {
			p = t.ins[i]
		}
	} else {
		if t.byID == nil {
			t.byID = make(map[uint64]*prec, len(t.ins))
			for _, q := range t.ins {
				if !q.deleted {
					t.byID[q.id] = q
				}
			}
		}
		p = t.byID[id]
	}
	if p == nil || p.deleted {
		return nil
	}
	return p
}

// baseHas reports whether the base version has a live record with the ID.
func (t *Txn) baseRecord(id uint64) (Record, bool, error) {
	if t.cleared {
		return Record{}, false, nil
	}
	if _, gone := t.deleted[id]; gone {
		return Record{}, false, nil
	}
	return t.base.ByID(id)
}

// used reports whether an ID is taken in the new version.
func (t *Txn) used(id uint64) bool {
	if t.pending(id) != nil {
		return true
	}
	_, found, err := t.baseRecord(id)
	return found || err != nil
}

// allocID hands out the next free ID: upward from the next ID, wrapping to
// the lowest free one past MaxID.
func (t *Txn) allocID() (uint64, error) {
	maxID := t.db.opts.MaxID
	id := t.nextID
	if id == 0 || id > maxID {
		id = 1
	}
	var maxPending uint64
	if len(t.ins) > 0 && t.insInOrder {
		maxPending = t.ins[len(t.ins)-1].id
	} else if len(t.ins) > 0 {
		maxPending = maxID // unknown: check each candidate
	}
	if id > t.baseMaxID && id > maxPending {
		t.nextID = id + 1
		return id, nil
	}
	if t.live >= maxID {
		return 0, fmt.Errorf("%w: all of 1..%d are in use", ErrIDsExhausted, maxID)
	}
	for start := id; ; {
		if !t.used(id) {
			t.nextID = id + 1
			return id, nil
		}
		if id++; id > maxID {
			id = 1
		}
		if id == start {
			return 0, fmt.Errorf("%w: all of 1..%d are in use", ErrIDsExhausted, maxID)
		}
	}
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

// pendingLeaf returns the inserted records at the key path.
func (t *Txn) pendingLeaf(keys []string) []*prec {
	n := t.root
	for _, k := range keys {
		if n == nil {
			return nil
		}
		n = n.children[k]
	}
	if n == nil || !n.leaf {
		return nil
	}
	return n.recs
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

// CommitKeepOld is Commit without invalidating the old version: readers of
// it are not told to move on (they notice through the identity check). It
// is meant for keeping the old file as a backup under another name.
func (t *Txn) CommitKeepOld() error { return t.commit(true) }

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
		return b.finish(h, root.off, &t.base)
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
	t.base.Release()
	if t.wf != nil {
		t.wf.Close()
	}
	t.unlock()
	t.db.txMu.Lock()
	if t.db.txn == t {
		t.db.txn = nil
	}
	t.db.txMu.Unlock()
	t.root, t.ins, t.byID, t.deleted, t.chunk, t.arena = nil, nil, nil, nil, nil, nil
}

func (t *Txn) unlock() {
	if t.lock != nil {
		_ = t.lock.Unlock()
		_ = t.lock.Close()
		t.lock = nil
	}
}

func (p *prec) record() Record {
	return Record{Sort: p.sort, Data: p.data, ID: p.id, keys: p.keys}
}

// mergeLeaf calls fn for the live records of a base leaf merged with the
// inserted records of the same key path: ordered by sort field, base
// records before inserted ones on ties, inserted ones in insertion order.
func (t *Txn) mergeLeaf(old Leaf, recs []*prec, fn func(Record) error) error {
	if !slices.IsSortedFunc(recs, cmpPrec) {
		slices.SortStableFunc(recs, cmpPrec)
	}
	j := 0
	for i := range old.Len() {
		r, err := old.At(i)
		if err != nil {
			return err
		}
		if _, gone := t.deleted[r.ID]; gone {
			continue
		}
		for ; j < len(recs) && bytes.Compare(recs[j].sort, r.Sort) < 0; j++ {
			if !recs[j].deleted {
				if err := fn(recs[j].record()); err != nil {
					return err
				}
			}
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	for ; j < len(recs); j++ {
		if !recs[j].deleted {
			if err := fn(recs[j].record()); err != nil {
				return err
			}
		}
	}
	return nil
}

func cmpPrec(a, b *prec) int { return bytes.Compare(a.sort, b.sort) }
