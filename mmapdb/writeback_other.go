//go:build !linux

package mmapdb

import "os"

// startWriteback does nothing where sync_file_range is missing: the final
// fsync writes everything.
func startWriteback(f *os.File, off, n int64) {}
