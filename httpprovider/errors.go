package httpprovider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"

	"transdb/internal/fault"
	"transdb/mmapdb"
	"transdb/translation"
)

// An httpError is an error with the status it is answered with.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

// errorf returns an error answered with status and the formatted message.
func errorf(status int, format string, args ...any) error {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

// tooLarge is the error of a body beyond the limit.
func tooLarge(limit int64) error {
	return errorf(http.StatusRequestEntityTooLarge, "request body larger than %d bytes", limit)
}

// A bodyError is an error reading the request body: the client's doing,
// as it sent less than it announced, or too slowly.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return "reading the request body: " + e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// bodyReader turns the errors of reading a request body into bodyErrors.
type bodyReader struct{ io.ReadCloser }

func (b bodyReader) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = &bodyError{err}
	}
	return n, err
}

// statusOf returns the status and message that answer err. Errors of
// the request are 4xx and say what is wrong; errors of the database
// state are 403, 409 or 503; anything else is 500 with a message that
// does not reveal the server's internals (the server logs the error).
func statusOf(err error) (int, string) {
	var he *httpError
	if errors.As(err, &he) {
		return he.status, he.msg
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge, tooLarge(mbe.Limit).Error()
	}
	var be *bodyError
	if errors.As(err, &be) {
		if errors.Is(be.err, os.ErrDeadlineExceeded) {
			return http.StatusRequestTimeout, "the request body did not arrive in time"
		}
		return http.StatusBadRequest, be.Error()
	}
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// The client went away, or the server is shutting down.
		return http.StatusServiceUnavailable, "the request was cancelled"
	case errors.Is(err, fs.ErrNotExist):
		return http.StatusServiceUnavailable, "no database yet"
	case errors.Is(err, fault.ErrChanged):
		return http.StatusServiceUnavailable, "the database file changed while it was read: it was written over in place " +
			"(replace it by a rename, as transdbd does); it is read again"
	case errors.Is(err, translation.ErrStopped), errors.Is(err, mmapdb.ErrClosed):
		return http.StatusServiceUnavailable, "database is closed"
	case errors.Is(err, mmapdb.ErrLockFailed):
		return http.StatusServiceUnavailable, "cannot lock the database"
	case errors.Is(err, translation.ErrReadOnly):
		return http.StatusForbidden, "the database is read-only"
	case errors.Is(err, translation.ErrGenerationMismatch):
		return http.StatusConflict, err.Error()
	case errors.Is(err, translation.ErrTxnActive):
		return http.StatusConflict, "another transaction of this process is active on the database"
	case errors.Is(err, mmapdb.ErrIDsExhausted):
		return http.StatusInsufficientStorage, "no more record ids"
	case errors.Is(err, translation.ErrBadURI),
		errors.Is(err, translation.ErrInvalidRecord),
		errors.Is(err, translation.ErrFormat),
		errors.Is(err, translation.ErrUnknownFormat):
		return http.StatusBadRequest, err.Error()
	}
	return http.StatusInternalServerError, "internal error"
}
