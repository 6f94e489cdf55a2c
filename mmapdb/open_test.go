package mmapdb

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenOfADirectorySaysSo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dir.mmdb")
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, nil)
	if err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("Open of a directory: %v, want an error saying it is a directory", err)
	}
	if err := VerifyFile(path, nil); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("VerifyFile of a directory: %v, want an error saying it is a directory", err)
	}
}
