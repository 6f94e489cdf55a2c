package mmapdb

import (
	"fmt"
	"slices"
)

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
	// Above every ID inserted and every ID of the base: free, without a
	// search. Copies and loads insert in ascending ID order.
	if t.insInOrder && (len(t.ins) == 0 || id > t.ins[len(t.ins)-1].id) && (t.cleared || id > t.baseMaxID) {
		return false
	}
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
