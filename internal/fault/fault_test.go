package fault

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/edsrzf/mmap-go"
)

// cutShort writes a file of 64 KiB, hands it to mapIt, then truncates
// the file to nothing, so that reads of the mapping fault.
func cutShort(t *testing.T, mapIt func(*os.File) mmap.MMap) mmap.MMap {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, make([]byte, 1<<16), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := mapIt(f)
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	return m
}

// A read of a mapping past the end of its file, cut short meanwhile, is
// ErrChanged; the function's own errors and panics pass as they are.
func TestCallTurnsAFaultIntoErrChanged(t *testing.T) {
	m := mapOf(t)
	defer Unmap(m)
	var b byte
	err := Call(func() error { b = m[1<<15]; return nil })
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

// wantFault fails t unless fn panics with a memory fault, which Call has
// let go on.
func wantFault(t *testing.T, what string, fn func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if _, ok := r.(interface{ Addr() uintptr }); !ok {
			t.Errorf("%s: recovered %v, want the fault to go on", what, r)
		}
	}()
	fn()
}

// A fault outside the mappings of Map is a defect, not a changed file,
// and a mapping of Map is one no more after its Unmap.
func TestCallLetsOtherFaultsGoOn(t *testing.T) {
	// Forget the mappings the other tests unmapped: their addresses are
	// free for the mappings below.
	regions.Lock()
	regions.retired = [retiredRegions]region{}
	regions.Unlock()
	other := cutShort(t, func(f *os.File) mmap.MMap {
		m, err := mmap.Map(f, mmap.RDONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		return m
	})
	defer other.Unmap()
	var b byte
	wantFault(t, "a mapping not of Map", func() {
		err := Call(func() error { b = other[1<<15]; return nil })
		t.Errorf("Call returned %v (%d)", err, b)
	})

	// The address of a mapping is free again after its Unmap, and
	// whatever is mapped there next is not a file of Map, once more than
	// retiredRegions others were unmapped since.
	m := mapOf(t)
	first, last := start(m), start(m)+uintptr(len(m))-1
	if !mapped(first) || !mapped(last) || mapped(last+1) || mapped(first-1) {
		t.Errorf("mapped: %v %v %v %v, want the mapping and nothing beside it",
			mapped(first), mapped(last), mapped(last+1), mapped(first-1))
	}
	others := make([]mmap.MMap, retiredRegions) // mapped elsewhere, while m is
	for i := range others {
		others[i] = mapOf(t)
	}
	if err := Unmap(m); err != nil {
		t.Fatal(err)
	}
	if !mapped(first) {
		t.Error("a mapping unmapped last is not known")
	}
	for _, o := range others {
		if err := Unmap(o); err != nil {
			t.Fatal(err)
		}
	}
	if mapped(first) || mapped(last) {
		t.Errorf("a mapping is still known after its Unmap and %d others", retiredRegions)
	}
	if n := len(regions.m); n != 0 {
		t.Errorf("%d mappings left registered, want 0", n)
	}
}

// mapOf maps a file of 64 KiB, cut short since.
func mapOf(t *testing.T) mmap.MMap {
	return cutShort(t, func(f *os.File) mmap.MMap {
		m, err := Map(f, 1<<16)
		if err != nil {
			t.Fatal(err)
		}
		return m
	})
}

// A fault is a changed file even when the faulting function's deferred
// calls unmap its mapping before Call recovers: a reader that defers the
// release of the last reference to a superseded version does.
func TestAFaultInAMappingUnmappedOnTheWayOut(t *testing.T) {
	m := mapOf(t)
	var b byte
	err := Call(func() error {
		defer Unmap(m)
		b = m[1<<15]
		return nil
	})
	if !errors.Is(err, ErrChanged) {
		t.Errorf("read past the end, unmapped on the way out: %v (%d), want ErrChanged", err, b)
	}
}
