package mmapdb

import "encoding/binary"

// idIndex is the ID index node: (id, record offset) sorted by id.
type idIndex struct {
	b   []byte
	off uint64
	p   []byte
	n   int
}

func (s *Snapshot) idIndex() (idIndex, error) {
	b, err := s.mapping()
	if err != nil {
		return idIndex{}, err
	}
	off := s.v.h.ids
	p, err := readExt(b, off, extIDIndex)
	if err != nil {
		return idIndex{}, err
	}
	if len(p)%idEntryLen != 0 {
		return idIndex{}, corruptf("id index at %d: %d bytes", off, len(p))
	}
	return idIndex{b: b, off: off, p: p, n: len(p) / idEntryLen}, nil
}

func (x idIndex) id(i int) uint64 { return binary.BigEndian.Uint64(x.p[i*idEntryLen:]) }

func (x idIndex) record(i int) (Record, error) {
	off := binary.BigEndian.Uint64(x.p[i*idEntryLen+8:])
	if off >= x.off {
		return Record{}, corruptf("id index entry %d points to %d", i, off)
	}
	return recordAt(x.b[:x.off], off)
}
