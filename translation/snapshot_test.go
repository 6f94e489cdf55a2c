package translation_test

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"testing"

	"transdb/translation"
)

func TestSnapshotBytesAreTheFileOfItsVersion(t *testing.T) {
	p := writable(t)
	inTxn(t, p, func(tx *translation.Txn) { mustInsert(t, tx, rec("k", "/u", 0, 0, "a", "")) })
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

	inTxn(t, p, func(tx *translation.Txn) { mustInsert(t, tx, rec("k", "/u", 0, 1, "b", "")) })
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

func TestFetchBlocksReadsWhatFetchReturns(t *testing.T) {
	p := writable(t)
	inTxn(t, p, func(tx *translation.Txn) {
		mustInsert(t, tx,
			rec("k", "/u", 0, 0, "a", ""),
			rec("k", "/u", 0, 1, "b", "note b"),
			rec("k", "/u", 0, 1, "b2", "note b2"), // the same sort field again
			rec("k", "/u", 3, 0, "d", "note d"),
			rec("k", "/v", 0, 0, "e", "note e"),
		)
	})
	s, err := p.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	for _, tt := range []struct {
		uri       string
		withNotes bool
	}{{"/u", true}, {"/u", false}, {"/v", true}, {"/none", true}} {
		want, err := s.Fetch("k", tt.uri, tt.withNotes)
		if err != nil {
			t.Fatal(err)
		}
		var got []translation.Record
		err = s.FetchBlocks("k", tt.uri, tt.withNotes, func(b translation.Block) error {
			got = append(got, translation.Record{Key: "k", URI: tt.uri, Block: b.Block, Order: b.Order,
				Action: string(b.Action), Note: string(b.Note), ID: b.ID})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
			t.Errorf("FetchBlocks(k, %s, %v) = %+v, Fetch = %+v", tt.uri, tt.withNotes, got, want)
		}
	}
	stop := errors.New("stop")
	n := 0
	if err := s.FetchBlocks("k", "/u", false, func(translation.Block) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("an error of fn: FetchBlocks returned %v after %d calls, want it after 1", err, n)
	}
}

func TestFetchBlocksDoesNotAllocate(t *testing.T) {
	p := writable(t)
	inTxn(t, p, func(tx *translation.Txn) {
		mustInsert(t, tx, rec("k", "/u", 0, 0, "a", "n"), rec("k", "/u", 0, 1, "b", ""))
	})
	s, err := p.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	var size int
	count := func(b translation.Block) error {
		size += len(b.Action) + len(b.Note)
		return nil
	}
	allocs := testing.AllocsPerRun(100, func() {
		if err := s.FetchBlocks("k", "/u", true, count); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 || size == 0 {
		t.Errorf("FetchBlocks allocates %v times per call", allocs)
	}
}
