package mmapdb

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/bits"
	"time"
)

// The on-disk format; mmapdb/FORMAT.md is the reference, this file the code.
//
// A file is a sequence of msgpack values: the header (a map with a fixed
// layout per format version), then the body: key paths (arrays of bin),
// records (arrays), and nodes (ext values whose payload is a fixed-width
// table that is binary-searched in place). Integers inside node payloads
// are big-endian, like msgpack's own.

// Magic is the value of the header's "magic" entry.
const Magic = "transdb-mmapdb"

// FormatVersion is the format version this package writes. It reads every
// version from 1 on.
const FormatVersion = 2

// Node type codes, used as the msgpack ext type of each node.
const (
	extIndex   = 1 // an index: sorted keys -> child node offsets
	extLeaf    = 2 // a leaf: the key path and the offsets of its records
	extIDIndex = 3 // the ID index: (id, record offset) sorted by id
	extIndex2  = 4 // an index of version 2: its own key, a hash table of its keys
)

// msgpack type bytes used by the format.
const (
	mpFalse  = 0xc2
	mpTrue   = 0xc3
	mpBin8   = 0xc4
	mpBin16  = 0xc5
	mpBin32  = 0xc6
	mpExt32  = 0xc9
	mpUint16 = 0xcd
	mpUint32 = 0xce
	mpUint64 = 0xcf
	mpInt64  = 0xd3
	mpArr16  = 0xdc
	mpArr32  = 0xdd
)

const (
	extHeaderLen   = 6                // 0xc9, uint32 length, int8 type
	leafHeadLen    = 12               // uint64 path offset, uint32 count
	idEntryLen     = 16               // uint64 id, uint64 record offset
	recordFixedLen = 1 + 9 + 9        // array tag, path offset, id
	maxExtPayload  = 1<<32 - 1        // ext32 length limit
	maxKeys        = 1 << 16          // sanity limit on key path depth
	crcTableKind   = crc32.Castagnoli // checksum polynomial
)

var crcTable = crc32.MakeTable(crcTableKind)

// header is the decoded file header.
type header struct {
	version    uint16
	valid      bool
	length     uint64 // total file length
	generation uint64 // transaction counter
	nextID     uint64 // next record ID to try
	records    uint64 // number of data records
	root       uint64 // offset of the root index
	ids        uint64 // offset of the ID index
	created    int64  // unix nanoseconds
	bodyCRC    uint32 // CRC-32C of bytes [headerLen, length)
	headerCRC  uint32 // CRC-32C of header bytes before it, valid flag skipped
}

// headerField describes one entry of the fixed v1 header map.
type headerField struct {
	name string
	tag  byte // msgpack type byte of the value
	size int  // value bytes after the tag
}

// headerFields is the v1 header map, in file order. The layout is fixed:
// every value has a fixed-width encoding, so each value sits at a fixed
// offset, in particular the valid flag, which a committer clears with one
// positioned write.
var headerFields = []headerField{
	{"magic", 0xa0 | byte(len(Magic)), len(Magic)},
	{"version", mpUint16, 2},
	{"valid", mpTrue, 0}, // mpTrue or mpFalse
	{"length", mpUint64, 8},
	{"generation", mpUint64, 8},
	{"next_id", mpUint64, 8},
	{"records", mpUint64, 8},
	{"root", mpUint64, 8},
	{"ids", mpUint64, 8},
	{"created", mpInt64, 8},
	{"body_crc", mpUint32, 4},
	{"header_crc", mpUint32, 4},
}

// Offsets of the header values, computed from headerFields.
var (
	headerLen  int            // total length of the v1 header
	fieldOff   map[string]int // offset of each value's type byte
	validOff   int            // offset of the valid flag byte
	createdOff int            // offset of the creation time's value (after its type byte)
	headerPfx  []byte         // the constant bytes up to the version value
	versionOff int            // offset of the version's type byte
)

