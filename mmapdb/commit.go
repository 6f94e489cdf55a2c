package mmapdb

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// replace writes a new version with write and puts it in place of the
// database: temporary file in the same directory, fsync, rename, fsync of
// the directory, then the old version's valid flag is cleared (unless
// keepOld) so that every reader moves on. t is the transaction whose base
// is replaced, nil when creating the file. Killed at any instant, it leaves
// the old or the new file at the path, never a mix.
func (db *DB) replace(t *Txn, keepOld bool, write func(*builder, *header) error) error {
	dir := filepath.Dir(db.path)
	tmp, err := os.CreateTemp(dir, tempPrefix(db.path)+"*")
	if err != nil {
		return fmt.Errorf("mmapdb: create temporary file: %w", err)
	}
	tmpName := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	if err := tmp.Chmod(db.opts.Mode); err != nil {
		return fmt.Errorf("mmapdb: chmod %s: %w", tmpName, err)
	}
	b, err := newBuilder(tmp)
	if err != nil {
		return fmt.Errorf("mmapdb: write %s: %w", tmpName, err)
	}
	h := &header{created: time.Now().UnixNano()}
	if err := write(b, h); err != nil {
		return fmt.Errorf("mmapdb: write %s: %w", tmpName, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("mmapdb: close %s: %w", tmpName, err)
	}
	if err := os.Rename(tmpName, db.path); err != nil {
		return fmt.Errorf("mmapdb: rename %s: %w", tmpName, err)
	}
	ok = true
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("mmapdb: sync directory %s: %w", dir, err)
	}
	if t != nil && !keepOld {
		// One positioned write: readers of the old version see it in their
		// own mapping and move to the new file.
		if _, err := t.wf.WriteAt([]byte{mpFalse}, int64(validOff)); err != nil {
			return fmt.Errorf("mmapdb: invalidate old version of %s: %w", db.path, err)
		}
	}
	// Map the new version at once. A DB that Close has begun to close
	// (it waits for this transaction) maps nothing more: the commit is
	// done all the same.
	if _, err := db.refresh(); err != nil && !errors.Is(err, ErrClosed) {
		return err
	}
	return nil
}

// written is where a merged child ended up in the new file.
type written struct {
	off, start uint64 // the node, and the start of its subtree
	leaf       bool   // the node is a leaf (its subtree starts with its key path)
	ok         bool   // false: nothing was left to write
}

// writeIndex writes the merge of a base index (nil: none) and an index of
// inserted records (nil: none) at depth d, children first; own is the key
// the parent has for it. Empty indices other than the root are not written.
func (t *Txn) writeIndex(b *builder, d int, own string, old *Index, pn *pnode) (written, error) {
	var newKeys []string
	if pn != nil {
		newKeys = slices.Sorted(maps.Keys(pn.children))
	}
	entries := b.level(d)
	oi, ni := 0, 0
	oldLen := 0
	if old != nil {
		oldLen = old.Len()
	}
	for oi < oldLen || ni < len(newKeys) {
		var (
			key      string
			oldChild *Node
			newChild *pnode
			ok       []byte
			err      error
		)
		if oi < oldLen {
			if ok, err = old.Key(oi); err != nil {
				return written{}, err
			}
		}
		if oi < oldLen && (ni == len(newKeys) || bstr(ok) <= newKeys[ni]) {
			key = bstr(ok)
		} else {
			key = newKeys[ni]
		}
		if oi < oldLen && bstr(ok) == key {
			n, err := old.Child(oi)
			if err != nil {
				return written{}, err
			}
			oldChild = &n
			oi++
		}
		if ni < len(newKeys) && newKeys[ni] == key {
			newChild = pn.children[key]
			ni++
		}
		w, err := t.writeChild(b, d, key, oldChild, newChild)
		if err != nil {
			return written{}, err
		}
		if w.ok {
			entries = append(entries, indexEntry{key: key, child: w.off, start: w.start, leaf: w.leaf})
		}
	}
	b.levels[d] = entries
	if len(entries) == 0 && d > 0 {
		return written{}, nil
	}
	start := b.off
	if len(entries) > 0 {
		start = entries[0].start
	}
	off, err := b.index(own, entries)
	return written{off: off, start: start, ok: true}, err
}

// writeChild writes the merge of one base child and one inserted child
// under the same key; either may be nil. A base subtree that the
// transaction does not touch is copied as it is.
func (t *Txn) writeChild(b *builder, d int, key string, old *Node, pn *pnode) (written, error) {
	if old != nil && pn == nil {
		start, end, err := old.extent()
		if err != nil {
			return written{}, err
		}
		if !t.deletesIn(start, end) {
			newStart, err := b.copy(t.base.v.data, start, end)
			return written{off: newStart + (old.off - start), start: newStart, leaf: old.IsLeaf(), ok: true}, err
		}
	}
	oldLeaf := old != nil && old.IsLeaf()
	if old != nil && pn != nil && oldLeaf != pn.leaf {
		live, err := t.liveNode(*old)
		if err != nil {
			return written{}, err
		}
		if live {
			return written{}, fmt.Errorf("%w: key %q at depth %d", ErrMixed, key, d)
		}
		old = nil
	}
	isLeaf := oldLeaf
	if pn != nil {
		isLeaf = pn.leaf
	}
	if isLeaf {
		var l Leaf
		if old != nil {
			var err error
			if l, err = old.Leaf(); err != nil {
				return written{}, err
			}
		}
		var recs []*prec
		if pn != nil {
			recs = pn.recs
		}
		return t.writeLeaf(b, l, recs)
	}
	var oldIx *Index
	if old != nil {
		ix, err := old.Index()
		if err != nil {
			return written{}, err
		}
		oldIx = &ix
	}
	return t.writeIndex(b, d+1, key, oldIx, pn)
}

// deletesIn reports whether a base record deleted by the transaction lies
// in the bytes [start, end) of the base file.
func (t *Txn) deletesIn(start, end uint64) bool {
	if len(t.deletedOffs) == 0 {
		return false
	}
	if !slices.IsSorted(t.deletedOffs) {
		slices.Sort(t.deletedOffs)
	}
	i, _ := slices.BinarySearch(t.deletedOffs, start)
	return i < len(t.deletedOffs) && t.deletedOffs[i] < end
}

// writeLeaf writes the key path and the leaf with the records of a base
// leaf merged with inserted records. Leaves left without records are not
// written.
func (t *Txn) writeLeaf(b *builder, old Leaf, recs []*prec) (written, error) {
	var keys []string
	for _, p := range recs {
		if !p.deleted {
			keys = p.keys
			break
		}
	}
	var pathOff uint64
	var err error
	if keys != nil {
		pathOff, err = b.path(keys)
	} else {
		var live bool
		if live, err = t.liveInLeaf(old); err != nil || !live {
			return written{}, err
		}
		var raw []byte
		if raw, err = old.pathBytes(); err != nil {
			return written{}, err
		}
		pathOff, err = b.rawPath(raw)
	}
	if err != nil {
		return written{}, err
	}
	err = t.mergeLeaf(old, recs, func(r Record) error {
		b.record(r.Sort, r.Data, r.ID)
		return nil
	})
	if err != nil {
		return written{}, err
	}
	if len(b.recPos) == 0 {
		// Every record was deleted: the key path stays as dead bytes.
		return written{}, nil
	}
	off, err := b.leaf(pathOff)
	return written{off: off, start: pathOff, leaf: true, ok: err == nil}, err
}
