package translation

import (
	"bytes"
	"fmt"
	"slices"

	"transdb/mmapdb"
)

// A Txn is a write transaction on a provider's table, begun by
// Provider.Begin or run by Provider.Update. Its changes are invisible, to
// the provider's own reads too, until Commit. A Txn belongs to the
// goroutine that began it and is not safe for concurrent use; its
// methods keep the vocabulary of the Perl provider: Insert, Update,
// Delete, Clear, Commit and Rollback. After Commit or Rollback every
// method fails with an error wrapping ErrNoTxn.
type Txn struct {
	p       *Provider
	t       *mmapdb.Txn
	pending map[[2]string]struct{} // (key, uri) pairs inserted so far
	creates uint64                 // actions inserted, for the provider's counters
	deletes uint64                 // actions deleted
	done    bool                   // committed or rolled back
}

// Begin starts a transaction: it takes the lock on <FileName>.lock
// (waiting for the writer of another process to finish), creates the
// database file if it is missing, and works from the newest version. The
// caller owns the returned Txn and must end it with Commit or Rollback.
//
// Begin fails with ErrReadOnly on a read-only provider and with
// ErrTxnActive while a transaction is open on the same file in this
// process (through this provider or another): the file allows one at a
// time. Update waits for it instead.
func (p *Provider) Begin() (*Txn, error) {
	db, err := p.writableDB("begin")
	if err != nil {
		return nil, err
	}
	t, err := db.Begin()
	if err != nil {
		return nil, fmt.Errorf("translation: begin %s: %w", p.path, err)
	}
	return &Txn{p: p, t: t}, nil
}

// Update runs fn in a transaction and commits it when fn returns nil,
// returning the new generation; when fn returns an error or panics, the
// transaction is rolled back and fn's error returned (the panic goes
// on). Unlike Begin, Update waits for an open transaction on the same
// file in this process to end, so concurrent writers queue. fn must not
// commit or roll back the transaction itself.
func (p *Provider) Update(fn func(*Txn) error) (generation uint64, err error) {
	db, err := p.writableDB("update")
	if err != nil {
		return 0, err
	}
	var tx *Txn
	var fnErr error
	err = db.Update(func(t *mmapdb.Txn) error {
		tx = &Txn{p: p, t: t}
		fnErr = fn(tx)
		return fnErr
	})
	if tx != nil {
		tx.done = true
	}
	switch {
	case fnErr != nil:
		return 0, fnErr
	case err != nil:
		return 0, fmt.Errorf("translation: update %s: %w", p.path, err)
	}
	tx.counted()
	return tx.Generation() + 1, nil
}

// writableDB returns the provider's database for a write, or the error
// of a read-only or stopped provider.
func (p *Provider) writableDB(op string) (*mmapdb.DB, error) {
	if p.readOnly {
		return nil, fmt.Errorf("translation: %s %s: %w", op, p.path, ErrReadOnly)
	}
	return p.db()
}

// Generation returns the generation of the version the transaction
// works from; Commit makes the next one.
func (t *Txn) Generation() uint64 { return t.t.Base().Generation() }

// Commit writes the transaction's changes as a new version of the file
// and returns its generation. Every provider, of this process or
// another, sees the new version with its next read. On error nothing is
// changed and the transaction is over, as after Rollback.
//
// A commit writes a complete new file: its cost grows with the size of
// the database, not with the number of changes.
func (t *Txn) Commit() (generation uint64, err error) {
	if err := t.check("commit"); err != nil {
		return 0, err
	}
	t.done = true
	gen := t.t.Base().Generation() + 1
	if err := t.t.Commit(); err != nil {
		return 0, t.wrap("commit", err)
	}
	t.counted()
	return gen, nil
}

// counted adds the committed transaction's changes to the provider's
// counters.
func (t *Txn) counted() {
	t.p.creates.Add(t.creates)
	t.p.deletes.Add(t.deletes)
	t.p.commits.Add(1)
}

// Rollback forgets the transaction's changes and releases the lock.
func (t *Txn) Rollback() error {
	if err := t.check("rollback"); err != nil {
		return err
	}
	t.done = true
	return t.wrap("rollback", t.t.Rollback())
}

// check fails with ErrNoTxn once the transaction is over.
func (t *Txn) check(op string) error {
	if t.done {
		return fmt.Errorf("translation: %s: %w", op, ErrNoTxn)
	}
	return nil
}

// wrap prefixes an error of the transaction with the operation and the
// file, unless it is nil.
func (t *Txn) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("translation: %s %s: %w", op, t.p.path, err)
}

// Insert adds a record to the block list of rec.Key and rec.URI and
// returns the new action's ID; rec.ID is ignored. A non-empty rec.Note
// is stored in the note branch under the same block and order. Key and
// URI must be non-empty and free of white space, else the error wraps
// ErrInvalidRecord. Insert does not check for an existing record with
// the same block and order.
func (t *Txn) Insert(rec Record) (id uint64, err error) {
	if err := t.check("insert"); err != nil {
		return 0, err
	}
	if err := ValidateKeyURI(rec.Key, rec.URI); err != nil {
		return 0, err
	}
	var buf [pathBufLen]string
	base := t.p.baseKey
	sort := sortField(rec.Block, rec.Order)
	id, err = t.t.Insert(keyPath(buf[:0], base, branchActions, rec.Key, rec.URI), sort[:], []byte(rec.Action))
	if err != nil {
		return 0, fmt.Errorf("translation: insert %q %q: %w", rec.Key, rec.URI, err)
	}
	if rec.Note != "" {
		if _, err := t.t.Insert(keyPath(buf[:0], base, branchNotes, rec.Key, rec.URI), sort[:], []byte(rec.Note)); err != nil {
			return 0, fmt.Errorf("translation: insert note of %q %q: %w", rec.Key, rec.URI, err)
		}
	}
	if t.pending == nil {
		t.pending = make(map[[2]string]struct{})
	}
	t.pending[[2]string{rec.Key, rec.URI}] = struct{}{}
	t.creates++
	return id, nil
}

