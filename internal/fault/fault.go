// Package fault turns the memory faults of reading a mapped file into
// errors. transdb maps its database files, and the Perl files it
// imports, read-only; their writers replace them by renaming new files
// into place. A file that another tool writes over in place instead (cp
// over it, rsync --inplace) shrinks under its readers, and a read past
// its new end raises SIGBUS, which ends a Go process unless the reading
// goroutine asked for a panic instead (debug.SetPanicOnFault). Call runs
// a function so.
//
// Only the mappings of Map count: a fault at any other address is a
// defect of the program, not a changed file, and Call lets its panic go
// on.
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

// Unmap unmaps a mapping of Map. A fault in it afterwards is a defect.
func Unmap(m mmap.MMap) error {
	if len(m) == 0 {
		return nil
	}
	regions.Lock()
	delete(regions.m, start(m))
	regions.Unlock()
	return m.Unmap()
}

// regions holds the mappings of Map: the length of each by its start.
var regions = struct {
	sync.Mutex
	m map[uintptr]uintptr
}{m: make(map[uintptr]uintptr)}

// start returns the address of m's first byte.
func start(m mmap.MMap) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(m))) }

// mapped reports whether addr lies in a mapping of Map. It runs after a
// fault only, so a scan of the few mappings is enough.
func mapped(addr uintptr) bool {
	regions.Lock()
	defer regions.Unlock()
	for s, n := range regions.m {
		if addr-s < n {
			return true
		}
	}
	return false
}
