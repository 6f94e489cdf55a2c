package perlmmapdb

import "transdb/internal/fault"

// A mapped Perl file that another tool cuts short in place (cp over it,
// rsync --inplace) while it is open faults on a read past its new end,
// which would end the process: the Perl module replaces its file by
// renaming a new one over it, but nothing stops other tools. Open, Check
// and Import, the reads of a whole file, turn such a fault into an error
// wrapping ErrChanged; the other reads of a File assume, as its
// documentation says, that the file does not change.

// ErrChanged is returned when the mapped file changed under its reader:
// a read faulted, as one past the end of a file cut short does.
var ErrChanged = fault.ErrChanged

// guarded runs fn with a fault of a read turned into an error wrapping
// ErrChanged (see fault.Call).
func guarded[T any](fn func() (T, error)) (res T, err error) {
	err = fault.Call(func() error {
		res, err = fn()
		return err
	})
	return res, err
}
