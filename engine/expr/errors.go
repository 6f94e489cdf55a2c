package expr

import (
	"errors"
	"fmt"
)

// Error is the error type of this package: Compile returns one for source
// that does not parse or uses a construct the language does not offer, and
// Scalar and List return one for a failure while evaluating (die, a method
// call on an undefined value, an assignment the Env refuses, a string that
// grows past MaxString, a division by zero).
//
// Callers that report per action distinguish the three kinds: a syntax
// error (neither flag set), an unsupported Perl construct (Unsupported) and
// a runtime error (Runtime). Upstream, every one of them makes the snippet
// evaluate to undef or the empty list and is logged; the request goes on.
type Error struct {
	// Pos is the byte offset in the source where the problem was found,
	// or -1 when unknown.
	Pos int
	// Msg describes the problem; for die it is the message given to die.
	Msg string
	// Unsupported is set when the source is Perl this language
	// deliberately does not offer (require, my, sub {...}, s///, %ENV,
	// method calls other than the documented $r surface, ...).
	Unsupported bool
	// Runtime is set for errors raised while evaluating a compiled
	// Program.
	Runtime bool
	// Limit is set, with Runtime, when a bound on resources stopped the
	// evaluation (MaxString, MaxMatchWork, a refusal of Env.Spend),
	// not the source itself: the value is not what Perl would compute,
	// so a caller that acts on it (a Cond guarding a refusal) should end
	// its work rather than go on.
	Limit bool
}

// Error formats the error as "expr: <kind> at byte N: <msg>".
func (e *Error) Error() string {
	kind := "syntax error"
	switch {
	case e.Runtime:
		kind = "runtime error"
	case e.Unsupported:
		kind = "unsupported"
	}
	if e.Pos < 0 {
		return fmt.Sprintf("expr: %s: %s", kind, e.Msg)
	}
	return fmt.Sprintf("expr: %s at byte %d: %s", kind, e.Pos, e.Msg)
}

// syntaxErr returns a compile error for malformed source.
func syntaxErr(pos int, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// unsupported returns a compile error for a Perl construct the language
// does not offer.
func unsupported(pos int, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...), Unsupported: true}
}

// ErrLimit is what an Env's error wraps when it refuses work or an
// assignment because of a bound on resources (see Env.Spend): the
// evaluation then fails with an Error whose Limit is set.
var ErrLimit = errors.New("past a bound on resources")

// envErr turns an error of an Env's method into a runtime error, a
// Limit one when it wraps ErrLimit.
func envErr(pos int, err error) *Error {
	if errors.Is(err, ErrLimit) {
		return limitErr(pos, "%v", err)
	}
	return runtimeErr(pos, "%v", err)
}

// limitErr returns an evaluation error of a bound on resources.
func limitErr(pos int, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...), Runtime: true, Limit: true}
}

// runtimeErr returns an evaluation error.
func runtimeErr(pos int, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...), Runtime: true}
}
