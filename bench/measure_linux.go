package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"

	"transdb/internal/pagecache"
)

// EvictPageCache syncs the file at path and asks the kernel to drop its
// pages from the page cache (fadvise DONTNEED), so that the next open reads
// from the disk. Pages that some process still maps stay resident: close
// every reader of the file first, and check with [ResidentPages].
func EvictPageCache(path string) error { return pagecache.Evict(path) }

// ResidentPages reports how many pages of the file at path are in the page
// cache, and how many pages the file has. It maps the file and asks
// mincore, which reads no page in.
func ResidentPages(path string) (resident, total int, err error) { return pagecache.Resident(path) }

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

// LoadAverage returns the 1-minute load average as /proc/loadavg has it,
// or "?": the benchmarks print it with their results, since the machines
// they run on are shared.
func LoadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := bytes.Fields(data); len(f) > 0 {
		return string(f[0])
	}
	return "?"
}
