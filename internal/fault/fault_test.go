package fault

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/edsrzf/mmap-go"
)

// A read of a mapping past the end of its file, cut short meanwhile, is
// ErrChanged; the function's own errors and panics pass as they are.
func TestCallTurnsAFaultIntoErrChanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, make([]byte, 1<<16), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := mmap.Map(f, mmap.RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Unmap()
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	var b byte
	err = Call(func() error { b = m[1<<15]; return nil })
	if !errors.Is(err, ErrChanged) {
		t.Errorf("read past the end: %v (%d), want ErrChanged", err, b)
	}
	mine := errors.New("mine")
	if err := Call(func() error { return mine }); err != mine {
		t.Errorf("the function's error: %v", err)
	}
	defer func() {
		if r := recover(); r != "other" {
			t.Errorf("recovered %v, want the panic to go on", r)
		}
	}()
	Call(func() error { panic("other") })
}
