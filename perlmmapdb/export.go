package perlmmapdb

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gofrs/flock"

	"transdb/mmapdb"
)

// ExportOptions configure Export.
type ExportOptions struct {
	// IntFormat is the integer format of the file: IntN (the default
	// when 0, and the module's), IntL, IntJ or IntQ. L, J and Q are
	// written little-endian, and J 8 bytes wide, as a perl on a 64-bit
	// x86 machine writes them: a perl elsewhere cannot read those, so
	// prefer N unless the file stays on such machines.
	IntFormat byte

	// Mode is the permission of the file; zero means 0644.
	Mode os.FileMode

	// NoLock skips the lock file <path>.lock, which the writers of
	// Apache2::Translation::MMapDB take: without it a Perl writer may
	// commit at the same time, and one of the two versions is lost.
	NoLock bool
}

// Export writes every record of s, of every base key, to path as a Perl
// MMapDB file in format 1 (MMDC), which the module reads back with the
// same key paths, sort strings, data, IDs and next ID. It writes a
// temporary file in the same directory, syncs it and renames it over
// path, so that path is always either the old file or the complete new
// one. It returns the number of records.
//
// It replaces a Perl file at path as the module's commit does, so that
// Perl readers move to the new version at once: it holds the lock file
// <path>.lock while it writes (unless NoLock), the lock Perl writers
// take, and after the rename it writes 0 into byte 4 of the file it
// replaced, the mark Perl readers check. Holding the lock, it first
// deletes the temporary files that exports to path killed before their
// rename left behind.
//
// The layout is the module's (FORMAT-NOTES.md): data records in
// ascending ID order; the main index, each index followed by its
// sub-indices depth first, with keys sorted bytewise and each leaf's
// positions in leaf order; the ID index; the string table, each distinct
// string once, in the order the data records first use them. Strings are
// written with Perl's UTF-8 flag on when they are valid UTF-8 and not
// ASCII, so that text reads back as characters and other bytes as
// octets, as the module stores them; sort strings always as octets,
// since Apache2::Translation packs numbers into them.
//
// Export holds the string table's index and a few words per record in
// memory; the records themselves are read from the mapping of s.
func Export(s *mmapdb.Snapshot, path string, opts ExportOptions) (int, error) {
	letter := opts.IntFormat
	if letter == 0 {
		letter = IntN
	}
	var kind wordKind
	switch letter {
	case IntN:
		kind = word4BE
	case IntL:
		kind = word4LE
	case IntJ, IntQ:
		kind = word8LE
	default:
		return 0, fmt.Errorf("perlmmapdb: export: integer format %q, want N, L, J or Q", letter)
	}
	mode := opts.Mode
	if mode == 0 {
		mode = 0o644
	}
	if !opts.NoLock {
		fl := flock.New(path+".lock", flock.SetPermissions(mode))
		if err := fl.Lock(); err != nil {
			return 0, fmt.Errorf("perlmmapdb: export: lock %s.lock: %w", path, err)
		}
		defer fl.Close()
		removeStaleExportTemps(path)
	}
	// The Perl file replaced, opened before the rename, to mark it.
	old, err := openPerlForMark(path)
	if err != nil {
		return 0, fmt.Errorf("perlmmapdb: export: %w", err)
	}
	if old != nil {
		defer old.Close()
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, exportTempPrefix(path)+"*")
	if err != nil {
		return 0, fmt.Errorf("perlmmapdb: export: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(mode); err != nil {
		return 0, fmt.Errorf("perlmmapdb: export: %w", err)
	}
	x := &exporter{kind: kind, w: kind.size(), letter: letter, nextID: s.NextID()}
	n, err := x.write(s, tmp)
	if err != nil {
		return 0, fmt.Errorf("perlmmapdb: export %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return 0, fmt.Errorf("perlmmapdb: export: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return 0, fmt.Errorf("perlmmapdb: export: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return 0, fmt.Errorf("perlmmapdb: export: %w", err)
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	if old != nil {
		if _, err := old.WriteAt([]byte{0}, intfmtOff); err != nil {
			return n, fmt.Errorf("perlmmapdb: export: mark the replaced %s: %w", path, err)
		}
	}
	return n, nil
}

// exportTempPrefix is the name prefix of Export's temporary files
// beside path.
func exportTempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// removeStaleExportTemps deletes the temporary files of exports to path
// whose writers died before renaming them. Only the holder of the lock
// may call it: every other Export to path waits for the lock, so none is
// alive then.
func removeStaleExportTemps(path string) {
	dir, prefix := filepath.Dir(path), exportTempPrefix(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) && e.Type().IsRegular() {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// openPerlForMark opens the file at path for writing its byte 4 when it
// is a live Perl MMapDB file; nil when there is none at path.
func openPerlForMark(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var head [intfmtOff + 1]byte
	if _, err := f.ReadAt(head[:], 0); err != nil || readings(head[intfmtOff]) == nil ||
		string(head[:4]) != magic0 && string(head[:4]) != magic1 {
		f.Close()
		return nil, nil // not a Perl file, or one superseded already
	}
	return f, nil
}

// exporter writes one file. The first pass walks the tree of the
// database and notes its shape: the indices, their entries, and the ID
// and leaf of every record. That fixes the size of the data section, the
// indices and the ID index, so the header and every position are known
// before anything is written; the second pass writes the data records in
// ID order, appending their strings to the string table, which is
// written at its place in the file as it grows; then the indices and the
// ID index follow.
type exporter struct {
	kind   wordKind
	w      uint64
	letter byte
	nextID uint64

	nodes   []xNode
	entries []xEntry
	recs    []xRec
	byID    []int32 // indices into recs, in ascending ID order

	strs    map[string]uint64 // string table offsets of the strings written with their natural flag
	octets  map[string]uint64 // ... of sort strings that are UTF-8 but written as octets
	strSize uint64
	path    []int32 // scratch: the entries of a key path, leaf first
}

// xNode is an index of the new file.
type xNode struct {
	first, n int    // its entries: entries[first : first+n]
	rl       uint64 // record length in words
	pos      uint64 // position in the file
	subtree  uint64 // bytes of the index and all below it
}

// xEntry is one record of an index.
type xEntry struct {
	key    []byte // a view into the snapshot's mapping
	parent int32  // the entry whose sub-index holds this one; -1 in the main index
	child  int32  // the sub-index it leads to, or -1 for a leaf
	depth  uint64 // the number of keys of its path
	first  int    // its records, for a leaf: recs[first : first+n]
	n      int
	str    uint64 // the key's string table offset, or noString
}

// xRec is one data record: its ID, its leaf and its position.
type xRec struct {
	id   uint64
	pos  uint64
	leaf int32
}

const noString = ^uint64(0)

func (x *exporter) write(s *mmapdb.Snapshot, f *os.File) (int, error) {
	root, err := s.Root()
	if err != nil {
		return 0, err
	}
	if _, err := x.walk(root, -1, 1); err != nil {
		return 0, err
	}
	if err := x.sortByID(); err != nil {
		return 0, err
	}
	if uint64(len(x.recs)) != s.Len() {
		return 0, fmt.Errorf("the index reaches %d records, the database holds %d", len(x.recs), s.Len())
	}

	// Sizes and positions.
	w := x.w
	dataStart := 8 + 4*w
	var dataSize uint64
	for _, r := range x.recs {
		dataSize += (5 + x.entries[r.leaf].depth) * w
	}
	mainIdx := dataStart + dataSize
	for i := len(x.nodes) - 1; i >= 0; i-- {
		nd := &x.nodes[i]
		nd.subtree = (2 + uint64(nd.n)*nd.rl) * w
		for _, e := range x.entries[nd.first : nd.first+nd.n] {
			if e.child >= 0 {
				nd.subtree += x.nodes[e.child].subtree
			}
		}
	}
	x.nodes[0].pos = mainIdx
	for i := range x.nodes {
		nd := &x.nodes[i]
		next := nd.pos + (2+uint64(nd.n)*nd.rl)*w
		for _, e := range x.entries[nd.first : nd.first+nd.n] {
			if e.child >= 0 {
				x.nodes[e.child].pos = next
				next += x.nodes[e.child].subtree
			}
		}
	}
	idIdx := mainIdx + x.nodes[0].subtree
	strTbl := idIdx + w + 2*w*uint64(len(x.recs))
	nextID := x.nextID
	if !x.fits(nextID) {
		nextID = 1 // past the top of the range: allocation starts over
	}
	if !x.fits(strTbl) {
		return 0, fmt.Errorf("%w: %d bytes before the string table exceed %d-byte positions", ErrUnsupported, strTbl, w)
	}

	out := newWordWriter(io.NewOffsetWriter(f, 0), x.kind)
	strOut := newWordWriter(io.NewOffsetWriter(f, int64(strTbl)), x.kind)
	x.strs = make(map[string]uint64, len(x.recs))
	x.octets = make(map[string]uint64)

	// Header.
	out.bytes([]byte(magic1))
	out.bytes([]byte{x.letter, 0, 0, 0})
	out.put(mainIdx)
	out.put(idIdx)
	out.put(nextID)
	out.put(strTbl)

	// Data section, in ID order.
	pos := dataStart
	k := 0
	for r, err := range s.IDOrder() {
		if err != nil {
			return 0, err
		}
		if k == len(x.byID) || x.recs[x.byID[k]].id != r.ID {
			return 0, fmt.Errorf("the ID index and the tree disagree at ID %d", r.ID)
		}
		rec := &x.recs[x.byID[k]]
		k++
		rec.pos = pos
		if !x.fits(r.ID) {
			return 0, fmt.Errorf("%w: ID %d exceeds %d-byte integers", ErrUnsupported, r.ID, w)
		}
		leaf := &x.entries[rec.leaf]
		out.put(1)
		out.put(r.ID)
		out.put(leaf.depth)
		// The keys, from the main index down.
		x.path = x.path[:0]
		for e := rec.leaf; e >= 0; e = x.entries[e].parent {
			x.path = append(x.path, e)
		}
		for i := len(x.path) - 1; i >= 0; i-- {
			e := &x.entries[x.path[i]]
			if e.str == noString {
				if e.str, err = x.intern(strOut, e.key, false); err != nil {
					return 0, err
				}
			}
			out.put(e.str)
		}
		o, err := x.intern(strOut, r.Sort, true)
		if err != nil {
			return 0, err
		}
		out.put(o)
		if o, err = x.intern(strOut, r.Data, false); err != nil {
			return 0, err
		}
		out.put(o)
		pos += (5 + leaf.depth) * w
	}
	if k != len(x.byID) {
		return 0, fmt.Errorf("the ID index has %d records, the tree %d", k, len(x.byID))
	}

	// The indices, each followed by its sub-indices.
	for _, nd := range x.nodes {
		out.put(uint64(nd.n))
		out.put(nd.rl)
		for i := nd.first; i < nd.first+nd.n; i++ {
			e := &x.entries[i]
			if e.str == noString { // a key without records below it
				if e.str, err = x.intern(strOut, e.key, false); err != nil {
					return 0, err
				}
			}
			out.put(e.str)
			var used uint64
			if e.child >= 0 {
				out.put(1)
				out.put(x.nodes[e.child].pos)
				used = 1
			} else {
				out.put(uint64(e.n))
				for _, r := range x.recs[e.first : e.first+e.n] {
					out.put(r.pos)
				}
				used = uint64(e.n)
			}
			for range nd.rl - 2 - used {
				out.put(0)
			}
		}
	}

	// The ID index.
	out.put(uint64(len(x.byID)))
	for _, i := range x.byID {
		out.put(x.recs[i].id)
		out.put(x.recs[i].pos)
	}
	if err := out.flush(); err != nil {
		return 0, err
	}
	if out.n != strTbl {
		return 0, fmt.Errorf("wrote %d bytes before the string table, planned %d", out.n, strTbl)
	}
	if err := strOut.flush(); err != nil {
		return 0, err
	}
	return len(x.recs), nil
}

// walk notes the index ix, whose keys lie at the given depth under the
// entry parent, and everything below it; it returns the index's number.
func (x *exporter) walk(ix mmapdb.Index, parent int32, depth uint64) (int32, error) {
	node := int32(len(x.nodes))
	n := ix.Len()
	first := len(x.entries)
	x.nodes = append(x.nodes, xNode{first: first, n: n})
	for i := range n {
		k, err := ix.Key(i)
		if err != nil {
			return 0, err
		}
		x.entries = append(x.entries, xEntry{key: k, parent: parent, child: -1, depth: depth, str: noString})
	}
	maxPos := 1
	for i := range n {
		e := int32(first + i)
		c, err := ix.Child(i)
		if err != nil {
			return 0, err
		}
		if !c.IsLeaf() {
			sub, err := c.Index()
			if err != nil {
				return 0, err
			}
			child, err := x.walk(sub, e, depth+1)
			if err != nil {
				return 0, err
			}
			x.entries[e].child = child
			continue
		}
		l, err := c.Leaf()
		if err != nil {
			return 0, err
		}
		x.entries[e].first, x.entries[e].n = len(x.recs), l.Len()
		for j := range l.Len() {
			_, _, id, err := l.Fields(j)
			if err != nil {
				return 0, err
			}
			x.recs = append(x.recs, xRec{id: id, leaf: e})
		}
		maxPos = max(maxPos, l.Len())
	}
	x.nodes[node].rl = 2 + uint64(maxPos)
	return node, nil
}

// sortByID orders the records by ID: by placing each at its slot when
// the IDs are dense, as they mostly are, else by sorting.
func (x *exporter) sortByID() error {
	n := len(x.recs)
	x.byID = make([]int32, n)
	if n == 0 {
		return nil
	}
	if n > 1<<31-1 {
		return fmt.Errorf("%w: %d records", ErrUnsupported, n)
	}
	lo, hi := x.recs[0].id, x.recs[0].id
	for _, r := range x.recs {
		lo, hi = min(lo, r.id), max(hi, r.id)
	}
	if span := hi - lo + 1; span <= 4*uint64(n) {
		slot := make([]int32, span)
		for i, r := range x.recs {
			if slot[r.id-lo] != 0 {
				return fmt.Errorf("ID %d held by two records", r.id)
			}
			slot[r.id-lo] = int32(i) + 1
		}
		k := 0
		for _, s := range slot {
			if s != 0 {
				x.byID[k] = s - 1
				k++
			}
		}
		return nil
	}
	for i := range x.byID {
		x.byID[i] = int32(i)
	}
	slices.SortFunc(x.byID, func(a, b int32) int {
		switch ia, ib := x.recs[a].id, x.recs[b].id; {
		case ia < ib:
			return -1
		case ia > ib:
			return 1
		}
		return 0
	})
	for i := 1; i < n; i++ {
		if x.recs[x.byID[i]].id == x.recs[x.byID[i-1]].id {
			return fmt.Errorf("ID %d held by two records", x.recs[x.byID[i]].id)
		}
	}
	return nil
}

// intern returns the string table offset of b, appending it to the
// table the first time. octets writes it without the UTF-8 flag, as a
// sort string; otherwise the flag is on for UTF-8 text beyond ASCII.
// Strings of one content and flag are stored once, as the module does.
func (x *exporter) intern(w *wordWriter, b []byte, octets bool) (uint64, error) {
	m := x.strs
	flag := byte(0)
	if octets {
		if text(b) {
			m = x.octets
		}
	}
	if o, ok := m[bstr(b)]; ok {
		return o, nil
	}
	if !octets && text(b) {
		flag = 1
	}
	o := x.strSize
	if !x.fits(o) || !x.fits(uint64(len(b))) {
		return 0, fmt.Errorf("%w: a string table beyond %d-byte offsets", ErrUnsupported, x.w)
	}
	m[bstr(b)] = o
	w.put(uint64(len(b)))
	w.bytes(b)
	entry := x.w + uint64(len(b)) + 1
	pad := (x.w - entry%x.w) % x.w
	w.zeros(1+pad, flag)
	x.strSize += entry + pad
	return o, nil
}

// text reports whether b is UTF-8 text beyond ASCII, which the module
// stores with the UTF-8 flag.
func text(b []byte) bool {
	for i, c := range b {
		if c >= utf8.RuneSelf {
			return utf8.Valid(b[i:])
		}
	}
	return false
}

// fits reports whether v fits the file's integers.
func (x *exporter) fits(v uint64) bool { return x.w == 8 || v <= 1<<32-1 }

// wordWriter writes the words and bytes of a file through a buffer and
// counts them.
type wordWriter struct {
	bw   *bufio.Writer
	kind wordKind
	n    uint64
	buf  [8]byte
	err  error
}

func newWordWriter(w io.Writer, kind wordKind) *wordWriter {
	return &wordWriter{bw: bufio.NewWriterSize(w, 1<<20), kind: kind}
}

func (w *wordWriter) put(v uint64) {
	b := w.buf[:]
	switch w.kind {
	case word4BE:
		binary.BigEndian.PutUint32(b, uint32(v))
		b = b[:4]
	case word4LE:
		binary.LittleEndian.PutUint32(b, uint32(v))
		b = b[:4]
	case word8BE:
		binary.BigEndian.PutUint64(b, v)
	default:
		binary.LittleEndian.PutUint64(b, v)
	}
	w.bytes(b)
}

func (w *wordWriter) bytes(b []byte) {
	if w.err == nil {
		_, w.err = w.bw.Write(b)
		w.n += uint64(len(b))
	}
}

// zeros writes first and then n-1 zero bytes.
func (w *wordWriter) zeros(n uint64, first byte) {
	var z [16]byte
	z[0] = first
	for n > 0 {
		k := min(n, uint64(len(z)))
		w.bytes(z[:k])
		z[0] = 0
		n -= k
	}
}

func (w *wordWriter) flush() error {
	if w.err != nil {
		return w.err
	}
	return w.bw.Flush()
}
