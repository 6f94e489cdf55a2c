package perlmmapdb

import (
	"errors"
	"testing"

	"transdb/internal/perlsamples"
)

// FuzzFile feeds damaged Perl MMapDB files to the reader: every reading
// path must end in an error wrapping a sentinel, never in a panic or a
// read out of bounds, and a file that Check accepts must read the same
// through the ID index and the data section. The seeds are the samples
// written by the Perl module, read at run time from ../shared/perl-mmapdb.
func FuzzFile(f *testing.F) {
	for _, s := range perlsamples.All(f) {
		f.Add(readable(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := NewFile(b)
		if err != nil {
			if !errors.Is(err, ErrBadMagic) && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrSuperseded) {
				t.Fatalf("NewFile: %v wraps no sentinel", err)
			}
			return
		}
		checkErr := file.Check()
		if checkErr != nil && !errors.Is(checkErr, ErrCorrupt) {
			t.Fatalf("Check: %v does not wrap ErrCorrupt", checkErr)
		}
		counts := [2]int{}
		for i, seq := range []func(func(Record, error) bool){file.Records(), file.Scan()} {
			for r, err := range seq {
				if err != nil {
					if !errors.Is(err, ErrCorrupt) {
						t.Fatalf("iteration: %v does not wrap ErrCorrupt", err)
					}
					if checkErr == nil {
						t.Fatalf("Check accepted the file, iteration %d fails: %v", i, err)
					}
					break
				}
				counts[i]++
				if _, err := file.Lookup(keyStrings(r.Keys)...); err != nil && !errors.Is(err, ErrCorrupt) {
					t.Fatalf("Lookup: %v does not wrap ErrCorrupt", err)
				}
			}
		}
		if checkErr == nil && (counts[0] != file.Len() || counts[1] != file.Len()) {
			t.Fatalf("Check accepted the file; ID index gives %d records, data section %d, header %d", counts[0], counts[1], file.Len())
		}
	})
}
