package main

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestServeWritesACPUProfileWhenItStops(t *testing.T) {
	db, _ := exampleDB(t)
	profile := filepath.Join(t.TempDir(), "cpu.pprof")
	d := startDaemon(t, nil, "serve", "-config", config(t, db, true), "-cpuprofile", profile)
	if code, _ := d.get(t, "/v1/fetch?key=front&uri=/static"); code != 200 {
		t.Fatalf("fetch: %d", code)
	}
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t); code != 0 {
		t.Fatalf("exit status %d:\n%s", code, d.stderr)
	}
	b, err := os.ReadFile(profile)
	if err != nil {
		t.Fatal(err)
	}
	// A profile is gzip-compressed protocol buffers.
	if !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		t.Errorf("the profile starts with % x", b[:min(len(b), 8)])
	}
}

func TestServeFailsWhenTheProfileCannotBeWritten(t *testing.T) {
	db, _ := exampleDB(t)
	r := transdbd(t, "", "serve", "-config", config(t, db, true), "-cpuprofile", filepath.Join(t.TempDir(), "missing", "cpu.pprof"))
	wantError(t, r, 1, "transdbd serve: ", "no such file or directory")
}
