package mmapdb

import (
	"io/fs"
	"sync"
)

// The files this process has verified whole, so that a version mapped
// from one of them later is known to be sound without reading it all
// again (Snapshot.Verified): a follower installs each version it receives
// with Install, which verifies the file first, and the server that then
// maps the installed file need not verify it a second time. Files are
// never written once in place (a new version is a new file, renamed over
// the old one), so a file is known by its identity, the device and inode,
// with its modification and inode change times and the generation,
// length and body checksum of its header, which tell a file that got a
// recycled inode, or one written over in place after all, from the one
// verified: a write or a copy moves the change time, which no one can
// set back.

// fileMark identifies a verified file.
type fileMark struct {
	dev, ino, generation, length uint64
	mtime, ctime                 int64
	bodyCRC                      uint32
}

// maxMarks bounds the files remembered: the last ones verified, which
// are the ones about to be mapped.
const maxMarks = 32

// marks are the files verified last, in a ring.
var marks struct {
	mu   sync.Mutex
	ring [maxMarks]fileMark
	next int
	// installing is held by Install from its rename until it has marked
	// the file it put in place as verified.
	installing sync.RWMutex
}

// mark returns the identity of v's file; ok is false when the file's
// identity is unknown (a version of bytes, not of a file).
func (v *version) mark() (m fileMark, ok bool) {
	if v.h == nil || v.dev == 0 && v.ino == 0 {
		return fileMark{}, false
	}
	return fileMark{dev: v.dev, ino: v.ino, mtime: v.mtime, ctime: v.ctime, generation: v.h.generation,
		length: v.h.length, bodyCRC: v.h.bodyCRC}, true
}

// markOf returns the identity of the file fi whose header is h.
func markOf(fi fs.FileInfo, h *header) fileMark {
	dev, ino := fileIdentity(fi)
	return fileMark{dev: dev, ino: ino, mtime: fi.ModTime().UnixNano(), ctime: changeTime(fi),
		generation: h.generation, length: h.length, bodyCRC: h.bodyCRC}
}

// markVerified remembers that the file m identifies verified.
func markVerified(m fileMark) {
	if m.dev == 0 && m.ino == 0 {
		return
	}
	marks.mu.Lock()
	defer marks.mu.Unlock()
	for _, old := range marks.ring {
		if old == m {
			return
		}
	}
	marks.ring[marks.next] = m
	marks.next = (marks.next + 1) % maxMarks
}

// verified reports whether this process has verified v's file.
func (v *version) verified() bool {
	m, ok := v.mark()
	if !ok {
		return false
	}
	// Wait for an Install between its rename and its mark: the file it
	// put in place is verified, and is about to say so.
	marks.installing.RLock()
	marks.installing.RUnlock()
	marks.mu.Lock()
	defer marks.mu.Unlock()
	for _, old := range marks.ring {
		if old == m {
			return true
		}
	}
	return false
}
