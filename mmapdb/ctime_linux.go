package mmapdb

import (
	"io/fs"
	"syscall"
)

// changeTime returns the inode change time of a file in unix
// nanoseconds: a write, a rename or a chmod moves it, and no one can set
// it back, so it tells a file from one copied over it with its times.
func changeTime(fi fs.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ctim.Sec*1e9 + st.Ctim.Nsec
	}
	return 0
}
