package perlmmapdb

import (
	"fmt"
	"strings"
)

// index is an index of the file (FORMAT-NOTES section 4): n records of
// rl words after its two-word head, each the offset of a key in the
// string table, a count of positions, the positions and zero padding.
type index struct {
	pos, n, rl uint64
}

// indexAt reads the head of the index at pos and checks that its records
// fit the index section.
func (f *File) indexAt(pos uint64) (index, error) {
	if pos < f.mainIdx || pos >= f.idIdx || (pos-f.mainIdx)&(f.w-1) != 0 {
		return index{}, corruptf("no index at %d: the index section is [%d, %d)", pos, f.mainIdx, f.idIdx)
	}
	room := (f.idIdx - pos) / f.w
	if room < 2 {
		return index{}, corruptf("index at %d: no room for its head", pos)
	}
	n, _ := f.word(pos)
	rl, _ := f.word(pos + f.w)
	switch {
	case rl < 3:
		return index{}, corruptf("index at %d: record length %d, at least 3", pos, rl)
	case n > (room-2)/rl:
		return index{}, corruptf("index at %d: %d records of %d words do not fit the index section", pos, n, rl)
	}
	return index{pos: pos, n: n, rl: rl}, nil
}

// indexEntry is the i-th record of an index: its key and its positions.
type indexEntry struct {
	key  uint64 // the key's offset in the string table
	at   uint64 // position of POS[0]
	npos uint64
}

// entry reads the head of the i-th record of ix, i < ix.n.
func (f *File) entry(ix index, i uint64) (indexEntry, error) {
	p := ix.pos + 2*f.w + i*ix.rl*f.w
	key, _ := f.word(p)
	npos, _ := f.word(p + f.w)
	if npos > ix.rl-2 {
		return indexEntry{}, corruptf("index at %d, record %d: %d positions in a record of %d words", ix.pos, i, npos, ix.rl)
	}
	return indexEntry{key: key, at: p + 2*f.w, npos: npos}, nil
}

// position returns the j-th position of e, j < e.npos.
func (f *File) position(e indexEntry, j uint64) uint64 {
	v, _ := f.word(e.at + j*f.w)
	return v
}

// subIndex returns the position of the index e leads to, if it leads to
// one: a single position at or past the data section's end, as the
// module's XS tells them apart.
func (f *File) subIndex(e indexEntry) (pos uint64, ok bool) {
	if e.npos != 1 {
		return 0, false
	}
	pos = f.position(e, 0)
	return pos, pos >= f.mainIdx
}

// Lookup returns the live records at the key path, in the order of their
// leaf: by sort string, ties in the order of the data section. A path
// that leads nowhere, or to an index rather than to records, gives none
// and no error. Each level is a binary search comparing the stored bytes,
// as the module's XS lookup does; keys are matched bytewise, whatever
// their UTF-8 flags.
func (f *File) Lookup(keys ...string) ([]Record, error) {
	if f.data == nil {
		return nil, ErrClosed
	}
	if len(keys) == 0 {
		return nil, nil
	}
	pos := f.mainIdx
	for depth, k := range keys {
		ix, err := f.indexAt(pos)
		if err != nil {
			return nil, err
		}
		e, found, err := f.search(ix, k)
		if err != nil || !found {
			return nil, err
		}
		sub, isSub := f.subIndex(e)
		if depth < len(keys)-1 {
			if !isSub {
				return nil, nil
			}
			pos = sub
			continue
		}
		if isSub {
			return nil, nil
		}
		recs := make([]Record, 0, e.npos)
		for j := range e.npos {
			r, err := f.RecordAt(f.position(e, j))
			if err != nil {
				return nil, fmt.Errorf("index at %d: %w", ix.pos, err)
			}
			r.Keys = append([]String(nil), r.Keys...)
			recs = append(recs, r)
		}
		return recs, nil
	}
	return nil, nil
}

// search finds key among the records of ix by binary search.
func (f *File) search(ix index, key string) (indexEntry, bool, error) {
	lo, hi := uint64(0), ix.n
	for lo < hi {
		m := lo + (hi-lo)/2
		e, err := f.entry(ix, m)
		if err != nil {
			return indexEntry{}, false, err
		}
		s, err := f.str(e.key)
		if err != nil {
			return indexEntry{}, false, fmt.Errorf("index at %d, record %d: %w", ix.pos, m, err)
		}
		switch c := strings.Compare(bstr(s.Bytes), key); {
		case c == 0:
			return e, true, nil
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return indexEntry{}, false, nil
}
