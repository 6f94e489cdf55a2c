package mmapdb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
)

// Verify checks the current version completely: the body checksum, then a
// walk of the whole structure (index keys strictly ascending, children
// before parents, every leaf's key path equal to the path that reaches it,
// records in sort order, the ID index sorted and in one-to-one agreement
// with the records, the header's record count). Its cost is linear in the
// file size. Any finding wraps ErrCorrupt.
func (db *DB) Verify() error {
	s, err := db.Snapshot()
	if err != nil {
		return err
	}
	defer s.Release()
	return s.Verify(nil)
}

// VerifyFile opens the database file at path on its own, without a DB or
// a lock, and verifies it as DB.Verify does. progress, when not nil, is
// called now and then with the number of records checked so far and the
// total.
func VerifyFile(path string, progress func(done, total uint64)) error {
	v, err := openVersion(path)
	if err != nil {
		return err
	}
	defer v.release()
	// This mapping is verify's own: a front-to-back walk wants read-ahead.
	adviseSequential(v.data)
	if err := verifyVersionProgress(v, progress); err != nil {
		return fmt.Errorf("verify %s: %w", path, err)
	}
	return nil
}

// Verify checks the snapshot as DB.Verify does; progress may be nil.
func (s *Snapshot) Verify(progress func(done, total uint64)) error {
	if _, err := s.mapping(); err != nil {
		return err
	}
	err := verifyVersionProgress(s.v, progress)
	if m, ok := s.v.mark(); ok && err == nil {
		markVerified(m)
	}
	return err
}

// Verified reports whether this process has verified the file of the
// snapshot's version whole before: Install verified it before putting
// it in place, or a Snapshot of it verified. A server can then spare
// itself reading the whole file again.
func (s *Snapshot) Verified() bool {
	if _, err := s.mapping(); err != nil {
		return false
	}
	return s.v.verified()
}

// verifyStep is how many bytes of the body checksum VerifyBytes computes
// between two calls of its pause function.
const verifyStep = 1 << 20

// VerifyBytes verifies data, the whole file of a version as
// Snapshot.Bytes returns it, as Snapshot.Verify does: its header, the
// body checksum and the structure. It works in steps, verifyStep bytes of
// the checksum or 65536 records of the walk, and calls pause after each:
// pause may sleep, to spread the reading of a large file out so that it
// does not crowd out the lookups, and an error it returns ends the
// verification with that error. pause may be nil. The valid flag, which
// a committer may clear in the mapping at any time, is not read. Any
// finding wraps ErrCorrupt (or ErrBadMagic, ErrVersion).
func VerifyBytes(data []byte, pause func() error) error {
	h, err := decodeHeader(data)
	if err != nil {
		return err
	}
	if h.length != uint64(len(data)) {
		return corruptf("header says %d bytes, the file has %d", h.length, len(data))
	}
	return verifyVersionWith(&version{data: data, h: h}, nil, pause)
}

func verifyVersion(v *version) error { return verifyVersionProgress(v, nil) }

func verifyVersionProgress(v *version, progress func(done, total uint64)) error {
	return verifyVersionWith(v, progress, nil)
}

// pacedBodyChecksum is bodyChecksum computed verifyStep bytes at a time,
// with a call of pause after each.
func pacedBodyChecksum(b []byte, pause func() error) (uint32, error) {
	var crc uint32
	for body := b[headerLen:]; len(body) > 0; {
		n := min(len(body), verifyStep)
		crc = crc32.Update(crc, crcTable, body[:n])
		body = body[n:]
		if err := pause(); err != nil {
			return 0, err
		}
	}
	return crc, nil
}

// verifyVersionWith is verifyVersionProgress calling pause, when not
// nil, after each step, as VerifyBytes describes.
func verifyVersionWith(v *version, progress func(done, total uint64), pause func() error) error {
	h := v.h
	got := uint32(0)
	if pause == nil {
		got = bodyChecksum(v.data)
	} else {
		var err error
		if got, err = pacedBodyChecksum(v.data, pause); err != nil {
			return err
		}
	}
	if got != h.bodyCRC {
		return corruptf("body checksum %08x, header says %08x", got, h.bodyCRC)
	}
	if h.nextID == 0 {
		return corruptf("next id is 0")
	}
	s := borrow(v)
	root, err := s.Root()
	if err != nil {
		return err
	}
	w := &verifier{total: h.records, progress: progress, pause: pause}
	if err := w.index(root, nil); err != nil {
		return err
	}
	if w.count != h.records {
		return corruptf("%d records reachable, header says %d", w.count, h.records)
	}
	ids, err := s.idIndex()
	if err != nil {
		return err
	}
	if uint64(ids.n) != h.records {
		return corruptf("id index has %d entries, header says %d records", ids.n, h.records)
	}
	sortIDs(w.ids)
	for i := range ids.n {
		id := ids.id(i)
		if i > 0 && id <= ids.id(i-1) {
			return corruptf("id index not strictly ascending at entry %d (id %d)", i, id)
		}
		r, err := ids.record(i)
		if err != nil {
			return err
		}
		if r.ID != id {
			return corruptf("id index entry %d says id %d, record says %d", i, id, r.ID)
		}
		if e := w.ids[i]; e.id != id || e.off != r.off {
			return corruptf("id index entry %d (id %d at %d) does not match the records reachable from the root (id %d at %d)", i, id, r.off, e.id, e.off)
		}
	}
	if progress != nil {
		progress(w.count, w.total)
	}
	return nil
}

