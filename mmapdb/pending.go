package mmapdb

import (
	"bytes"
	"fmt"
	"slices"
)

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
// the ID and copied sort and data where they must be.
func (t *Txn) add(n *pnode, keys []string, sort, data []byte, id uint64) {
	if len(t.chunk) == cap(t.chunk) {
		t.chunk = make([]prec, 0, 1024)
	}
	t.chunk = append(t.chunk, prec{sort: sort, data: data, id: id})
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
