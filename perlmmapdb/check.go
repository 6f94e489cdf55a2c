package perlmmapdb

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// Check reads the whole file and checks that its three access paths
// agree, as the module's own readers rely on: the data section holds
// well-formed records; the ID index names every live record once, in
// ascending ID order, and nothing else; and the main index reaches every
// live record exactly once, under the record's own key path, with the
// keys of each index in Perl's string order or bytewise (as Export
// writes them), and the records of each leaf in Perl's string order.
// An index reached twice, as through a loop, is ErrIndexLoop. Every other
// finding wraps ErrCorrupt. Its cost is linear in the file size, plus a
// bit per word of the data and index sections; a file whose strings
// would cost more than that to compare, as one made to be slow, is
// refused. A file cut short in place while Check reads it is ErrChanged,
// not a crash.
func (f *File) Check() error {
	_, err := guarded(func() (struct{}, error) { return struct{}{}, f.check(nil) })
	return err
}

// check is Check, calling each, when not nil, with every live record of
// the data section as it reads it, in order; an error of each ends the
// check with that error. The record is reused for the next one.
func (f *File) check(each func(*Record) error) error {
	if f.data == nil {
		return ErrClosed
	}
	c := checker{f: f,
		work:    compareWork*int64(len(f.data)) + 1<<20,
		live:    newBitset((f.mainIdx - f.dataStart) / f.w),
		reached: newBitset((f.mainIdx - f.dataStart) / f.w),
		indices: newBitset((f.idIdx - f.mainIdx) / f.w),
	}
	if err := c.dataSection(each); err != nil {
		return err
	}
	if err := c.idIndex(); err != nil {
		return err
	}
	return c.mainIndex()
}

// compareWork bounds the bytes that comparing keys and sort strings may
// cost, per byte of the file. The file holds each string once, but many
// indices can compare the same long strings again and again, so that the
// work of a file made to be slow grows with the square of its size; a
// real table compares a few bytes per byte of its file.
const compareWork = 64

// checker holds the state of one Check.
type checker struct {
	f       *File
	work    int64  // the bytes comparisons may still cost
	live    bitset // data section words that start a live record
	reached bitset // ... and that the main index reached
	indices bitset // index section words that start an index reached
	nlive   uint64
	r       Record // scratch
}

// word returns the number of the word at pos in the section from start.
func (c *checker) word(pos, start uint64) uint64 {
	if c.f.w == 8 {
		return (pos - start) >> 3
	}
	return (pos - start) >> 2
}

func (c *checker) dataSection(each func(*Record) error) error {
	f := c.f
	for pos := f.dataStart; pos < f.mainIdx; {
		valid, next, err := f.record(pos, &c.r)
		if err != nil {
			return err
		}
		if valid {
			c.live.set(c.word(pos, f.dataStart))
			c.nlive++
			if each != nil {
				if err := each(&c.r); err != nil {
					return err
				}
			}
		}
		pos = next
	}
	return nil
}

func (c *checker) idIndex() error {
	f := c.f
	if f.nids != c.nlive {
		return corruptf("ID index of %d entries, the data section has %d live records", f.nids, c.nlive)
	}
	var last uint64
	for i := range f.nids {
		id, pos := f.idEntry(i)
		if id <= last {
			return corruptf("ID index entry %d: ID %d after %d", i, id, last)
		}
		last = id
		if pos < f.dataStart || pos >= f.mainIdx || (pos-f.dataStart)&(f.w-1) != 0 || !c.live.get(c.word(pos, f.dataStart)) {
			return corruptf("ID index entry %d: ID %d names %d, not a live record", i, id, pos)
		}
		// The data section's pass has read the record whole.
		if rid, _ := f.word(pos + f.w); rid != id {
			return corruptf("ID index entry %d: ID %d names the record of ID %d at %d", i, id, rid, pos)
		}
	}
	return nil
}

// frame is an index being walked: the entry the walk is at and the key
// under which the parent holds it.
type frame struct {
	ix     index
	next   uint64 // the next entry to visit
	keyOff uint64 // the string table offset of the key of the entry being visited
	key    String // that key
	// notCmp and notBytes: the keys so far are not in Perl's cmp order,
	// or not in bytewise order; one of the two must hold.
	notCmp, notBytes bool
}

