package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// EvictPageCache syncs the file at path and asks the kernel to drop its
// pages from the page cache (fadvise DONTNEED), so that the next open reads
// from the disk. Pages that some process still maps stay resident: close
// every reader of the file first, and check with [ResidentPages].
func EvictPageCache(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		return fmt.Errorf("fadvise %s: %w", path, err)
	}
	return nil
}

// ResidentPages reports how many pages of the file at path are in the page
// cache, and how many pages the file has. It maps the file and asks
// mincore, which reads no page in.
func ResidentPages(path string) (resident, total int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	if fi.Size() == 0 {
		return 0, 0, nil
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return 0, 0, fmt.Errorf("mmap %s: %w", path, err)
	}
	defer unix.Munmap(m)
	pageSize := os.Getpagesize()
	vec := make([]byte, (len(m)+pageSize-1)/pageSize)
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0])))
	if errno != 0 {
		return 0, 0, fmt.Errorf("mincore %s: %w", path, errno)
	}
	for _, v := range vec {
		if v&1 != 0 {
			resident++
		}
	}
	return resident, len(vec), nil
}

// Memory is the private memory of this process, from
// /proc/self/smaps_rollup, in KiB.
type Memory struct {
	// Anonymous is memory that belongs to no file (heap, stacks,
	// anonymous mappings); pages of a mapped file are page cache and are
	// not counted here.
	Anonymous int64
	// PrivateDirty is memory written by this process and not shared:
	// anonymous memory plus privately modified file pages.
	PrivateDirty int64
	// RSS is the resident set: everything above plus the mapped file
	// pages this process touched.
	RSS int64
}

// ReadMemory reads the process's memory figures from
// /proc/self/smaps_rollup (Linux 4.14 and later).
func ReadMemory() (Memory, error) {
	data, err := os.ReadFile("/proc/self/smaps_rollup")
	if err != nil {
		return Memory{}, err
	}
	var m Memory
	fields := map[string]*int64{"Anonymous:": &m.Anonymous, "Private_Dirty:": &m.PrivateDirty, "Rss:": &m.RSS}
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) < 2 {
			continue
		}
		if p, ok := fields[string(f[0])]; ok {
			v, err := strconv.ParseInt(string(f[1]), 10, 64)
			if err != nil {
				return Memory{}, fmt.Errorf("smaps_rollup: %s: %w", f[0], err)
			}
			*p = v
			found++
		}
	}
	if found != len(fields) {
		return Memory{}, fmt.Errorf("smaps_rollup: %d of %d fields found", found, len(fields))
	}
	return m, nil
}
