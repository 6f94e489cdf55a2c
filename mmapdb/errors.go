package mmapdb

import "errors"

// Sentinel errors. Every error returned by this package that stems from one
// of these conditions wraps the matching value, so callers test with
// errors.Is. I/O errors are wrapped with the operation and the path.
var (
	// ErrReadOnly is returned by Begin, Restore and the other writing
	// operations of a database opened with Options.ReadOnly.
	ErrReadOnly = errors.New("mmapdb: database is read-only")

	// ErrTxnActive is returned by Begin while a transaction of the same DB
	// is open, and by Reload, which must not switch versions under an open
	// transaction.
	ErrTxnActive = errors.New("mmapdb: a transaction is active")

	// ErrNoTxn is returned by the methods of a transaction that has already
	// been committed or rolled back.
	ErrNoTxn = errors.New("mmapdb: no transaction is active")

	// ErrDuplicateID is returned by Txn.InsertID for an ID that is in use.
	ErrDuplicateID = errors.New("mmapdb: duplicate record id")

	// ErrIDsExhausted is returned when every ID in 1..Options.MaxID is taken.
	ErrIDsExhausted = errors.New("mmapdb: no more record ids")

	// ErrMixed is returned when a key path would lead both to data records
	// and to a sub-index: "data records cannot be mixed up with subindices".
	ErrMixed = errors.New("mmapdb: data records cannot be mixed up with sub-indices")

	// ErrCorrupt is returned when a file's structure or checksums are wrong:
	// truncated, bit-flipped, or offsets pointing outside the file.
	ErrCorrupt = errors.New("mmapdb: corrupt database file")

	// ErrBadMagic is returned for a file that is not an mmapdb database.
	ErrBadMagic = errors.New("mmapdb: not an mmapdb database file (bad magic)")

	// ErrVersion is returned for a file written in a format version this
	// reader does not know.
	ErrVersion = errors.New("mmapdb: unsupported format version")

	// ErrLockFailed is returned when the exclusive lock on <file>.lock could
	// not be taken (error from the lock file, or Options.LockTimeout passed).
	ErrLockFailed = errors.New("mmapdb: cannot lock database")

	// ErrReleased is returned by the methods of a Snapshot that read the
	// mapping after the snapshot was released (or, for the snapshot of
	// Txn.Base, after its transaction ended), instead of reading memory
	// that may be unmapped.
	ErrReleased = errors.New("mmapdb: snapshot used after release")

	// ErrClosed is returned by the methods of a closed DB.
	ErrClosed = errors.New("mmapdb: database is closed")

	// ErrNotNewer is returned by Install for a file whose generation is
	// not above that of the database it would replace.
	ErrNotNewer = errors.New("mmapdb: not newer than the database in place")
)
