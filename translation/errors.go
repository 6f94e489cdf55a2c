package translation

import (
	"errors"
	"fmt"

	"transdb/mmapdb"
)

// Errors returned by the package. Test for them with errors.Is; the
// returned errors wrap them with the operation and the offending value.
var (
	// ErrInvalidRecord reports a record that cannot be stored or written:
	// an empty key or uri, or white space in one of them (white space
	// separates the fields of the text formats, so it is never part of a
	// key or uri), or, for the jsonl writer, text that is not valid UTF-8.
	ErrInvalidRecord = errors.New("invalid record")

	// ErrFormat reports malformed input to a Reader. Every *ParseError
	// matches it.
	ErrFormat = errors.New("malformed input")

	// ErrUnknownFormat reports a format name other than text, file or
	// jsonl.
	ErrUnknownFormat = errors.New("unknown format")

	// ErrInvalidBaseKey reports a BaseKey string that looks like a list
	// (it is enclosed in brackets) but is not a valid one.
	ErrInvalidBaseKey = errors.New("invalid base key")

	// ErrBadURI reports a uri that Resolve cannot walk: after repeated
	// slashes are collapsed it neither starts with "/" nor is "*". A
	// server answers it with 400 Bad Request.
	ErrBadURI = errors.New("bad request uri")

	// ErrGenerationMismatch reports a Load given an expected generation
	// when the database has moved on to another one: the table was
	// edited against a version that is no longer current. A server
	// answers it with 409 Conflict.
	ErrGenerationMismatch = errors.New("generation mismatch: the database has changed")

	// ErrEmptyLoad reports a Load with Clear whose input holds no
	// records: it would empty the table, which is more often the sign
	// of a failed export or the wrong file than the intent. An input
	// whose dump comment says records=0, or LoadOptions.AllowEmpty,
	// lets such a load go ahead. A server answers it with 400 Bad
	// Request.
	ErrEmptyLoad = errors.New("refusing to empty the table with an input of no records")

	// ErrStopped reports a read or Begin on a provider after Stop.
	ErrStopped = errors.New("provider is stopped")
)

// Errors of the database layer, under the names of this package. They
// are the very values of package mmapdb, so errors.Is matches either
// name.
var (
	// ErrReadOnly reports a write to a read-only provider: Begin,
	// Update, Append and Load.
	ErrReadOnly = mmapdb.ErrReadOnly

	// ErrTxnActive reports Begin while a transaction is open on the
	// same file in this process, through this provider or another.
	// Update, Append and Load wait for it instead.
	ErrTxnActive = mmapdb.ErrTxnActive

	// ErrNoTxn reports a method of a Txn after its Commit or Rollback.
	ErrNoTxn = mmapdb.ErrNoTxn
)

// A ParseError reports malformed input to a Reader: which format, which
// line and what is wrong with it. errors.Is(err, ErrFormat) holds for
// every ParseError; Err may in addition wrap a more specific sentinel
// such as ErrInvalidRecord.
type ParseError struct {
	Format Format // the format being read
	Line   int    // 1-based number of the offending line
	Err    error  // what is wrong
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("translation: %s input, line %d: %v", e.Format, e.Line, e.Err)
}

// Unwrap returns ErrFormat and the underlying error, so that errors.Is
// matches both.
func (e *ParseError) Unwrap() []error { return []error{ErrFormat, e.Err} }
