package perlmmapdb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"transdb/internal/fault"
	"unsafe"

	"github.com/edsrzf/mmap-go"
)

// Header layout (FORMAT-NOTES section 2): magic, integer format, flags,
// two reserved bytes, then four words.
const (
	magic0    = "MMDB" // format 0
	magic1    = "MMDC" // format 1: strings carry Perl's UTF-8 flag
	intfmtOff = 4      // the integer format letter, 0 once superseded
	wordsOff  = 8      // MAINIDX, IDIDX, NEXTID, STRINGTBL

	// minFileSize is the size of the smallest database, an empty one
	// with 4-byte integers: header, an index of no records, an ID index
	// of none.
	minFileSize = wordsOff + 4*4 + 2*4 + 4
)

// The integer formats: the letter of byte 4, as Perl's pack names it.
const (
	IntN byte = 'N' // 4 bytes, big-endian: the module's default, portable
	IntL byte = 'L' // 4 bytes, the writer's byte order
	IntJ byte = 'J' // a Perl UV: 8 bytes on 64-bit perls, 4 on 32-bit ones
	IntQ byte = 'Q' // 8 bytes, the writer's byte order
)

// wordKind is one reading of the integers of a file: a width and a byte
// order. The file names the format letter only, so L, J and Q files are
// read in every reading the letter allows until the header makes sense.
type wordKind uint8

const (
	word4BE wordKind = iota
	word4LE
	word8BE
	word8LE
)

func (k wordKind) size() uint64 {
	if k >= word8BE {
		return 8
	}
	return 4
}

// readings lists the readings to try for each format letter, the most
// likely first: the samples come from x86 writers, little-endian, with
// 8-byte J.
func readings(intfmt byte) []wordKind {
	switch intfmt {
	case IntN:
		return []wordKind{word4BE}
	case IntL:
		return []wordKind{word4LE, word4BE}
	case IntQ:
		return []wordKind{word8LE, word8BE}
	case IntJ:
		return []wordKind{word8LE, word4LE, word8BE, word4BE}
	}
	return nil
}

// File is a Perl MMapDB file, mapped read-only (Open) or held in memory
// (NewFile). Every offset read from it is checked before use; a damaged
// or hostile file gives an error wrapping ErrCorrupt, never a panic.
// The byte slices a File hands out alias the mapping and stay valid until
// Close. A File is safe for concurrent reads.
type File struct {
	data   []byte
	mm     mmap.MMap // nil for NewFile
	format int       // 0 (MMDB) or 1 (MMDC)
	intfmt byte
	kind   wordKind
	w      uint64 // word size: 4 or 8

	dataStart, mainIdx, idIdx, nextID, strTbl uint64
	nids                                      uint64

	ident identity // of the file Open opened; zero for NewFile
}

