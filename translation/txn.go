package translation

import (
	"bytes"
	"fmt"
	"slices"

	"transdb/mmapdb"
)

// Begin starts a transaction: it takes the lock on <FileName>.lock
// (waiting for the writer of another process to finish), creates the
// database file if it is missing, and works from the newest version.
// Insert, Update, Delete and Clear work only inside a transaction; their
// changes are invisible, to this provider's reads too, until Commit.
//
// Begin fails with ErrReadOnly on a read-only provider and with
// ErrTxnActive while this provider, or another one on the same file in
// this process, has a transaction open.
func (p *Provider) Begin() error {
	if p.readOnly {
		return fmt.Errorf("translation: begin %s: %w", p.path, ErrReadOnly)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.begin()
}

func (p *Provider) begin() error {
	if p.txn != nil {
		return fmt.Errorf("translation: begin %s: %w", p.path, ErrTxnActive)
	}
	db, err := p.db()
	if err != nil {
		return err
	}
	txn, err := db.Begin()
	if err != nil {
		return fmt.Errorf("translation: begin %s: %w", p.path, err)
	}
	p.txn = txn
	return nil
}

// endTxn forgets the transaction after commit or rollback.
func (p *Provider) endTxn() { p.txn, p.pending = nil, nil }

// activeTxn returns the open transaction, or ErrNoTxn naming op.
func (p *Provider) activeTxn(op string) (*mmapdb.Txn, error) {
	if p.txn == nil {
		return nil, fmt.Errorf("translation: %s: %w", op, ErrNoTxn)
	}
	return p.txn, nil
}

// Commit writes the transaction's changes as a new version of the file
// and returns its generation. Every provider, of this process or
// another, sees the new version with its next read. On error nothing is
// changed and the transaction is over, as after Rollback.
//
// A commit writes a complete new file: its cost grows with the size of
// the database, not with the number of changes.
func (p *Provider) Commit() (generation uint64, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.commit()
}

func (p *Provider) commit() (uint64, error) {
	txn, err := p.activeTxn("commit")
	if err != nil {
		return 0, err
	}
	gen := txn.Base().Generation() + 1
	err = txn.Commit()
	p.endTxn()
	if err != nil {
		return 0, fmt.Errorf("translation: commit %s: %w", p.path, err)
	}
	return gen, nil
}

// Rollback forgets the transaction's changes and releases the lock.
func (p *Provider) Rollback() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rollback()
}

func (p *Provider) rollback() error {
	txn, err := p.activeTxn("rollback")
	if err != nil {
		return err
	}
	err = txn.Rollback()
	p.endTxn()
	return wrapErr("rollback", err)
}

// Insert adds a record to the block list of rec.Key and rec.URI and
// returns the new action's ID; rec.ID is ignored. A non-empty rec.Note
// is stored in the note branch under the same block and order. Key and
// URI must be non-empty and free of white space, else the error wraps
// ErrInvalidRecord. Insert does not check for an existing record with
// the same block and order.
func (p *Provider) Insert(rec Record) (id uint64, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.insert(rec)
}

func (p *Provider) insert(rec Record) (uint64, error) {
	txn, err := p.activeTxn("insert")
	if err != nil {
		return 0, err
	}
	if err := ValidateKeyURI(rec.Key, rec.URI); err != nil {
		return 0, err
	}
	var buf [pathBufLen]string
	sort := sortField(rec.Block, rec.Order)
	id, err := txn.Insert(keyPath(buf[:0], p.baseKey, branchActions, rec.Key, rec.URI), sort[:], []byte(rec.Action))
	if err != nil {
		return 0, fmt.Errorf("translation: insert %q %q: %w", rec.Key, rec.URI, err)
	}
	if rec.Note != "" {
		if _, err := txn.Insert(keyPath(buf[:0], p.baseKey, branchNotes, rec.Key, rec.URI), sort[:], []byte(rec.Note)); err != nil {
			return 0, fmt.Errorf("translation: insert note of %q %q: %w", rec.Key, rec.URI, err)
		}
	}
	if p.pending == nil {
		p.pending = make(map[[2]string]struct{})
	}
	p.pending[[2]string{rec.Key, rec.URI}] = struct{}{}
	return id, nil
}

