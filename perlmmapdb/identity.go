package perlmmapdb

import (
	"io/fs"
	"syscall"
)

// identity tells versions of the file at a path apart: the module
// replaces a file by renaming a new one over it, which changes the
// device and inode; size and modification time catch a file rewritten in
// place by other tools.
type identity struct {
	dev, ino uint64
	size     int64
	mtime    int64 // Unix nanoseconds
}

func identityOf(fi fs.FileInfo) identity {
	id := identity{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.dev, id.ino = uint64(st.Dev), uint64(st.Ino)
	}
	return id
}