// Delete deletes the record old.ID, but only if that record is an action
// of old.Key and old.URI with old.Block and old.Order; then it also
// deletes the note stored with the same block and order. old.Action and
// old.Note are not compared. It returns the number of actions deleted:
// 1, or 0 when nothing matched (which is not an error).
//
// Several actions with one block and order (which Insert does not
// prevent) are paired with their notes in order, as a fetch shows them:
// the action that is the k-th of its block and order loses the k-th note
// of them, if any, and the others keep theirs.
func (t *Txn) Delete(old Record) (int, error) {
	if err := t.check("delete"); err != nil {
		return 0, err
	}
	r, found, err := t.t.Get(old.ID)
	if err != nil || !found {
		return 0, wrapErr("delete", err)
	}
	keys, err := r.Keys()
	if err != nil {
		return 0, wrapErr("delete", err)
	}
	var buf [pathBufLen]string
	sort := sortField(old.Block, old.Order)
	if !slices.Equal(keys, keyPath(buf[:0], t.p.baseKey, branchActions, old.Key, old.URI)) ||
		!bytes.Equal(r.Sort, sort[:]) {
		return 0, nil
	}
	// The notes of its block and order, of which it loses the one of its
	// rank among the actions there; both found by binary search.
	notes, err := t.t.LookupSort(sort[:], keyPath(buf[:0], t.p.baseKey, branchNotes, old.Key, old.URI)...)
	if err != nil {
		return 0, wrapErr("delete note", err)
	}
	rank := 0
	if len(notes) > 0 {
		actions, err := t.t.LookupSort(sort[:], keys...)
		if err != nil {
			return 0, wrapErr("delete", err)
		}
		for _, a := range actions {
			if a.ID == old.ID {
				break
			}
			rank++
		}
	}
	if _, _, err := t.t.Delete(old.ID); err != nil {
		return 0, wrapErr("delete", err)
	}
	if rank < len(notes) {
		if _, _, err := t.t.Delete(notes[rank].ID); err != nil {
			return 0, wrapErr("delete note", err)
		}
	}
	t.deletes++
	return 1, nil
}

// Update replaces a record: it deletes old as Delete does and, only if
// that deleted a record, inserts new. It returns the number of records
// replaced (0 or 1) and the ID of the inserted one. new is checked
// before anything is deleted, so an invalid new record changes nothing.
func (t *Txn) Update(old, new Record) (n int, id uint64, err error) {
	if err := ValidateKeyURI(new.Key, new.URI); err != nil {
		return 0, 0, err
	}
	if n, err = t.Delete(old); err != nil || n == 0 {
		return 0, 0, err
	}
	if id, err = t.Insert(new); err != nil {
		return 0, 0, err
	}
	return 1, id, nil
}

// Clear deletes every action and note of the provider's table, those of
// the version the transaction started from and those inserted in it so
// far, and returns the number of actions it deleted. Other base keys in
// the same file are left alone. Clearing an empty table deletes nothing
// and succeeds.
func (t *Txn) Clear() (int, error) {
	if err := t.check("clear"); err != nil {
		return 0, err
	}
	base := t.t.Base()
	var buf [pathBufLen]string
	n := 0
	for _, branch := range []string{branchActions, branchNotes} {
		count := func(r mmapdb.Record) error {
			_, found, err := t.t.Delete(r.ID)
			if found && branch == branchActions {
				n++
			}
			return err
		}
		ix, found, err := base.LookupIndex(keyPath(buf[:0], t.p.baseKey, branch)...)
		if err != nil {
			return n, wrapErr("clear", err)
		}
		if found {
			if err := deleteAll(ix, count); err != nil {
				return n, wrapErr("clear", err)
			}
		}
		for pair := range t.pending {
			recs, err := t.t.Lookup(keyPath(buf[:0], t.p.baseKey, branch, pair[0], pair[1])...)
			if err != nil {
				return n, wrapErr("clear", err)
			}
			for _, r := range recs {
				if err := count(r); err != nil {
					return n, wrapErr("clear", err)
				}
			}
		}
	}
	t.pending = nil
	t.deletes += uint64(n)
	return n, nil
}

// deleteAll calls del for every record below ix.
func deleteAll(ix mmapdb.Index, del func(mmapdb.Record) error) error {
	for i := range ix.Len() {
		n, err := ix.Child(i)
		if err != nil {
			return err
		}
		if !n.IsLeaf() {
			sub, err := n.Index()
			if err != nil {
				return err
			}
			if err := deleteAll(sub, del); err != nil {
				return err
			}
			continue
		}
		l, err := n.Leaf()
		if err != nil {
			return err
		}
		for j := range l.Len() {
			r, err := l.At(j)
			if err != nil {
				return err
			}
			if err := del(r); err != nil {
				return err
			}
		}
	}
	return nil
}
