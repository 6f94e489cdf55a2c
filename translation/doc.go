// Package translation stores the translation tables of
// Apache2::Translation in an mmapdb file and answers the lookups a
// reverse proxy makes with them. Its Provider mirrors the provider
// interface of the Perl module Apache2::Translation::MMapDB: New, Start,
// Stop, Fetch, ListKeys and ListKeysAndURIs for reading; Begin, which
// returns a Txn with Insert, Update, Delete, Clear, Commit and Rollback,
// and Update, which runs a function in one, for writing;
// Iterator, Append and Diff for copying and comparing tables. Resolve
// does in one call all the lookups of one request, and Load and Dump
// move tables in and out of the text formats.
//
// # Data layout
//
// A translation table is a set of records (key, uri, block, order,
// action, note). The records of one key and uri form a block list,
// ordered by block, then order. The mmapdb file is a tree of indices
// with ordered lists of data records at the leaves; a provider keeps its
// table under its base key, a list of keys such as ["trans", "db"], in
// two branches:
//
//	BASEKEY..., "actn", KEY, URI  ->  [SORT, ACTION, ID] ...
//	BASEKEY..., "note", KEY, URI  ->  [SORT, NOTE, ID] ...
//
// SORT is pack("N2", block, order): 8 bytes, the block then the order as
// big-endian 32-bit numbers, so that the bytewise order of the leaf is
// the order of the block list and a fetch is one lookup with no sorting.
// A note is stored only for a record that has one, under the same SORT
// as its action; a fetch with notes looks up the note leaf once and
// merges it in. The two branches keep the hot path, a fetch without
// notes, to the actions alone, and the base key leaves room for other
// tables and other data in the same file.
//
// Each action has the ID of its mmapdb record; Delete and Update name
// the record they change by this ID together with its key, uri, block
// and order, and do nothing when they no longer match.
//
// # Versions, processes and sharing
//
// Readers never lock: every read works on a snapshot of one version,
// which stays mapped while it is used, and moves to a new version as
// soon as a writer of any process commits one; Provider.Snapshot pins
// one version for several reads that must agree. A transaction takes the
// lock file <FileName>.lock, and Commit writes a complete new file and
// renames it over the old one. All providers of a process on the same
// file, whatever their base keys, share one open database and so one
// mapping; the file allows one transaction at a time per process.
//
// # Errors
//
// Errors wrap the sentinel values of this package (and of mmapdb), to be
// tested with errors.Is. A key and uri that hold nothing give an empty
// list, not an error. Reads of a read-only provider whose file does not
// exist yet fail with an error wrapping fs.ErrNotExist.
package translation
