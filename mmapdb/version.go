package mmapdb

import (
	"encoding/binary"
	"fmt"
	"os"
	"sync/atomic"
	"transdb/internal/fault"

	"github.com/edsrzf/mmap-go"
)

// version is one mapped file. It is immutable apart from the valid flag,
// which a committer in any process clears once the file is superseded.
type version struct {
	refs     atomic.Int64 // the DB's reference plus one per Snapshot
	data     []byte       // the read-only mapping of the whole file
	mm       mmap.MMap
	head     mmap.MMap // the first page mapped once more, for the valid flag
	h        *header
	dev, ino uint64 // file identity, to notice files replaced by other tools
	mtime    int64  // the file's modification time, unix nanoseconds
	ctime    int64  // its inode change time (changeTime)
	serial   uint64 // the version's place among the mappings of this process
	created  uint64 // the header's creation time, as the file had it when mapped
}

// sameFile reports whether fi is v's file as v mapped it. Its identity
// tells a file renamed into place, as writers replace the database; its
// size and modification time, one written over in place by another tool
// (cp over it), which must be mapped again: the old mapping sees the new
// bytes, and faults past a shorter end. The change time is not compared:
// chmod and links move it without changing a byte, and each would cost a
// mapping and a verification of the whole file.
func (v *version) sameFile(fi os.FileInfo) bool {
	dev, ino := fileIdentity(fi)
	return v.dev == dev && v.ino == ino && int64(len(v.data)) == fi.Size() &&
		v.mtime == fi.ModTime().UnixNano()
}

// current reports whether fi is v's file with the header v mapped: the
// same file (sameFile), not written over in place (unchanged).
func (v *version) current(fi os.FileInfo) bool {
	if !v.sameFile(fi) {
		return false
	}
	// The file may have been cut short since fi: a fault is a change.
	same := false
	_ = fault.Call(func() error { same = v.unchanged(); return nil })
	return same
}

// pinnedValid is valid for a version the caller has pinned. A read that
// faults (its file cut short in place, see package fault) panics: the
// pin is released first, so that the version can still be unmapped.
func (v *version) pinnedValid() bool {
	done := false
	defer func() {
		if !done {
			v.release()
		}
	}()
	ok := v.valid()
	done = true
	return ok
}

// mappings counts the versions this process has mapped.
var mappings atomic.Uint64

// openVersion maps the file at path read-only and checks its header. It
// reads nothing but the header: the cost does not depend on the file size.
// The returned version holds one reference.
func openVersion(path string) (*version, error) {
	f, err := openReadOnly(path)
	if err != nil {
		return nil, fmt.Errorf("mmapdb: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("mmapdb: %w", err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("mmapdb: open %s: is a directory", path)
	}
	size := fi.Size()
	if size == 0 {
		return nil, fmt.Errorf("open %s: %w: file is empty", path, ErrCorrupt)
	}
	if int64(int(size)) != size {
		return nil, fmt.Errorf("open %s: %w: file of %d bytes does not fit the address space", path, ErrCorrupt, size)
	}
	mm, err := fault.Map(f, int(size))
	if err != nil {
		return nil, fmt.Errorf("mmapdb: mmap %s: %w", path, err)
	}
	// Lookups touch a few scattered pages; read-ahead would pull in
	// megabytes the lookup never needs, so advise before touching anything.
	adviseRandom(mm)
	// The header, with the valid flag every Snapshot reads, gets a mapping
	// of its own page: a fault there maps that page alone, where a fault
	// in the big mapping may map a whole large folio of the page cache,
	// hundreds of pages the lookups may never need.
	head, err := fault.Map(f, min(int(size), os.Getpagesize()))
	if err != nil {
		_ = fault.Unmap(mm)
		return nil, fmt.Errorf("mmapdb: mmap %s: %w", path, err)
	}
	adviseRandom(head) // the header's fault must not read ahead either
	v := &version{data: mm, mm: mm, head: head, serial: mappings.Add(1)}
	v.dev, v.ino = fileIdentity(fi)
	v.mtime, v.ctime = fi.ModTime().UnixNano(), changeTime(fi)
	// The file may be cut short under the mapping already: a read that
	// faults is an error, not the end of the process.
	err = fault.Call(func() (err error) {
		if v.h, err = decodeHeader(head); err != nil {
			return err
		}
		if v.h.length != uint64(size) {
			return fmt.Errorf("%w: header says %d bytes, file has %d", ErrCorrupt, v.h.length, size)
		}
		v.created = v.headCreated()
		return nil
	})
	if err != nil {
		v.unmap()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	v.refs.Store(1)
	return v, nil
}

// bodyIntact reports whether v's body has the checksum its header says,
// reading all of it; a read that faults is a body that is not.
func (v *version) bodyIntact() bool {
	ok := false
	_ = fault.Call(func() error { ok = bodyChecksum(v.data) == v.h.bodyCRC; return nil })
	return ok
}

// unmap unmaps the file.
func (v *version) unmap() {
	_ = fault.Unmap(v.head)
	_ = fault.Unmap(v.mm)
}

// valid reports whether no committer has superseded this version and no
// other tool has written another version over its file in place (a cp
// that keeps the size and the modification time goes unseen by
// sameFile). It is a plain read of the mapping: no system call.
func (v *version) valid() bool { return v.head[validOff] == mpTrue && v.unchanged() }

// unchanged reports whether the file still has the header v mapped: every
// version has a creation time of its own, in nanoseconds.
func (v *version) unchanged() bool { return v.headCreated() == v.created }

// headCreated reads the creation time in the mapped header.
func (v *version) headCreated() uint64 {
	return binary.BigEndian.Uint64(v.head[createdOff : createdOff+8])
}

// acquire takes a reference unless the version is already released.
func (v *version) acquire() bool {
	for {
		n := v.refs.Load()
		if n <= 0 {
			return false
		}
		if v.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// release drops a reference; the last one unmaps the file.
func (v *version) release() {
	if v.refs.Add(-1) == 0 {
		v.unmap()
	}
}