func init() {
	fieldOff = make(map[string]int, len(headerFields))
	off := 1 // fixmap byte
	for _, f := range headerFields {
		off += 1 + len(f.name) // fixstr key
		fieldOff[f.name] = off
		off += 1 + f.size
	}
	headerLen = off
	validOff = fieldOff["valid"]
	createdOff = fieldOff["created"] + 1
	versionOff = fieldOff["version"]
	headerPfx = appendHeaderPrefix(nil)
}

// appendHeaderPrefix appends the map tag, the magic entry and the key of
// the version entry: the bytes every file of every version starts with.
func appendHeaderPrefix(b []byte) []byte {
	b = append(b, 0x80|byte(len(headerFields)))
	b = appendFixstr(b, "magic")
	b = appendFixstr(b, Magic)
	return appendFixstr(b, "version")
}

func appendFixstr(b []byte, s string) []byte {
	return append(append(b, 0xa0|byte(len(s))), s...)
}

// encodeHeader returns the header bytes with both checksums filled in.
func encodeHeader(h *header) []byte {
	b := make([]byte, 0, headerLen)
	b = append(b, 0x80|byte(len(headerFields)))
	for _, f := range headerFields {
		b = appendFixstr(b, f.name)
		switch f.name {
		case "magic":
			b = appendFixstr(b, Magic)
		case "version":
			b = binary.BigEndian.AppendUint16(append(b, mpUint16), h.version)
		case "valid":
			if h.valid {
				b = append(b, mpTrue)
			} else {
				b = append(b, mpFalse)
			}
		case "created":
			b = binary.BigEndian.AppendUint64(append(b, mpInt64), uint64(h.created))
		case "body_crc":
			b = binary.BigEndian.AppendUint32(append(b, mpUint32), h.bodyCRC)
		case "header_crc":
			h.headerCRC = headerChecksum(b)
			b = binary.BigEndian.AppendUint32(append(b, mpUint32), h.headerCRC)
		default:
			b = binary.BigEndian.AppendUint64(append(b, mpUint64), *h.uint64Field(f.name))
		}
	}
	return b
}

func (h *header) uint64Field(name string) *uint64 {
	switch name {
	case "length":
		return &h.length
	case "generation":
		return &h.generation
	case "next_id":
		return &h.nextID
	case "records":
		return &h.records
	case "root":
		return &h.root
	case "ids":
		return &h.ids
	}
	panic("mmapdb: unknown header field " + name)
}

// headerChecksum is the CRC-32C of the header bytes before the header_crc
// value, the valid flag byte excluded.
func headerChecksum(b []byte) uint32 {
	end := fieldOff["header_crc"]
	c := crc32.Update(0, crcTable, b[:validOff])
	return crc32.Update(c, crcTable, b[validOff+1:end])
}

