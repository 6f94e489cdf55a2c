package pagecache

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestEvictLeavesNoPageResident(t *testing.T) {
	dir := t.TempDir()
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	if fs.Type == unix.TMPFS_MAGIC {
		t.Skip("the page cache of tmpfs is the file itself")
	}
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, make([]byte, 1<<22), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := os.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	resident, total, err := Resident(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := (1 << 22) / os.Getpagesize(); total != want || resident != total {
		t.Fatalf("after reading the file: %d of %d pages resident, want %d of %d", resident, total, want, want)
	}
	if err := Evict(path); err != nil {
		t.Fatal(err)
	}
	if resident, total, err = Resident(path); err != nil {
		t.Fatal(err)
	}
	if resident != 0 {
		t.Errorf("%d of %d pages still resident after eviction", resident, total)
	}
}

func TestResidentOfAnEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if resident, total, err := Resident(path); err != nil || resident != 0 || total != 0 {
		t.Fatalf("Resident = %d, %d, %v", resident, total, err)
	}
}
