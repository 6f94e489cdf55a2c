package mmapdb

import (
	"errors"
	"fmt"
	"os"
	"testing"
)

func TestVerifyBytesPausesBetweenStepsAndFindsAFlippedByte(t *testing.T) {
	db, path := openTemp(t, nil)
	// More records than a walk step, more bytes than a checksum step.
	update(t, db, func(tx *Txn) {
		for i := range 70000 {
			mustInsert(t, tx, fmt.Sprintf("k%d/u", i), "s", "data of a record")
		}
	})
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pauses := 0
	if err := VerifyBytes(data, func() error { pauses++; return nil }); err != nil {
		t.Fatalf("VerifyBytes of a good file: %v", err)
	}
	if want := (len(data)-headerLen+verifyStep-1)/verifyStep + 70000/65536; pauses != want {
		t.Errorf("%d pauses for %d bytes and 70000 records, want %d", pauses, len(data), want)
	}
	if err := VerifyBytes(data, nil); err != nil {
		t.Errorf("VerifyBytes without pauses: %v", err)
	}

	stop := errors.New("stop")
	if err := VerifyBytes(data, func() error { return stop }); err != stop {
		t.Errorf("VerifyBytes with a pause that fails: %v, want its error", err)
	}

	for _, off := range []int{headerLen, len(data) / 2, len(data) - 1} {
		bad := append([]byte(nil), data...)
		bad[off] ^= 0x10
		if err := VerifyBytes(bad, func() error { return nil }); !errors.Is(err, ErrCorrupt) {
			t.Errorf("byte %d of %d flipped: %v, want ErrCorrupt", off, len(data), err)
		}
	}
	if err := VerifyBytes(data[:len(data)-1], nil); !errors.Is(err, ErrCorrupt) {
		t.Errorf("truncated: %v, want ErrCorrupt", err)
	}
}
