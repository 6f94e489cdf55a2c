// Package perlmmapdb reads and writes the database files of the Perl
// module MMapDB (CPAN, versions 0.04 to 0.15), which
// Apache2::Translation::MMapDB keeps its tables in, and moves their
// records between them and transdb databases: Import copies a Perl file
// into a database, IDs included; Export writes a database as a Perl
// file; Follow keeps a database a copy of a Perl file that Perl writers
// go on changing, importing each version they commit.
//
// # The format
//
// A file starts with a header: the magic MMDB (format 0) or MMDC
// (format 1), the integer format letter in byte 4, a flags byte, two
// reserved bytes, and four integers: the positions of the main index,
// the ID index and the string table, and the next ID to allocate. Every
// integer of the file has the width and byte order of the letter: N is 4
// bytes big-endian; L (4 bytes), J (a Perl UV: 8 bytes, or 4 on a 32-bit
// perl) and Q (8 bytes) are in the byte order of the machine that wrote
// them, which the file does not record. The reader reads them
// little-endian first, as x86 machines write them, and tries the other
// widths and orders the letter allows until the header is consistent.
//
// The data section follows the header: records of VALID, ID, the number
// of keys, the keys, SORT and DATA, every string an offset into the
// string table. Deleted records stay in the file with VALID 0 until the
// next transaction. Then come the indices, each a table of fixed-length
// records (key, number of positions, positions) sorted by key, whose
// positions name either one sub-index (a position past the data section)
// or the data records of a leaf, ordered by SORT; then the ID index, a
// sorted table of (ID, position); last the string table, each string
// stored once as its length, its bytes, in format 1 a byte holding Perl's
// UTF-8 flag, and zero padding to a whole integer.
//
// The module never changes a file it has published but for byte 4: a
// commit writes a new file, renames it over the old one and writes 0 into
// byte 4 of the old one, which its readers check to move on. A file whose
// byte 4 is 0 is therefore superseded (ErrSuperseded).
//
// FORMAT-NOTES.md, in ../shared/perl-mmapdb beside the checkout with the
// sample files that the tests read, describes the format byte by byte.
//
// # Safety
//
// Open maps a file read-only and reads its header only. Every offset read
// from a file is checked against the section it must lie in before it is
// used; strings and records are views into the mapping. Check reads the
// whole file and checks that the data section, the ID index and the main
// index agree. A truncated, damaged or hostile file gives an error
// wrapping ErrCorrupt (ErrIndexLoop for an index reached twice) or
// ErrBadMagic, never a panic or a read outside the file.
//
// # Strings
//
// transdb stores byte strings; Perl's strings carry a UTF-8 flag.
// Import keeps the bytes as stored, whatever the flag: a Latin-1 string
// such as "act-\xe9" stays those five bytes, though they are not UTF-8.
// Export sets the flag on strings that are valid UTF-8 and not ASCII, and
// leaves it off on all others and on sort strings, which
// Apache2::Translation fills with pack("N2", block, order). Text stored
// by Perl as characters, and octets that are not UTF-8 beyond ASCII,
// thus come back with the flags they had. transdb keeps no flag, so
// octets that happen to be valid UTF-8 beyond ASCII (UTF-8 bytes the
// module was given undecoded) come back flagged as text; since the
// module's lookups compare the flag as well as the bytes, a Perl reader
// then finds such a key only as characters.
package perlmmapdb