// decodeHeader parses and checks the header at the start of b. It checks
// magic, version, layout and the header checksum, nothing of the body.
func decodeHeader(b []byte) (*header, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: file is empty", ErrCorrupt)
	}
	// The map size may differ between versions; the magic entry may not.
	n := min(len(b), len(headerPfx))
	if b[0]&0xf0 != 0x80 || string(b[1:n]) != string(headerPfx[1:n]) {
		return nil, ErrBadMagic
	}
	if len(b) < versionOff+3 {
		return nil, fmt.Errorf("%w: file is %d bytes, shorter than a header", ErrCorrupt, len(b))
	}
	if b[versionOff] != mpUint16 {
		return nil, fmt.Errorf("%w: version is not a uint16", ErrCorrupt)
	}
	version := binary.BigEndian.Uint16(b[versionOff+1:])
	if version < 1 || version > FormatVersion {
		return nil, fmt.Errorf("%w: file has format version %d, this reader knows 1..%d", ErrVersion, version, FormatVersion)
	}
	if len(b) < headerLen {
		return nil, fmt.Errorf("%w: file is %d bytes, shorter than the %d-byte header", ErrCorrupt, len(b), headerLen)
	}
	b = b[:headerLen]
	if b[0] != 0x80|byte(len(headerFields)) {
		return nil, fmt.Errorf("%w: header map has %d entries, want %d", ErrCorrupt, b[0]&0x0f, len(headerFields))
	}
	want := binary.BigEndian.Uint32(b[fieldOff["header_crc"]+1:])
	if got := headerChecksum(b); got != want {
		return nil, fmt.Errorf("%w: header checksum %08x, want %08x", ErrCorrupt, got, want)
	}
	// The checksum covers the keys and type bytes too, but check the
	// layout anyway so a file from a buggy writer is named for what it is.
	off := 1
	for _, f := range headerFields {
		if b[off] != 0xa0|byte(len(f.name)) || string(b[off+1:off+1+len(f.name)]) != f.name {
			return nil, fmt.Errorf("%w: header key %q missing", ErrCorrupt, f.name)
		}
		off += 1 + len(f.name)
		tag := b[off]
		if tag != f.tag && !(f.name == "valid" && tag == mpFalse) {
			return nil, fmt.Errorf("%w: header value %q has type byte %#x", ErrCorrupt, f.name, tag)
		}
		off += 1 + f.size
	}
	h := &header{
		version:   version,
		valid:     b[validOff] == mpTrue,
		created:   int64(binary.BigEndian.Uint64(b[fieldOff["created"]+1:])),
		bodyCRC:   binary.BigEndian.Uint32(b[fieldOff["body_crc"]+1:]),
		headerCRC: want,
	}
	for _, name := range []string{"length", "generation", "next_id", "records", "root", "ids"} {
		*h.uint64Field(name) = binary.BigEndian.Uint64(b[fieldOff[name]+1:])
	}
	if h.root < uint64(headerLen) || h.ids < uint64(headerLen) || h.root >= h.length || h.ids >= h.length {
		return nil, fmt.Errorf("%w: root %d or id index %d outside the body", ErrCorrupt, h.root, h.ids)
	}
	return h, nil
}

// createdTime returns the creation time recorded in the header.
func (h *header) createdTime() time.Time { return time.Unix(0, h.created) }

// appendBin appends b as a msgpack bin value.
func appendBin[S string | []byte](dst []byte, b S) []byte {
	switch n := len(b); {
	case n < 1<<8:
		dst = append(dst, mpBin8, byte(n))
	case n < 1<<16:
		dst = binary.BigEndian.AppendUint16(append(dst, mpBin16), uint16(n))
	default:
		dst = binary.BigEndian.AppendUint32(append(dst, mpBin32), uint32(n))
	}
	return append(dst, b...)
}

// appendArrayHeader appends a msgpack array header for n elements.
func appendArrayHeader(dst []byte, n int) []byte {
	switch {
	case n < 16:
		return append(dst, 0x90|byte(n))
	case n < 1<<16:
		return binary.BigEndian.AppendUint16(append(dst, mpArr16), uint16(n))
	default:
		return binary.BigEndian.AppendUint32(append(dst, mpArr32), uint32(n))
	}
}

// appendExtHeader appends an ext32 header for a payload of n bytes.
func appendExtHeader(dst []byte, typ int8, n int) []byte {
	return append(binary.BigEndian.AppendUint32(append(dst, mpExt32), uint32(n)), byte(typ))
}

// appendRecord appends a record: [distance back to the key path, sort,
// data, id].
func appendRecord(dst []byte, pathRel uint64, sort, data []byte, id uint64) []byte {
	dst = binary.BigEndian.AppendUint64(append(dst, 0x94, mpUint64), pathRel)
	dst = appendBin(dst, sort)
	dst = appendBin(dst, data)
	return binary.BigEndian.AppendUint64(append(dst, mpUint64), id)
}

