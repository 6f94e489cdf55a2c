package translation_test

import (
	"bytes"
	"os"
	"testing"
)

func TestSnapshotBytesAreTheFileOfItsVersion(t *testing.T) {
	p := writable(t)
	inTxn(t, p, func() { mustInsert(t, p, rec("k", "/u", 0, 0, "a", "")) })
	s, err := p.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	file, err := os.ReadFile(p.Path())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s.Bytes(), file) || int64(len(file)) != s.FileSize() {
		t.Fatalf("Bytes() differs from the file (%d bytes, file %d, FileSize %d)", len(s.Bytes()), len(file), s.FileSize())
	}
	if s.Superseded() {
		t.Error("Superseded() = true for the newest version")
	}

	inTxn(t, p, func() { mustInsert(t, p, rec("k", "/u", 0, 1, "b", "")) })
	if !s.Superseded() {
		t.Error("Superseded() = false after a commit")
	}
	next, err := p.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer next.Release()
	if next.Checksum() == s.Checksum() || next.Generation() != s.Generation()+1 {
		t.Errorf("new version: checksum %08x generation %d; old: checksum %08x generation %d",
			next.Checksum(), next.Generation(), s.Checksum(), s.Generation())
	}
	// The old version stays readable, byte for byte, but for the valid
	// flag that the commit cleared.
	old := s.Bytes()
	diff := 0
	for i := range file {
		if old[i] != file[i] {
			diff++
		}
	}
	if len(old) != len(file) || diff != 1 {
		t.Errorf("superseded version differs from its file in %d bytes, want 1 (the valid flag)", diff)
	}
}
