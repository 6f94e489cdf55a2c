// Package mmapdb is an immutable, memory-mapped database of nested keys
// and ordered record lists, after Perl's MMapDB.
//
// # Model
//
// A data record is [[KEY1, ..., KEYn], SORT, DATA, ID]: a key path, a sort
// field, data, and a non-zero ID assigned at insert. Keys, sort and data
// are arbitrary byte strings. The database is a tree: an index maps a key
// to either a sub-index or a leaf, the list of records under that key
// path, ordered bytewise by SORT, records with equal SORT in insertion
// order. A key path leads either to records or to a sub-index, never both
// (ErrMixed). The root is always an index. An ID index maps IDs to
// records.
//
// # Reading
//
// Open maps the file read-only; it reads only the header, so it costs the
// same for any file size. DB.Snapshot pins the current version: its
// lookups are one hash probe or search per key level over the mapped
// bytes, allocate nothing, and return views into the mapping that stay
// valid until Snapshot.Release (Leaf.Fields reads a block list without
// building a Record per record). A superseded mapping is unmapped only
// after its last snapshot is released, so a reader sees exactly one
// version from start to end. Lookups take no lock and make no system call:
// every process mapping the file shares its pages through the page cache.
//
// # Writing
//
// A Txn (DB.Begin) takes an exclusive flock on <file>.lock, works from the
// version current at that moment, and collects inserts and deletes that
// no reader sees until Commit. Commit writes a complete new file in the
// same directory, fsyncs it, renames it over the database, fsyncs the
// directory, and then clears the valid flag in the old file's header with
// one positioned write. Readers check that flag in their own mapping on
// every Snapshot (a memory read) and move to the new file; a file replaced
// by other tools (mv, rsync) is noticed by comparing the file's device and
// inode every Options.CheckInterval. Killed at any instant, a writer
// leaves the old or the new file in place, byte for byte; the next writer
// that takes the lock removes its temporary files.
//
// # Backups
//
// DB.Backup writes a consistent copy of the current version to a file,
// and DB.Restore puts such a copy in place as a new version. Automatic
// backups, kept as SimpleX's store log keeps them, are files in a
// directory of their own named after the database with the time they
// were taken: WriteBackup writes one from the bytes of a pinned
// snapshot, Backups lists them and PruneBackups keeps them in layers
// (BackupPolicy). When to take them is the caller's choice; nothing in a
// commit waits for a backup.
//
// # Files
//
// The format is msgpack: a fixed-layout header map, then key paths and
// records as msgpack arrays and index nodes as msgpack ext values whose
// payload is searched in place: levels of key prefixes and, in nodes of
// more than 8 keys, a hash table. FORMAT.md
// in this directory describes it byte by byte. Every offset and length
// read from a file is checked; a truncated, bit-flipped or foreign file
// gives ErrCorrupt, ErrBadMagic or ErrVersion, never a panic. Verify
// checks both checksums and walks the whole structure.
//
// # Copies
//
// Backup and Restore copy a version within one machine; Restore gives
// the copy a new generation. A replica elsewhere instead receives each
// version's file as it is: NewImageReader reads a version as it was
// committed, and Install verifies the received file and puts it in
// place like a commit, generation unchanged, refusing one that is not
// newer than the version it would replace (ErrNotNewer).
package mmapdb