// Open maps the file at path read-only and reads its header; it reads
// nothing else, so it costs the same for any size. A superseded file
// (byte 4 is 0) fails with ErrSuperseded: open the path again after a
// moment, as the Perl module retries, to get the newer version. The
// mapping is shared, so Superseded notices when the Perl module replaces
// the file later. Close the File to unmap it.
func Open(path string) (*File, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("perlmmapdb: %w", err)
	}
	defer fd.Close()
	fi, err := fd.Stat()
	if err != nil {
		return nil, fmt.Errorf("perlmmapdb: %w", err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("perlmmapdb: open %s: is a directory", path)
	}
	size := fi.Size()
	if size < minFileSize {
		// Too short to map, and for any database: read it to tell a
		// foreign file from a truncated one.
		b := make([]byte, size)
		n, _ := fd.ReadAt(b, 0)
		_, err := NewFile(b[:n])
		if err == nil {
			err = corruptf("file of %d bytes is truncated", size)
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if int64(int(size)) != size {
		return nil, fmt.Errorf("open %s: %w: file of %d bytes does not fit the address space", path, ErrCorrupt, size)
	}
	mm, err := fault.Map(fd, int(size))
	if err != nil {
		return nil, fmt.Errorf("perlmmapdb: mmap %s: %w", path, err)
	}
	f, err := guarded(func() (*File, error) { return NewFile(mm) })
	if err != nil {
		_ = fault.Unmap(mm)
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	f.mm = mm
	f.ident = identityOf(fi)
	return f, nil
}

// NewFile reads the Perl MMapDB file held in data, which must not change
// while the File is used, except for byte 4. It checks the header only.
func NewFile(data []byte) (*File, error) {
	if len(data) < intfmtOff+1 || !bytes.Equal(data[:4], []byte(magic0)) && !bytes.Equal(data[:4], []byte(magic1)) {
		n := min(len(data), 4)
		return nil, fmt.Errorf("%w: file starts with %q", ErrBadMagic, data[:n])
	}
	f := &File{data: data, intfmt: data[intfmtOff]}
	if data[3] == 'C' {
		f.format = 1
	}
	if f.intfmt == 0 {
		return nil, ErrSuperseded
	}
	kinds := readings(f.intfmt)
	if kinds == nil {
		return nil, corruptf("unknown integer format %q in byte 4", f.intfmt)
	}
	var first error
	for _, k := range kinds {
		err := f.readHeader(k)
		if err == nil {
			return f, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

// readHeader reads the header words in the reading k and checks what
// every file written by the module satisfies.
func (f *File) readHeader(k wordKind) error {
	f.kind, f.w = k, k.size()
	size := uint64(len(f.data))
	f.dataStart = wordsOff + 4*f.w
	if size < f.dataStart {
		return corruptf("file of %d bytes is truncated: the header needs %d", size, f.dataStart)
	}
	f.mainIdx, _ = f.word(wordsOff)
	f.idIdx, _ = f.word(wordsOff + f.w)
	f.nextID, _ = f.word(wordsOff + 2*f.w)
	f.strTbl, _ = f.word(wordsOff + 3*f.w)
	switch {
	case f.strTbl > size:
		return corruptf("file of %d bytes is truncated: its string table starts at %d", size, f.strTbl)
	case f.mainIdx < f.dataStart || f.mainIdx > f.idIdx || f.idIdx >= f.strTbl:
		return corruptf("header words out of order: main index %d, ID index %d, string table %d", f.mainIdx, f.idIdx, f.strTbl)
	case (f.mainIdx-f.dataStart)%f.w != 0 || (f.idIdx-f.mainIdx)%f.w != 0 || (f.strTbl-f.idIdx)%f.w != 0:
		return corruptf("header words not aligned to %d bytes", f.w)
	case f.idIdx-f.mainIdx < 2*f.w:
		return corruptf("main index at %d does not fit before the ID index at %d", f.mainIdx, f.idIdx)
	}
	n, _ := f.word(f.idIdx)
	// The string table follows the ID index directly.
	if n > (f.strTbl-f.idIdx-f.w)/(2*f.w) || f.idIdx+f.w+2*f.w*n != f.strTbl {
		return corruptf("ID index of %d entries at %d does not end at the string table at %d", n, f.idIdx, f.strTbl)
	}
	f.nids = n
	return nil
}

// Close unmaps the file of Open; the slices handed out become invalid.
// For a File of NewFile it does nothing.
func (f *File) Close() error {
	if f.mm == nil {
		return nil
	}
	mm := f.mm
	f.mm, f.data = nil, nil
	if err := fault.Unmap(mm); err != nil {
		return fmt.Errorf("perlmmapdb: unmap: %w", err)
	}
	return nil
}

// Format returns the database format: 0 for MMDB files, 1 for MMDC files,
// whose strings carry Perl's UTF-8 flag.
func (f *File) Format() int { return f.format }

// IntFormat returns the integer format letter of byte 4 as read at
// open: IntN, IntL, IntJ or IntQ.
func (f *File) IntFormat() byte { return f.intfmt }

// WordSize returns the size of the file's integers in bytes, 4 or 8, as
// the header showed it (J files are 8 bytes wide unless a 32-bit perl
// wrote them).
func (f *File) WordSize() int { return int(f.w) }

// BigEndian reports whether the file's integers are big-endian: always
// for N, for L, J and Q only when a big-endian machine wrote them.
func (f *File) BigEndian() bool { return f.kind == word4BE || f.kind == word8BE }

// NextID returns the NEXTID header word: the ID the module tries first
// for its next insert.
func (f *File) NextID() uint64 { return f.nextID }

// Len returns the number of live records: the entries of the ID index.
func (f *File) Len() int { return int(f.nids) }

// Size returns the file size in bytes.
func (f *File) Size() int64 { return int64(len(f.data)) }

// Superseded reports whether the Perl module has replaced the file since
// it was opened: byte 4 is 0 in the shared mapping. The file stays
// readable, a consistent older version.
func (f *File) Superseded() bool {
	if len(f.data) <= intfmtOff {
		return true
	}
	return f.data[intfmtOff] == 0
}

// word reads the integer at off; ok is false when it does not fit the
// file.
func (f *File) word(off uint64) (v uint64, ok bool) {
	size := uint64(len(f.data))
	if off > size || size-off < f.w {
		return 0, false
	}
	b := f.data[off:]
	switch f.kind {
	case word4BE:
		return uint64(binary.BigEndian.Uint32(b)), true
	case word4LE:
		return uint64(binary.LittleEndian.Uint32(b)), true
	case word8BE:
		return binary.BigEndian.Uint64(b), true
	default:
		return binary.LittleEndian.Uint64(b), true
	}
}

// String is a string of the file: its bytes and, in format 1, Perl's
// UTF-8 flag. Bytes aliases the mapping.
type String struct {
	Bytes []byte
	// UTF8 is the flag of a format 1 file: the bytes are the UTF-8
	// encoding of a character string. Off, they are raw octets (Latin-1
	// characters to Perl), which need not be valid UTF-8. Format 0 files
	// store no flag: it is always off there.
	UTF8 bool
}

// str reads the string at offset o of the string table.
func (f *File) str(o uint64) (String, error) {
	size := uint64(len(f.data))
	if o >= size-f.strTbl || o&(f.w-1) != 0 {
		return String{}, corruptf("string at offset %d of the string table (at %d, %d bytes)", o, f.strTbl, size-f.strTbl)
	}
	p := f.strTbl + o
	n, ok := f.word(p)
	start := p + f.w
	if !ok || n > size-start {
		return String{}, corruptf("string at %d: length %d beyond the end of the file", p, n)
	}
	end := start + n
	s := String{Bytes: f.data[start:end:end]}
	// The entry is padded to a whole number of words, which every entry
	// but a truncated last one has.
	padded := (end + uint64(f.format) + f.w - 1) &^ (f.w - 1)
	if padded > size {
		return String{}, corruptf("string at %d: entry of %d bytes beyond the end of the file", p, padded-p)
	}
	if f.format == 1 {
		switch f.data[end] {
		case 0:
		case 1:
			s.UTF8 = true
		default:
			return String{}, corruptf("string at %d: UTF-8 flag %d", p, f.data[end])
		}
	}
	return s, nil
}

// bstr views b as a string without copying; the string aliases b.
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

func corruptf(format string, args ...any) error {
	return &formatError{kind: ErrCorrupt, msg: fmt.Sprintf(format, args...)}
}