// readBin decodes the msgpack bin value at off in b and returns its bytes
// (a view into b) and the offset after it.
func readBin(b []byte, off uint64) ([]byte, uint64, error) {
	if off >= uint64(len(b)) {
		return nil, 0, corruptf("bin at %d outside the file", off)
	}
	var n, hl uint64
	switch b[off] {
	case mpBin8:
		if off+2 > uint64(len(b)) {
			return nil, 0, corruptf("bin at %d truncated", off)
		}
		n, hl = uint64(b[off+1]), 2
	case mpBin16:
		if off+3 > uint64(len(b)) {
			return nil, 0, corruptf("bin at %d truncated", off)
		}
		n, hl = uint64(binary.BigEndian.Uint16(b[off+1:])), 3
	case mpBin32:
		if off+5 > uint64(len(b)) {
			return nil, 0, corruptf("bin at %d truncated", off)
		}
		n, hl = uint64(binary.BigEndian.Uint32(b[off+1:])), 5
	default:
		return nil, 0, corruptf("type byte %#x at %d, want bin", b[off], off)
	}
	start := off + hl
	end := start + n
	if end > uint64(len(b)) {
		return nil, 0, corruptf("bin at %d of %d bytes runs past the end", off, n)
	}
	return b[start:end:end], end, nil
}

// readUint64 decodes a msgpack uint64 (0xcf) at off.
func readUint64(b []byte, off uint64) (uint64, uint64, error) {
	if off+9 > uint64(len(b)) || off+9 < off {
		return 0, 0, corruptf("uint64 at %d outside the file", off)
	}
	if b[off] != mpUint64 {
		return 0, 0, corruptf("type byte %#x at %d, want uint64", b[off], off)
	}
	return binary.BigEndian.Uint64(b[off+1:]), off + 9, nil
}

// readArrayHeader decodes a msgpack array header at off.
func readArrayHeader(b []byte, off uint64) (n, next uint64, err error) {
	if off >= uint64(len(b)) {
		return 0, 0, corruptf("array at %d outside the file", off)
	}
	switch t := b[off]; {
	case t&0xf0 == 0x90:
		return uint64(t & 0x0f), off + 1, nil
	case t == mpArr16 && off+3 <= uint64(len(b)):
		return uint64(binary.BigEndian.Uint16(b[off+1:])), off + 3, nil
	case t == mpArr32 && off+5 <= uint64(len(b)):
		return uint64(binary.BigEndian.Uint32(b[off+1:])), off + 5, nil
	}
	return 0, 0, corruptf("type byte %#x at %d, want array", b[off], off)
}

// readExt decodes the ext32 header at off, checks its type, and returns
// the payload (a view into b).
func readExt(b []byte, off uint64, typ int8) ([]byte, error) {
	p, t, err := readNode(b, off)
	if err == nil && t != typ {
		err = corruptf("node at %d has type %d, want %d", off, t, typ)
	}
	return p, err
}

// readNode decodes the ext32 header at off and returns the payload (a view
// into b) and the node type.
func readNode(b []byte, off uint64) ([]byte, int8, error) {
	if off+extHeaderLen > uint64(len(b)) || off+extHeaderLen < off {
		return nil, 0, corruptf("node at %d outside the file", off)
	}
	if b[off] != mpExt32 {
		return nil, 0, corruptf("type byte %#x at %d, want ext32 node", b[off], off)
	}
	n := uint64(binary.BigEndian.Uint32(b[off+1:]))
	start := off + extHeaderLen
	if start+n > uint64(len(b)) {
		return nil, 0, corruptf("node at %d of %d bytes runs past the end", off, n)
	}
	return b[start : start+n : start+n], int8(b[off+5]), nil
}

