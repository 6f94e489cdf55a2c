package perlmmapdb

import (
	"fmt"
	"runtime/debug"
)

// A mapped Perl file that another tool cuts short in place (cp over it,
// rsync --inplace) while it is open raises SIGBUS on a read past its new
// end, which would end the process: the Perl module replaces its file by
// renaming a new one over it, but nothing stops other tools. Open, Check
// and Import, the reads of a whole file, turn such a fault into an error
// wrapping ErrChanged; the other reads of a File assume, as its
// documentation says, that the file does not change.

// ErrChanged is returned when the mapped file changed under its reader:
// a read faulted, as one past the end of a file cut short does.
var ErrChanged = fmt.Errorf("perlmmapdb: the file changed while it was read (cut short in place?)")

// guarded runs fn with a fault of a read turned into an error wrapping
// ErrChanged; any other panic goes on. Faults are caught on the calling
// goroutine only, the one that reads here.
func guarded[T any](fn func() (T, error)) (res T, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(interface{ Addr() uintptr }) // a memory fault, as SetPanicOnFault makes it
			if !ok {
				panic(r)
			}
			var zero T
			res, err = zero, fmt.Errorf("%w: fault at address %#x", ErrChanged, f.Addr())
		}
	}()
	return fn()
}