// Delete deletes the record old.ID, but only if that record is an action
// of old.Key and old.URI with old.Block and old.Order; then it also
// deletes the note stored with the same block and order. old.Action and
// old.Note are not compared. It returns the number of actions deleted:
// 1, or 0 when nothing matched (which is not an error).
func (p *Provider) Delete(old Record) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.delete(old)
}

func (p *Provider) delete(old Record) (int, error) {
	txn, err := p.activeTxn("delete")
	if err != nil {
		return 0, err
	}
	r, found, err := txn.Get(old.ID)
	if err != nil || !found {
		return 0, wrapErr("delete", err)
	}
	keys, err := r.Keys()
	if err != nil {
		return 0, wrapErr("delete", err)
	}
	var buf [pathBufLen]string
	sort := sortField(old.Block, old.Order)
	if !slices.Equal(keys, keyPath(buf[:0], p.baseKey, branchActions, old.Key, old.URI)) ||
		!bytes.Equal(r.Sort, sort[:]) {
		return 0, nil
	}
	if _, _, err := txn.Delete(old.ID); err != nil {
		return 0, wrapErr("delete", err)
	}
	notes, err := txn.Lookup(keyPath(buf[:0], p.baseKey, branchNotes, old.Key, old.URI)...)
	if err != nil {
		return 0, wrapErr("delete note", err)
	}
	for _, n := range notes {
		if c := bytes.Compare(n.Sort, sort[:]); c > 0 {
			break
		} else if c == 0 {
			if _, _, err := txn.Delete(n.ID); err != nil {
				return 0, wrapErr("delete note", err)
			}
			break
		}
	}
	return 1, nil
}

// Update replaces a record: it deletes old as Delete does and, only if
// that deleted a record, inserts new. It returns the number of records
// replaced (0 or 1) and the ID of the inserted one. new is checked
// before anything is deleted, so an invalid new record changes nothing.
func (p *Provider) Update(old, new Record) (n int, id uint64, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.activeTxn("update"); err != nil {
		return 0, 0, err
	}
	if err := ValidateKeyURI(new.Key, new.URI); err != nil {
		return 0, 0, err
	}
	if n, err = p.delete(old); err != nil || n == 0 {
		return 0, 0, err
	}
	if id, err = p.insert(new); err != nil {
		return 0, 0, err
	}
	return 1, id, nil
}

// Clear deletes every action and note of the provider's table, those of
// the newest version and those inserted in the transaction so far. Other
// base keys in the same file are left alone. Clearing an empty table
// succeeds.
func (p *Provider) Clear() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.clear()
}

func (p *Provider) clear() error {
	txn, err := p.activeTxn("clear")
	if err != nil {
		return err
	}
	base := txn.Base()
	var buf [pathBufLen]string
	for _, branch := range []string{branchActions, branchNotes} {
		ix, found, err := base.LookupIndex(keyPath(buf[:0], p.baseKey, branch)...)
		if err != nil {
			return wrapErr("clear", err)
		}
		if found {
			if err := deleteAll(txn, ix); err != nil {
				return wrapErr("clear", err)
			}
		}
		for pair := range p.pending {
			recs, err := txn.Lookup(keyPath(buf[:0], p.baseKey, branch, pair[0], pair[1])...)
			if err != nil {
				return wrapErr("clear", err)
			}
			for _, r := range recs {
				if _, _, err := txn.Delete(r.ID); err != nil {
					return wrapErr("clear", err)
				}
			}
		}
	}
	p.pending = nil
	return nil
}

// deleteAll deletes, in the transaction, every record below ix.
func deleteAll(txn *mmapdb.Txn, ix mmapdb.Index) error {
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
			if err := deleteAll(txn, sub); err != nil {
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
			if _, _, err := txn.Delete(r.ID); err != nil {
				return err
			}
		}
	}
	return nil
}
