package bench

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"unsafe"

	"transdb/translation/transgen"
)

// Map is the load-everything provider: the table lives in a flat file and
// is loaded whole into a map[key]map[uri][]entry on open; a lookup is two
// map reads and returns the slice. Every commit rewrites the whole file
// (write a temp file, fsync, rename, fsync the directory).
//
// The file holds the magic "TGMAP001", the record count as a uvarint, then
// per record: uvarint length and bytes of the key, of the uri, block and
// order as 4-byte big-endian numbers, uvarint length and bytes of the
// action. The loader makes one string of the whole file and slices keys,
// uris and actions out of it, which is the cheapest load a Go map allows.
type Map struct{}

// mapMagic starts every map file.
const mapMagic = "TGMAP001"

// ErrMapFormat reports a map file that is truncated or not a map file.
var ErrMapFormat = errors.New("bench: not a valid map file")

// mapEntry is one record of a block list.
type mapEntry struct {
	Block, Order uint32
	Action       string
}

type mapTable map[string]map[string][]mapEntry

// Name returns "map".
func (Map) Name() string { return "map" }

// Build writes rows to a new map file at path.
func (Map) Build(path string, rows []transgen.Row) error {
	return writeMapFile(path, len(rows), slices.Values(rows))
}

// Open loads the whole map file at path into memory.
func (Map) Open(path string) (Reader, error) {
	t, _, err := loadMap(path)
	if err != nil {
		return nil, err
	}
	return &mapReader{t: t}, nil
}

// OpenWriter loads the map file at path; each commit rewrites it.
func (Map) OpenWriter(path string) (Writer, error) {
	t, n, err := loadMap(path)
	if err != nil {
		return nil, err
	}
	return &mapWriter{path: path, t: t, n: n}, nil
}

type mapReader struct{ t mapTable }

// Lookup is two map reads; the block list is the slice itself.
func (r *mapReader) Lookup(key, uri string) (int, uint64) {
	list := r.t[key][uri]
	var sum uint64
	for i := range list {
		e := &list[i]
		sum += Touch(e.Block, e.Order, e.Action)
	}
	return len(list), sum
}

func (r *mapReader) Close() error { r.t = nil; return nil }

type mapWriter struct {
	path string
	t    mapTable
	n    int
}

// Commit adds row to the in-memory table and rewrites the whole file.
func (w *mapWriter) Commit(row transgen.Row) error {
	uris := w.t[row.Key]
	if uris == nil {
		uris = map[string][]mapEntry{}
		w.t[row.Key] = uris
	}
	list := uris[row.URI]
	e := mapEntry{row.Block, row.Order, row.Action}
	i := len(list)
	for i > 0 && (list[i-1].Block > e.Block || list[i-1].Block == e.Block && list[i-1].Order > e.Order) {
		i--
	}
	uris[row.URI] = slices.Insert(list, i, e)
	w.n++
	return writeMapFile(w.path, w.n, w.t.rows())
}

func (w *mapWriter) Close() error { w.t = nil; return nil }

// rows yields every record of the table, in map order.
func (t mapTable) rows() iter.Seq[transgen.Row] {
	return func(yield func(transgen.Row) bool) {
		for key, uris := range t {
			for uri, list := range uris {
				for _, e := range list {
					if !yield(transgen.Row{Key: key, URI: uri, Block: e.Block, Order: e.Order, Action: e.Action}) {
						return
					}
				}
			}
		}
	}
}

// writeMapFile writes count records to a temp file beside path, syncs it
// and renames it over path.
func writeMapFile(path string, count int, rows iter.Seq[transgen.Row]) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	var num [binary.MaxVarintLen64]byte
	putString := func(s string) {
		w.Write(binary.AppendUvarint(num[:0], uint64(len(s))))
		w.WriteString(s)
	}
	w.WriteString(mapMagic)
	w.Write(binary.AppendUvarint(num[:0], uint64(count)))
	written := 0
	for r := range rows {
		putString(r.Key)
		putString(r.URI)
		w.Write(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(num[:0], r.Block), r.Order))
		putString(r.Action)
		written++
	}
	if written != count {
		return fmt.Errorf("write %s: %d records, header says %d", path, written, count)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// loadMap reads the map file at path into a table and returns it with its
// record count.
func loadMap(path string) (mapTable, int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	t, n, err := decodeMap(data)
	if err != nil {
		return nil, 0, fmt.Errorf("load %s: %w", path, err)
	}
	return t, n, nil
}

// decodeMap decodes a map file. The strings of the table alias data, which
// must not change afterwards.
func decodeMap(data []byte) (mapTable, int, error) {
	if len(data) < len(mapMagic) || string(data[:len(mapMagic)]) != mapMagic {
		return nil, 0, ErrMapFormat
	}
	var s string
	if len(data) > 0 {
		s = unsafe.String(&data[0], len(data)) // data is never written again
	}
	d := mapDecoder{s: s, off: len(mapMagic)}
	count := d.uvarint()
	if d.err != nil || count > uint64(len(s)) {
		return nil, 0, ErrMapFormat
	}
	t := mapTable{}
	var (
		uris    map[string][]mapEntry
		lastKey string
		lastURI string
		list    []mapEntry
	)
	flush := func() {
		if list != nil {
			uris[lastURI] = list
			list = nil
		}
	}
	for i := uint64(0); i < count; i++ {
		key, uri := d.str(), d.str()
		block, order := d.uint32(), d.uint32()
		action := d.str()
		if d.err != nil {
			return nil, 0, d.err
		}
		if key != lastKey || uris == nil {
			flush()
			uris = t[key]
			if uris == nil {
				uris = map[string][]mapEntry{}
				t[key] = uris
			}
			lastKey, lastURI = key, uri
			list = uris[uri]
		} else if uri != lastURI {
			flush()
			lastURI = uri
			list = uris[uri]
		}
		list = append(list, mapEntry{block, order, action})
	}
	flush()
	if d.off != len(s) {
		return nil, 0, ErrMapFormat
	}
	return t, int(count), nil
}

// mapDecoder reads the fields of a map file, checking every length against
// the input; the first failure sticks in err.
type mapDecoder struct {
	s   string
	off int
	err error
}

func (d *mapDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	var x uint64
	for shift := 0; shift < 64; shift += 7 {
		if d.off >= len(d.s) {
			break
		}
		b := d.s[d.off]
		d.off++
		x |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return x
		}
	}
	d.err = ErrMapFormat
	return 0
}

func (d *mapDecoder) str() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.s)-d.off) {
		d.err = ErrMapFormat
		return ""
	}
	s := d.s[d.off : d.off+int(n)]
	d.off += int(n)
	return s
}

func (d *mapDecoder) uint32() uint32 {
	if d.err != nil {
		return 0
	}
	if len(d.s)-d.off < 4 {
		d.err = ErrMapFormat
		return 0
	}
	b := d.s[d.off : d.off+4]
	x := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	d.off += 4
	return x
}
