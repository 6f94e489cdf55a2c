// Package fault turns the memory faults of reading a mapped file into
// errors. transdb maps its database files, and the Perl files it
// imports, read-only; their writers replace them by renaming new files
// into place. A file that another tool writes over in place instead (cp
// over it, rsync --inplace) shrinks under its readers, and a read past
// its new end raises SIGBUS, which ends a Go process unless the reading
// goroutine asked for a panic instead (debug.SetPanicOnFault). Call runs
// a function so.
//
// Only the mappings of Map count, and those it unmapped last: a fault at
// any other address is a defect of the program, not a changed file, and
// Call lets its panic go on.
package fault

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"sync"
	"unsafe"

	"github.com/edsrzf/mmap-go"
)

// ErrChanged is the error of a read that faulted: the mapped file
// changed under its reader.
var ErrChanged = errors.New("the mapped file changed under its reader (written over in place?)")

// Call runs fn on the calling goroutine with a memory fault inside a
// mapping of Map turned into an error wrapping ErrChanged; any other
// panic, and a fault anywhere else, goes on. Faults of other goroutines
// are not caught: each goroutine that reads a mapping calls Call itself.
func Call(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(interface{ Addr() uintptr }) // a fault, as SetPanicOnFault makes it
			if !ok || !mapped(f.Addr()) {
				panic(r)
			}
			err = fmt.Errorf("%w: fault at address %#x", ErrChanged, f.Addr())
		}
	}()
	return fn()
}

// Map maps the first size bytes of f read-only, shared, as a mapping
// whose faults Call turns into errors. size must be positive.
func Map(f *os.File, size int) (mmap.MMap, error) {
	m, err := mmap.MapRegion(f, size, mmap.RDONLY, 0, 0)
	if err != nil {
		return nil, err
	}
	regions.Lock()
	regions.m[start(m)] = uintptr(len(m))
	regions.Unlock()
	return m, nil
}

// Unmap unmaps a mapping of Map. Its region still counts as a mapping
// of Map for a while, so that a fault in it is reported as a change when
// the unmapping happened on the way out of the faulting function (its
// deferred release of the last reference, say), before Call's recover
// ran: the last retiredRegions regions unmapped count.
func Unmap(m mmap.MMap) error {
	if len(m) == 0 {
		return nil
	}
	regions.Lock()
	s := start(m)
	delete(regions.m, s)
	regions.retired[regions.next] = region{s, uintptr(len(m))}
	regions.next = (regions.next + 1) % retiredRegions
	regions.Unlock()
	return m.Unmap()
}

// retiredRegions is how many unmapped regions still count as mappings
// of Map: far more than can be unmapped between a fault and the recover
// of its Call, which runs the faulting goroutine's deferred calls only.
const retiredRegions = 64

// regions holds the mappings of Map, the length of each by its start,
// and the last regions unmapped.
var regions = struct {
	sync.Mutex
	m       map[uintptr]uintptr
	retired [retiredRegions]region
	next    int
}{m: make(map[uintptr]uintptr)}

// A region is the start and length of a mapping.
type region struct{ start, n uintptr }

// start returns the address of m's first byte.
func start(m mmap.MMap) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(m))) }

// mapped reports whether addr lies in a mapping of Map, or in one of the
// regions it unmapped last. It runs after a fault only, so a scan of the
// few mappings is enough.
func mapped(addr uintptr) bool {
	regions.Lock()
	defer regions.Unlock()
	for s, n := range regions.m {
		if addr-s < n {
			return true
		}
	}
	for _, r := range regions.retired {
		if addr-r.start < r.n {
			return true
		}
	}
	return false
}
