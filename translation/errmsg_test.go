package translation_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"transdb/translation"
)

// Errors name the file once and carry each package's prefix once, however
// many layers pass them on.
func TestErrorsNameTheFileOnce(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.mmdb")
	if err := os.WriteFile(bad, []byte("not a database, just some bytes of text"), 0o644); err != nil {
		t.Fatal(err)
	}
	folder := filepath.Join(dir, "folder.mmdb")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{bad, folder} {
		_, err := translation.New(translation.Options{FileName: path})
		if err == nil {
			t.Fatalf("New(%s) succeeded", path)
		}
		msg := err.Error()
		for _, part := range []string{path, "translation:", "mmapdb:"} {
			if n := strings.Count(msg, part); n != 1 {
				t.Errorf("%q says %q %d times, want once", msg, part, n)
			}
		}
	}
}
