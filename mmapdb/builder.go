package mmapdb

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"slices"
)

// builder writes a new database file front to back: a placeholder header,
// then the body in post-order (key paths and records before their leaf,
// children before their index, the root index last but for the ID index),
// then the real header at offset 0. Only the entries of the indices on the
// current path and one leaf's record offsets are held in memory.
type builder struct {
	f       *os.File
	w       *bufio.Writer
	off     uint64 // bytes written so far
	crc     uint32 // CRC-32C of the body so far
	scratch []byte

	records  uint64
	ids      []idEntry
	copies   []copyRange    // runs of bytes copied from the base version
	levels   [][]indexEntry // entries of the open index at each depth
	leafRecs []byte         // records of the leaf being built
	recPos   []int          // their positions in leafRecs
	recIDs   []uint64       // their IDs
}

type indexEntry struct {
	key   string
	child uint64 // offset of the child node
	start uint64 // offset where the child's subtree starts
	leaf  bool   // the child is a leaf: its subtree starts with its key path
}

// slotTarget returns the offset a hash slot names for the entry: the key
// path of a leaf, which the leaf directly follows, or an index node.
func (e indexEntry) slotTarget() uint64 {
	if e.leaf {
		return e.start
	}
	return e.child
}

// copyRange is a run of the base version's body copied as it is: every
// reference inside a subtree is relative, so a subtree that did not change
// is copied without decoding.
type copyRange struct {
	oldStart, oldEnd, newStart uint64
}

type idEntry struct {
	id, off uint64
}

// writebackEvery is how many bytes a builder writes between requests to
// the kernel to start writing them to the disk.
const writebackEvery = 4 << 20

// fileWriter writes the body to the file and starts its writeback every
// writebackEvery bytes, so that the disk works while the rest is built.
type fileWriter struct {
	f       *os.File
	n, sent int64 // bytes written; bytes whose writeback was started
}

func (w *fileWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.n += int64(n)
	if w.n-w.sent >= writebackEvery {
		startWriteback(w.f, w.sent, w.n-w.sent)
		w.sent = w.n
	}
	return n, err
}

func newBuilder(f *os.File) (*builder, error) {
	b := &builder{f: f, w: bufio.NewWriterSize(&fileWriter{f: f}, 1<<20)}
	if _, err := b.w.Write(make([]byte, headerLen)); err != nil {
		return nil, err
	}
	b.off = uint64(headerLen)
	return b, nil
}

// emit writes body bytes.
func (b *builder) emit(p []byte) error {
	b.crc = crc32.Update(b.crc, crcTable, p)
	b.off += uint64(len(p))
	_, err := b.w.Write(p)
	return err
}

// path writes a key path and returns its offset.
func (b *builder) path(keys []string) (uint64, error) {
	off := b.off
	p := appendArrayHeader(b.scratch[:0], len(keys))
	for _, k := range keys {
		p = appendBin(p, k)
	}
	b.scratch = p
	return off, b.emit(p)
}

// rawPath writes a key path already encoded (copied from another file).
func (b *builder) rawPath(enc []byte) (uint64, error) {
	off := b.off
	return off, b.emit(enc)
}

// record adds a record to the leaf being built; leaf fills in its
// reference to the key path.
func (b *builder) record(sort, data []byte, id uint64) {
	b.recPos = append(b.recPos, len(b.leafRecs))
	b.recIDs = append(b.recIDs, id)
	b.leafRecs = appendRecord(b.leafRecs, 0, sort, data, id)
	b.records++
}

// copy writes the bytes [start, end) of the base version's file as they
// are and returns where they start in the new file.
func (b *builder) copy(old []byte, start, end uint64) (uint64, error) {
	newStart := b.off
	if n := len(b.copies); n > 0 {
		last := &b.copies[n-1]
		if last.oldEnd == start && last.newStart+(last.oldEnd-last.oldStart) == newStart {
			last.oldEnd = end
			return newStart, b.emit(old[start:end])
		}
	}
	b.copies = append(b.copies, copyRange{start, end, newStart})
	return newStart, b.emit(old[start:end])
}