// hashKey is the hash of an index key for the hash slots of version 2
// (FORMAT.md defines it): 8-byte little-endian words folded in with a
// 64x64->128-bit multiply whose halves are xored, a multiply for the
// zero-padded tail, and one more to finish. Keys are read 8 bytes at a
// time; a URI of 20 bytes costs four multiplies.
func hashKey[S string | []byte](k S) uint64 {
	h := hashSeed ^ uint64(len(k))*hashLen
	for len(k) >= 8 {
		w := uint64(k[0]) | uint64(k[1])<<8 | uint64(k[2])<<16 | uint64(k[3])<<24 |
			uint64(k[4])<<32 | uint64(k[5])<<40 | uint64(k[6])<<48 | uint64(k[7])<<56
		h = hashMix(h^w, hashWord)
		k = k[8:]
	}
	if len(k) > 0 {
		var w uint64
		for i := 0; i < len(k); i++ {
			w |= uint64(k[i]) << (8 * i)
		}
		h = hashMix(h^w, hashTail)
	}
	return hashMix(h, hashFinal)
}

// Constants of hashKey: odd 64-bit numbers with mixed bits.
const (
	hashSeed  = 0x9e3779b97f4a7c15
	hashLen   = 0xa0761d6478bd642f
	hashWord  = 0xe7037ed1a0b428db
	hashTail  = 0x8ebc6af09c88c6e3
	hashFinal = 0x589965cc75374cc3
)

func hashMix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// hashHome returns the first slot to probe for hash h in a table of ns
// slots: the high 32 bits of h scaled to [0, ns).
func hashHome(h, ns uint64) uint64 { return (h >> 32) * ns >> 32 }

// A hash slot is a big-endian unsigned integer of w = 4 or 8 bytes (the
// node says which): the tag, the low 2w bits of the key's hash, in its top
// 2w bits, the distance back to the target in its low 6w bits (24 or 48).
// Zero is a free slot. Writers use 4-byte slots when every distance fits,
// so that the tables of the big nodes take half the cache.
func slotTagBits(w int) uint { return 2 * uint(w) }

func slotDistBits(w int) uint { return 6 * uint(w) }

// slotAt returns slot s of a table of w-byte slots.
func slotAt(slots []byte, s uint64, w int) uint64 {
	if w == 4 {
		return uint64(binary.BigEndian.Uint32(slots[s*4:]))
	}
	return binary.BigEndian.Uint64(slots[s*8:])
}

// slotWidth returns the slot width a writer uses for targets at most
// maxRel bytes back.
func slotWidth(maxRel uint64) int {
	if maxRel < 1<<slotDistBits(4) {
		return 4
	}
	return 8
}

// putSlot enters a key with hash h and target distance rel, which must
// fit the width, into the first free slot from its home on.
func putSlot(slots []byte, w int, h, rel uint64) {
	ns := uint64(len(slots) / w)
	s := hashHome(h, ns)
	for slotAt(slots, s, w) != 0 {
		if s++; s == ns {
			s = 0
		}
	}
	e := (h&(1<<slotTagBits(w)-1))<<slotDistBits(w) | rel
	if w == 4 {
		binary.BigEndian.PutUint32(slots[s*4:], uint32(e))
	} else {
		binary.BigEndian.PutUint64(slots[s*8:], e)
	}
}

// keyPrefix returns the first 8 bytes of a key as a big-endian integer,
// zero-padded. Index entries carry it so that a binary search compares
// integers in the entry table and touches the key bytes only on a tie.
func keyPrefix[S string | []byte](k S) uint64 {
	if len(k) >= 8 {
		return uint64(k[0])<<56 | uint64(k[1])<<48 | uint64(k[2])<<40 | uint64(k[3])<<32 |
			uint64(k[4])<<24 | uint64(k[5])<<16 | uint64(k[6])<<8 | uint64(k[7])
	}
	var p uint64
	for i := 0; i < len(k); i++ {
		p |= uint64(k[i]) << (56 - 8*i)
	}
	return p
}

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

// bodyChecksum computes the CRC-32C of everything after the header.
func bodyChecksum(b []byte) uint32 {
	return crc32.Checksum(b[headerLen:], crcTable)
}
