package conf

import (
	"errors"
	"fmt"
)

// ErrNoProvider is wrapped by the *ParseError returned for a configuration
// that declares no translation provider at all; transdbd needs at least one.
var ErrNoProvider = errors.New("no TranslationProvider configured")

// ParseError describes a problem in a configuration file. Every error that
// Parse, Load and Default return for bad configuration text is a
// *ParseError; use errors.As to get at the file and line.
type ParseError struct {
	// File is the name passed to Parse, or the path passed to Load.
	File string
	// Line is the 1-based line on which the offending directive starts
	// (for a continued line, its first physical line). It is 0 when the
	// problem concerns the file as a whole, as for ErrNoProvider.
	Line int
	// Msg says what is wrong, without the file and line.
	Msg string
	// Err is a sentinel error for errors.Is (ErrNoProvider), or nil.
	Err error
}

// Error formats the error as "file:line: msg", or "file: msg" when Line
// is 0.
func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Unwrap returns Err.
func (e *ParseError) Unwrap() error { return e.Err }
