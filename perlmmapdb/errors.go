package perlmmapdb

import "errors"

// Sentinel errors. Every error of this package that stems from one of
// these conditions wraps the matching value, so callers test with
// errors.Is. I/O errors are wrapped with the operation and the path.
var (
	// ErrBadMagic is returned for a file that is not a Perl MMapDB file:
	// its first four bytes are neither MMDB nor MMDC.
	ErrBadMagic = errors.New("perlmmapdb: not a Perl MMapDB file (bad magic)")

	// ErrSuperseded is returned for a file whose byte 4 is 0: the Perl
	// module has replaced it with a newer version at the same path, and
	// zeroed that byte of the old file. Open the path again for the
	// new one.
	ErrSuperseded = errors.New("perlmmapdb: file superseded by a newer version (byte 4 is 0)")

	// ErrCorrupt is returned when a file's structure is wrong: truncated,
	// an offset outside its section, a header that fits no integer
	// format, or access paths (data section, ID index, main index) that
	// disagree.
	ErrCorrupt = errors.New("perlmmapdb: corrupt file")

	// ErrIndexLoop is returned when an index is reached twice in a walk
	// of the main index, as a loop makes it. Errors wrapping it wrap
	// ErrCorrupt too.
	ErrIndexLoop = errors.New("perlmmapdb: loop in the index")

	// ErrUnsupported is returned by Export for a database that the
	// chosen integer format cannot hold: an ID or a position beyond its
	// range.
	ErrUnsupported = errors.New("perlmmapdb: cannot be written in this integer format")
)

// formatError is a finding about a file's structure: it wraps kind and,
// for kinds other than ErrCorrupt, ErrCorrupt as well.
type formatError struct {
	kind error
	msg  string
}

func (e *formatError) Error() string { return e.kind.Error() + ": " + e.msg }

func (e *formatError) Unwrap() []error {
	if e.kind == ErrCorrupt {
		return []error{ErrCorrupt}
	}
	return []error{e.kind, ErrCorrupt}
}

// ErrClosed is returned by the methods of a File after Close.
var ErrClosed = errors.New("perlmmapdb: file is closed")