// leaf writes the leaf of the records added since the last leaf, the
// records inside it, right after their offset table: one contiguous run
// of bytes for a lookup to read.
func (b *builder) leaf(pathOff uint64) (uint64, error) {
	off := b.off
	n := len(b.recPos)
	head := leafHeadLen + 4*n
	size := head + len(b.leafRecs)
	if size > maxExtPayload {
		return 0, fmt.Errorf("mmapdb: the records of one key path exceed %d bytes", maxExtPayload)
	}
	p := appendExtHeader(b.scratch[:0], extLeaf, size)
	p = binary.BigEndian.AppendUint64(p, off-pathOff)
	p = binary.BigEndian.AppendUint32(p, uint32(n))
	base := off + extHeaderLen + uint64(head)
	for i, pos := range b.recPos {
		p = binary.BigEndian.AppendUint32(p, uint32(head+pos))
		recOff := base + uint64(pos)
		b.ids = append(b.ids, idEntry{b.recIDs[i], recOff})
		// Now that the record's place is known: its distance to the path.
		binary.BigEndian.PutUint64(b.leafRecs[pos+2:], recOff-pathOff)
	}
	b.scratch = p
	err := b.emit(p)
	if err == nil {
		err = b.emit(b.leafRecs)
	}
	b.leafRecs, b.recPos, b.recIDs = b.leafRecs[:0], b.recPos[:0], b.recIDs[:0]
	return off, err
}

// index writes an index node of sorted entries; key is the key its
// parent has for it (empty for the root).
func (b *builder) index(key string, entries []indexEntry) (uint64, error) {
	off := b.off
	w, err := indexSlotWidth(off, entries)
	if err != nil {
		return 0, err
	}
	size := indexPayloadLen(key, w, entries)
	if size > maxExtPayload || len(entries) > 1<<32-1 {
		return 0, fmt.Errorf("mmapdb: index of %d keys is too large for one node", len(entries))
	}
	p := appendExtHeader(b.scratch[:0], extIndex2, size)
	p = appendIndexPayload(p, off, key, w, entries)
	b.scratch = p
	return off, b.emit(p)
}

// level returns the reusable entry slice for an index at depth d.
func (b *builder) level(d int) []indexEntry {
	for len(b.levels) <= d {
		b.levels = append(b.levels, nil)
	}
	return b.levels[d][:0]
}

// finish writes the ID index and seals the file. The caller sets the
// generation and next ID of h. base is the version whose bytes were
// copied, if any: its ID index gives the IDs of the copied records, which
// are merged with those of the records written anew as the index is
// written, without a list of all of them in memory.
func (b *builder) finish(h *header, root uint64, base *Snapshot) error {
	sortIDs(b.ids)
	var copied *copiedIDs
	n := len(b.ids)
	if base != nil && len(b.copies) > 0 {
		var err error
		if copied, err = newCopiedIDs(base, b.copies); err != nil {
			return err
		}
		// A first pass counts them: the index's length comes first.
		copied.each(func(idEntry) error { n++; return nil })
	}
	idsOff := b.off
	if n*idEntryLen > maxExtPayload {
		return fmt.Errorf("mmapdb: %d records are too many for one file", n)
	}
	p := appendExtHeader(b.scratch[:0], extIDIndex, n*idEntryLen)
	if err := b.emit(p); err != nil {
		return err
	}
	w := idWriter{b: b, buf: make([]byte, 0, 64<<10)}
	ids := b.ids
	if copied != nil {
		err := copied.each(func(e idEntry) error {
			for len(ids) > 0 && ids[0].id < e.id {
				if err := w.put(ids[0]); err != nil {
					return err
				}
				ids = ids[1:]
			}
			return w.put(e)
		})
		if err != nil {
			return err
		}
	}
	for _, e := range ids {
		if err := w.put(e); err != nil {
			return err
		}
	}
	if err := b.emit(w.buf); err != nil {
		return err
	}
	if w.n != n {
		return fmt.Errorf("mmapdb: wrote %d entries of an ID index of %d", w.n, n)
	}
	h.records = uint64(n)
	h.root = root
	h.ids = idsOff
	return b.seal(h)
}

