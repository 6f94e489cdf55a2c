// Package fault turns the memory faults of reading a mapped file into
// errors. transdb maps its database files, and the Perl files it
// imports, read-only; their writers replace them by renaming new files
// into place. A file that another tool writes over in place instead (cp
// over it, rsync --inplace) shrinks under its readers, and a read past
// its new end raises SIGBUS, which ends a Go process unless the reading
// goroutine asked for a panic instead (debug.SetPanicOnFault). Call runs
// a function so.
package fault

import (
	"errors"
	"fmt"
	"runtime/debug"
)

// ErrChanged is the error of a read that faulted: the mapped file
// changed under its reader.
var ErrChanged = errors.New("the mapped file changed under its reader (written over in place?)")

// Call runs fn on the calling goroutine with a memory fault turned into
// an error wrapping ErrChanged; any other panic goes on. Faults of other
// goroutines are not caught: each goroutine that reads a mapping calls
// Call itself.
func Call(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(interface{ Addr() uintptr }) // a fault, as SetPanicOnFault makes it
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("%w: fault at address %#x", ErrChanged, f.Addr())
		}
	}()
	return fn()
}
