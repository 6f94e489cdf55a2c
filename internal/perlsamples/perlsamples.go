// Package perlsamples gives tests the files written by the Perl module
// MMapDB that lie in ../shared/perl-mmapdb beside the checkout, with the
// records the module itself read back from each (NAME.expect.jsonl).
// The files are not copied into the repository: a test that needs them
// is skipped where the directory is missing, and fails under CI=true,
// where it must be there.
package perlsamples

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Dir returns the directory of the samples: shared/perl-mmapdb beside the
// root of the module the test runs in. When it is missing, the test is
// skipped, or failed under CI=true.
func Dir(t testing.TB) string {
	t.Helper()
	dir, err := find()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the Perl MMapDB samples are required under CI: %v", err)
		}
		t.Skipf("skipped: no Perl MMapDB samples: %v", err)
	}
	return dir
}

func find() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			dir := filepath.Join(filepath.Dir(d), "shared", "perl-mmapdb")
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				return "", fmt.Errorf("%s is not a directory (the samples lie beside the checkout)", dir)
			}
			return dir, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("no go.mod above " + wd)
		}
	}
}

// Sample is one database written by the Perl module.
type Sample struct {
	Name   string // the file name without .mmdb: "t005-N"
	Path   string // the .mmdb file
	Expect Expect // what the module read back from it
}

// Expect is a NAME.expect.jsonl file: a header line, then one line per
// live record in ascending ID order.
type Expect struct {
	Magic   string `json:"magic"`
	IntFmt  string `json:"intfmt"` // byte 4: "N", "L", "J", "Q" or "\x00"
	NextID  uint64 `json:"nextid"`
	Records int    `json:"records"`
	// Lines are the record lines, each with its "\n":
	// {"id":N,"keys":["HEX",...],"sort":"HEX","data":"HEX"}.
	Lines []string `json:"-"`
}

// Body returns the record lines joined, as a raw dump prints them.
func (e Expect) Body() string { return strings.Join(e.Lines, "") }

// All returns every sample of Dir that has an expectation, in name order.
func All(t testing.TB) []Sample {
	t.Helper()
	dir := Dir(t)
	paths, err := filepath.Glob(filepath.Join(dir, "*.mmdb"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(paths)
	var out []Sample
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".mmdb")
		exp, err := readExpect(filepath.Join(dir, name+".expect.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, Sample{Name: name, Path: p, Expect: exp})
	}
	if len(out) == 0 {
		t.Fatalf("no samples in %s", dir)
	}
	return out
}

// Get returns the sample called name.
func Get(t testing.TB, name string) Sample {
	t.Helper()
	for _, s := range All(t) {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no sample %s", name)
	return Sample{}
}

func readExpect(path string) (Expect, error) {
	f, err := os.Open(path)
	if err != nil {
		return Expect{}, err
	}
	defer f.Close()
	var e Expect
	br := bufio.NewReader(f)
	for n := 1; ; n++ {
		line, err := br.ReadString('\n')
		if err != nil {
			if line != "" {
				return Expect{}, fmt.Errorf("%s:%d: line without its newline", path, n)
			}
			break
		}
		if n == 1 {
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				return Expect{}, fmt.Errorf("%s:1: %v", path, err)
			}
			continue
		}
		e.Lines = append(e.Lines, line)
	}
	if len(e.Lines) != e.Records {
		return Expect{}, fmt.Errorf("%s: %d record lines, its header says %d", path, len(e.Lines), e.Records)
	}
	return e, nil
}
