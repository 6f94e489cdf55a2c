package perlmmapdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"transdb/internal/perlsamples"
	"transdb/mmapdb"
)

// A Perl file cut short in place while it is mapped (as cp over it does
// first) faults on the next read: Check and Import report ErrChanged,
// the process goes on, and the database keeps its version and its lock
// is free for the next writer.
func TestAFileCutShortUnderItsReaderIsAnError(t *testing.T) {
	s := perlsamples.Get(t, "example")
	data, err := os.ReadFile(s.Path)
	if err != nil {
		t.Fatal(err)
	}
	open := func() (*File, string) {
		path := filepath.Join(t.TempDir(), "perl.mmdb")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		if err := os.Truncate(path, 0); err != nil {
			t.Fatal(err)
		}
		return f, path
	}

	f, _ := open()
	if err := f.Check(); !errors.Is(err, ErrChanged) {
		t.Errorf("Check: %v, want ErrChanged", err)
	}

	db := openDB(t)
	fillA2T(t, db, 10)
	before := rawDump(t, db)
	f, _ = open()
	if _, err := Import(db, f); !errors.Is(err, ErrChanged) {
		t.Errorf("Import: %v, want ErrChanged", err)
	}
	if got := rawDump(t, db); got != before {
		t.Error("the failed import changed the database")
	}
	err = db.Update(func(t *mmapdb.Txn) error { return t.SetNextID(99) })
	if err != nil {
		t.Errorf("the next writer: %v", err)
	}
}

// slowFile returns a Perl file (MMDC, N) without records whose root
// index has m entries, each a sub-index of two empty leaves keyed by the
// same two strings of l bytes, which differ in their last byte only: the
// file holds them once, but a check compares them m times.
func slowFile(m, l int) []byte {
	w := binary.BigEndian.AppendUint32
	var strs []byte
	str := func(s []byte) uint32 {
		o := uint32(len(strs))
		strs = append(w(strs, uint32(len(s))), s...)
		strs = append(strs, make([]byte, 4-len(s)%4)...) // NUL, then to a word
		return o
	}
	a := bytes.Repeat([]byte{'x'}, l)
	a[l-1] = 'a'
	ao := str(a)
	a[l-1] = 'b'
	bo := str(a)
	const mainIdx = 24
	rootSize, subSize := uint32(2+3*m)*4, uint32(2+3*2)*4
	idIdx := mainIdx + rootSize + uint32(m)*subSize
	f := w(w(w(w(append([]byte(nil), "MMDCN\x00\x00\x00"...), mainIdx), idIdx), 1), idIdx+4)
	f = w(w(f, uint32(m)), 3)
	for i := range m {
		f = w(w(w(f, str(binary.BigEndian.AppendUint32(nil, uint32(i)))), 1), mainIdx+rootSize+uint32(i)*subSize)
	}
	for range m {
		f = w(w(w(w(w(w(w(w(f, 2), 3), ao), 0), 0), bo), 0), 0)
	}
	return append(w(f, 0), strs...)
}

// A file made so that checking it compares the same long strings again
// and again is refused once that work passes a bound linear in its
// size, instead of taking time that grows with the square of its size.
func TestAFileMadeToBeSlowToCheckIsRefused(t *testing.T) {
	fast, err := NewFile(slowFile(50, 1024))
	if err != nil {
		t.Fatal(err)
	}
	if err := fast.Check(); err != nil {
		t.Fatalf("a file of the same shape within the bound: %v", err)
	}
	slow, err := NewFile(slowFile(4000, 64<<10))
	if err != nil {
		t.Fatal(err)
	}
	err = slow.Check()
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "a file made to be slow?") {
		t.Errorf("Check: %v", err)
	}
}