type verifier struct {
	count, total uint64
	ids          []idEntry
	progress     func(done, total uint64)
	pause        func() error // after every 65536 records, when not nil
}

func (w *verifier) index(ix Index, path []string) error {
	if ix.Len() == 0 && len(path) > 0 {
		return corruptf("empty index at %d under %q", ix.off, path)
	}
	if err := verifyPrefixLevels(ix); err != nil {
		return err
	}
	if err := verifyHashSlots(ix); err != nil {
		return err
	}
	if own, ok := ix.ownKey(); ok {
		want := ""
		if len(path) > 0 {
			want = path[len(path)-1]
		}
		if bstr(own) != want {
			return corruptf("index at %d has own key %q, is reached by %q", ix.off, own, want)
		}
	}
	var prev []byte
	for i := range ix.Len() {
		k, err := ix.Key(i)
		if err != nil {
			return err
		}
		if i > 0 && bytes.Compare(prev, k) >= 0 {
			return corruptf("index at %d: keys not strictly ascending at %d", ix.off, i)
		}
		prev = k
		if ix.prefix(i) != keyPrefix(k) {
			return corruptf("index at %d: key prefix of entry %d does not match its key", ix.off, i)
		}
		n, err := ix.Child(i)
		if err != nil {
			return err
		}
		sub := append(path[:len(path):len(path)], string(k))
		if !n.IsLeaf() {
			cix, err := n.Index()
			if err != nil {
				return err
			}
			if err := w.index(cix, sub); err != nil {
				return err
			}
			continue
		}
		l, err := n.Leaf()
		if err != nil {
			return err
		}
		if err := w.leaf(l, sub); err != nil {
			return err
		}
	}
	return nil
}

func (w *verifier) leaf(l Leaf, path []string) error {
	if l.Len() == 0 {
		return corruptf("empty leaf at %d under %q", l.off, path)
	}
	keys, err := l.Keys()
	if err != nil {
		return err
	}
	if !slices.Equal(keys, path) {
		return corruptf("leaf at %d has key path %q, is reached by %q", l.off, keys, path)
	}
	var prev []byte
	for i := range l.Len() {
		r, err := l.At(i)
		if err != nil {
			return err
		}
		if i > 0 && bytes.Compare(prev, r.Sort) > 0 {
			return corruptf("leaf %q: records not in sort order at %d", strings.Join(path, "/"), i)
		}
		if r.ID == 0 {
			return corruptf("record at %d has id 0", r.off)
		}
		prev = r.Sort
		w.ids = append(w.ids, idEntry{r.ID, r.off})
		w.count++
		if w.count > w.total {
			return corruptf("more records reachable than the header's %d", w.total)
		}
		if w.count%65536 == 0 {
			if w.progress != nil {
				w.progress(w.count, w.total)
			}
			if w.pause != nil {
				if err := w.pause(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// verifyPrefixLevels checks that every prefix level above level 0 holds
// every 8th prefix of the level below.
func verifyPrefixLevels(ix Index) error {
	var sizes [maxLevels]int
	levels, total := prefixLevels(ix.n, &sizes)
	pfx := ix.p[ix.lv:ix.ent]
	at := func(i int) uint64 { return binary.BigEndian.Uint64(pfx[8*i:]) }
	base0 := total - ix.n // level 0 is stored last
	start, step := 0, 1
	for range levels - 1 {
		step *= fanout
	}
	for l := levels - 1; l >= 1; l-- {
		for j := range sizes[l] {
			if at(start+j) != at(base0+j*step) {
				return corruptf("index at %d: prefix level %d disagrees with the keys at %d", ix.off, l, j)
			}
		}
		start += sizes[l]
		step /= fanout
	}
	return nil
}

// verifyHashSlots checks a hashed node's slots: they must be exactly what
// a writer enters for the node's keys and children, in entry order, into a
// table of the node's slot count, so that every key is found by its hash
// and no slot leads anywhere else. A leaf child's slot names its key path,
// which the leaf must directly follow.
func verifyHashSlots(ix Index) error {
	if ix.ns == 0 {
		return nil
	}
	want := make([]byte, ix.ns*ix.sw)
	for i := range ix.n {
		k, err := ix.key(i)
		if err != nil {
			return err
		}
		n, err := ix.Child(i)
		if err != nil {
			return err
		}
		target := n.off
		if n.IsLeaf() {
			l, err := n.Leaf()
			if err != nil {
				return err
			}
			path, err := l.pathBytes()
			if err != nil {
				return err
			}
			if l.pathOff()+uint64(len(path)) != l.off {
				return corruptf("leaf at %d does not directly follow its key path at %d", l.off, l.pathOff())
			}
			target = l.pathOff()
		}
		rel := ix.off - target
		if rel >= 1<<slotDistBits(ix.sw) {
			return corruptf("index at %d: child %d is too far for its hash slots", ix.off, i)
		}
		putSlot(want, ix.sw, hashKey(k), rel)
	}
	if got := ix.p[ix.hs : ix.hs+len(want)]; !bytes.Equal(got, want) {
		for s := 0; s < len(want); s += ix.sw {
			if !bytes.Equal(got[s:s+ix.sw], want[s:s+ix.sw]) {
				return corruptf("index at %d: hash slot %d disagrees with the keys", ix.off, s/ix.sw)
			}
		}
	}
	return nil
}