// mainIndex walks the main index depth first, without recursion, so that
// a hostile file cannot exhaust the stack.
func (c *checker) mainIndex() error {
	f := c.f
	var nreached uint64
	stack := make([]frame, 0, 8)
	push := func(pos uint64) error {
		if pos >= f.idIdx || (pos-f.mainIdx)&(f.w-1) != 0 {
			return corruptf("index position %d outside the index section [%d, %d)", pos, f.mainIdx, f.idIdx)
		}
		if w := c.word(pos, f.mainIdx); c.indices.get(w) {
			return &formatError{kind: ErrIndexLoop, msg: fmt.Sprintf("the index at %d is reached twice", pos)}
		} else {
			c.indices.set(w)
		}
		ix, err := f.indexAt(pos)
		if err != nil {
			return err
		}
		if len(stack) >= maxKeys {
			return corruptf("index at %d: deeper than %d levels", pos, maxKeys)
		}
		stack = append(stack, frame{ix: ix})
		return nil
	}
	if err := push(f.mainIdx); err != nil {
		return err
	}
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.next == top.ix.n {
			stack = stack[:len(stack)-1]
			continue
		}
		i := top.next
		top.next++
		e, err := f.entry(top.ix, i)
		if err != nil {
			return err
		}
		key, err := f.str(e.key)
		if err != nil {
			return fmt.Errorf("index at %d, record %d: key: %w", top.ix.pos, i, err)
		}
		if i > 0 {
			// The module's writer sorts by Perl's cmp, Export (as the
			// module's binary search needs) bytewise: the two differ
			// only where octet and UTF-8 keys beyond ASCII mix.
			if err := c.spend(top.key, key, 2); err != nil {
				return err
			}
			top.notCmp = top.notCmp || perlCmp(top.key, key) >= 0
			top.notBytes = top.notBytes || bytes.Compare(top.key.Bytes, key.Bytes) >= 0
			if top.notCmp && top.notBytes {
				return corruptf("index at %d, record %d: key %q does not sort after %q", top.ix.pos, i, key.Bytes, top.key.Bytes)
			}
		}
		top.keyOff, top.key = e.key, key
		if sub, ok := f.subIndex(e); ok {
			if err := push(sub); err != nil {
				return err
			}
			continue
		}
		n, err := c.leaf(stack, e)
		if err != nil {
			return fmt.Errorf("index at %d, record %d: %w", top.ix.pos, i, err)
		}
		nreached += n
	}
	if nreached != c.nlive {
		return corruptf("the main index reaches %d records, the data section has %d live ones", nreached, c.nlive)
	}
	return nil
}

// leaf checks the records of the index entry e, reached through the
// keys of the frames on the stack, and returns their number. The data
// section's pass has read every live record whole: here only the words
// that tie a record to its leaf are read, and strings only where their
// offsets differ (the module stores each string once, so equal strings
// mostly share one).
func (c *checker) leaf(stack []frame, e indexEntry) (uint64, error) {
	f := c.f
	var lastOff uint64
	var last String
	for j := range e.npos {
		pos := f.position(e, j)
		if pos < f.dataStart || pos >= f.mainIdx || (pos-f.dataStart)&(f.w-1) != 0 || !c.live.get(c.word(pos, f.dataStart)) {
			return 0, corruptf("position %d is not a live record", pos)
		}
		w := c.word(pos, f.dataStart)
		if c.reached.get(w) {
			return 0, corruptf("the record at %d is reached twice", pos)
		}
		c.reached.set(w)
		nkeys, _ := f.word(pos + 2*f.w)
		if nkeys != uint64(len(stack)) {
			return 0, corruptf("the record at %d has %d keys, its index path %d", pos, nkeys, len(stack))
		}
		p := pos + 3*f.w
		for d := range stack {
			o, _ := f.word(p)
			p += f.w
			if o == stack[d].keyOff {
				continue
			}
			k, err := f.str(o)
			if err != nil {
				return 0, err
			}
			if err := c.spend(k, stack[d].key, 1); err != nil {
				return 0, err
			}
			if perlCmp(k, stack[d].key) != 0 {
				return 0, corruptf("the record at %d has key %q at level %d, its index path %q", pos, k.Bytes, d, stack[d].key.Bytes)
			}
		}
		o, _ := f.word(p)
		if j == 0 || o != lastOff {
			sort, err := f.str(o)
			if err != nil {
				return 0, err
			}
			if err := c.spend(last, sort, 1); err != nil {
				return 0, err
			}
			if j > 0 && perlCmp(last, sort) > 0 {
				return 0, corruptf("the record at %d sorts before the one before it", pos)
			}
			lastOff, last = o, sort
		}
	}
	return e.npos, nil
}

// spend counts the work of comparing a and b n times, and fails once
// the comparisons of the file cost more than compareWork per byte.
func (c *checker) spend(a, b String, n int) error {
	c.work -= int64(n) * int64(min(len(a.Bytes), len(b.Bytes))+1)
	if c.work < 0 {
		return corruptf("comparing its keys and sort strings costs more than %d bytes per byte of the file (a file made to be slow?)", compareWork)
	}
	return nil
}

// perlCmp compares two strings as Perl's cmp does: by characters, the
// bytes of a string without the UTF-8 flag being Latin-1 characters.
// Strings with the same flag compare bytewise, which is the same order
// for valid UTF-8.
func perlCmp(a, b String) int {
	if a.UTF8 == b.UTF8 {
		return bytes.Compare(a.Bytes, b.Bytes)
	}
	x, y := a.Bytes, b.Bytes
	for len(x) > 0 && len(y) > 0 {
		rx, nx := char(x, a.UTF8)
		ry, ny := char(y, b.UTF8)
		if rx != ry {
			if rx < ry {
				return -1
			}
			return 1
		}
		x, y = x[nx:], y[ny:]
	}
	switch {
	case len(x) == len(y):
		return 0
	case len(x) < len(y):
		return -1
	}
	return 1
}

// char returns the first character of b and its length in bytes.
func char(b []byte, utf bool) (rune, int) {
	if !utf || b[0] < utf8.RuneSelf {
		return rune(b[0]), 1
	}
	return utf8.DecodeRune(b)
}

// bitset is a set of small numbers.
type bitset []uint64

func newBitset(n uint64) bitset { return make(bitset, (n+63)/64) }

func (b bitset) get(i uint64) bool { return b[i/64]&(1<<(i%64)) != 0 }

func (b bitset) set(i uint64) { b[i/64] |= 1 << (i % 64) }