// idWriter writes ID index entries in ID order, through a buffer.
type idWriter struct {
	b    *builder
	buf  []byte
	n    int    // entries written
	last uint64 // the ID of the last entry
}

func (w *idWriter) put(e idEntry) error {
	if w.n > 0 && e.id == w.last {
		return fmt.Errorf("%w: %d", ErrDuplicateID, e.id)
	}
	w.n++
	w.last = e.id
	w.buf = binary.BigEndian.AppendUint64(w.buf, e.id)
	w.buf = binary.BigEndian.AppendUint64(w.buf, e.off)
	if len(w.buf) == cap(w.buf) {
		if err := w.b.emit(w.buf); err != nil {
			return err
		}
		w.buf = w.buf[:0]
	}
	return nil
}

// copiedIDs gives the ID index entries of the records inside the copied
// ranges of a base version, moved to their new offsets, in ID order: the
// base's ID index filtered and shifted, without reading the records.
type copiedIDs struct {
	x      idIndex
	ranges []copyRange // by old start
}

func newCopiedIDs(base *Snapshot, copies []copyRange) (*copiedIDs, error) {
	x, err := base.idIndex()
	if err != nil {
		return nil, err
	}
	ranges := slices.Clone(copies)
	slices.SortFunc(ranges, func(a, b copyRange) int { return cmp.Compare(a.oldStart, b.oldStart) })
	return &copiedIDs{x: x, ranges: ranges}, nil
}

// each calls fn with every entry, in ID order, until fn fails.
func (c *copiedIDs) each(fn func(idEntry) error) error {
	last := -1 // the range of the last entry, most often that of the next
	for i := range c.x.n {
		off := binary.BigEndian.Uint64(c.x.p[i*idEntryLen+8:])
		if last < 0 || off < c.ranges[last].oldStart || off >= c.ranges[last].oldEnd {
			// The last range starting at or before off.
			j, _ := slices.BinarySearchFunc(c.ranges, off, func(r copyRange, off uint64) int {
				if r.oldStart <= off {
					return -1
				}
				return 1
			})
			if j == 0 || off >= c.ranges[j-1].oldEnd {
				continue // not copied: its subtree was written anew
			}
			last = j - 1
		}
		r := c.ranges[last]
		if err := fn(idEntry{c.x.id(i), r.newStart + (off - r.oldStart)}); err != nil {
			return err
		}
	}
	return nil
}

// seal flushes the body, writes the header at offset 0 and syncs the
// file. h has its generation, next ID, record count, root and ID index set
// by the caller; seal fills in the rest.
func (b *builder) seal(h *header) error {
	if err := b.w.Flush(); err != nil {
		return err
	}
	h.version = FormatVersion
	h.valid = true
	h.length = b.off
	h.bodyCRC = b.crc
	if _, err := b.f.WriteAt(encodeHeader(h), 0); err != nil {
		return err
	}
	return b.f.Sync()
}

func cmpIDEntry(a, b idEntry) int { return cmp.Compare(a.id, b.id) }

// sortIDs sorts the ID index entries. IDs are mostly dense: when they span
// a range not much wider than their number, each is placed directly at
// its slot (linear time); otherwise they are sorted.
func sortIDs(ids []idEntry) {
	if len(ids) < 2 || slices.IsSortedFunc(ids, cmpIDEntry) {
		return
	}
	lo, hi := ids[0].id, ids[0].id
	for _, e := range ids {
		lo, hi = min(lo, e.id), max(hi, e.id)
	}
	span := hi - lo + 1
	if span > 4*uint64(len(ids)) {
		slices.SortFunc(ids, cmpIDEntry)
		return
	}
	slots := make([]uint64, span) // record offset + 1; 0: no record
	for _, e := range ids {
		if slots[e.id-lo] != 0 { // a duplicate: let the caller see it sorted
			slices.SortFunc(ids, cmpIDEntry)
			return
		}
		slots[e.id-lo] = e.off + 1
	}
	i := 0
	for j, off := range slots {
		if off != 0 {
			ids[i] = idEntry{lo + uint64(j), off - 1}
			i++
		}
	}
}
