package perlmmapdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"transdb/internal/perlsamples"
)

// rawLines renders the records of an iteration as the lines of a raw
// dump, sorted by ID.
func rawLines(t testing.TB, seq func(func(Record, error) bool)) []string {
	t.Helper()
	type line struct {
		id   uint64
		text string
	}
	var lines []line
	for r, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line{r.ID, string(AppendRaw(nil, r.ID, keyStrings(r.Keys), r.Sort.Bytes, r.Data.Bytes))})
	}
	slices.SortStableFunc(lines, func(a, b line) int { return int(a.id) - int(b.id) })
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l.text
	}
	return out
}

func keyStrings(keys []String) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = string(k.Bytes)
	}
	return out
}

// readable returns the bytes of a sample that the module reads: the
// superseded one with its byte 4 put back, as its expectation was made.
func readable(t testing.TB, s perlsamples.Sample) []byte {
	t.Helper()
	b, err := os.ReadFile(s.Path)
	if err != nil {
		t.Fatal(err)
	}
	if b[4] == 0 {
		b[4] = 'N'
	}
	return b
}

func TestEverySampleReadsAsTheModuleReadsIt(t *testing.T) {
	for _, s := range perlsamples.All(t) {
		t.Run(s.Name, func(t *testing.T) {
			f, err := NewFile(readable(t, s))
			if err != nil {
				t.Fatal(err)
			}
			want := s.Expect
			if got := string(f.data[:4]); got != want.Magic {
				t.Errorf("magic %q, want %q", got, want.Magic)
			}
			if f.Format() != map[string]int{"MMDB": 0, "MMDC": 1}[want.Magic] {
				t.Errorf("format %d for magic %s", f.Format(), want.Magic)
			}
			if want.IntFmt != "\x00" && string(f.IntFormat()) != want.IntFmt {
				t.Errorf("integer format %q, want %q", f.IntFormat(), want.IntFmt)
			}
			if f.NextID() != want.NextID || f.Len() != want.Records {
				t.Errorf("nextid %d, %d records; want %d, %d", f.NextID(), f.Len(), want.NextID, want.Records)
			}
			if err := f.Check(); err != nil {
				t.Fatalf("Check: %v", err)
			}
			if got := strings.Join(rawLines(t, f.Records()), ""); got != want.Body() {
				t.Errorf("Records:\n%s\nwant:\n%s", got, want.Body())
			}
			if got := strings.Join(rawLines(t, f.Scan()), ""); got != want.Body() {
				t.Errorf("Scan, sorted by ID:\n%s\nwant:\n%s", got, want.Body())
			}
			// Every record is found by its key path and its ID.
			for r, err := range f.Records() {
				if err != nil {
					t.Fatal(err)
				}
				recs, err := f.Lookup(keyStrings(r.Keys)...)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.ContainsFunc(recs, func(x Record) bool { return x.ID == r.ID }) {
					t.Errorf("Lookup %q does not find ID %d", keyStrings(r.Keys), r.ID)
				}
				byID, found, err := f.ByID(r.ID)
				if err != nil || !found || byID.Pos != r.Pos {
					t.Errorf("ByID(%d): %v %v %v", r.ID, byID.Pos, found, err)
				}
			}
		})
	}
}

func TestSampleWordSizes(t *testing.T) {
	want := map[string]struct {
		size int
		be   bool
	}{
		"t005-N": {4, true}, "t005-N-format0": {4, true}, "t005-L": {4, false},
		"t005-J": {8, false}, "t005-Q": {8, false},
	}
	for name, w := range want {
		f, err := Open(perlsamples.Get(t, name).Path)
		if err != nil {
			t.Fatal(err)
		}
		if f.WordSize() != w.size || f.BigEndian() != w.be {
			t.Errorf("%s: %d-byte words, big-endian %v; want %d, %v", name, f.WordSize(), f.BigEndian(), w.size, w.be)
		}
		f.Close()
	}
}

func TestLeafOrderIsBySortThenDataSection(t *testing.T) {
	f, err := Open(perlsamples.Get(t, "t005-gen2").Path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := f.Lookup("trans", "db", "actn", "k1", "u2")
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	for _, r := range recs {
		ids = append(ids, r.ID)
	}
	// (0,0) d, (1,0) e, (1,1) f.
	if !slices.Equal(ids, []uint64{6, 9, 8}) {
		t.Errorf("leaf k1/u2: IDs %v, want 6 9 8", ids)
	}
	for _, missing := range [][]string{{"trans", "db", "actn", "k1"}, {"trans", "nope"}, {"x"}, {"trans", "db", "actn", "k1", "u2", "deeper"}} {
		if recs, err := f.Lookup(missing...); err != nil || len(recs) != 0 {
			t.Errorf("Lookup %q: %d records, %v; want none", missing, len(recs), err)
		}
	}
}

func TestStringsKeepTheirBytesAndUTF8Flag(t *testing.T) {
	f, err := Open(perlsamples.Get(t, "t005-gen2").Path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, found, err := f.ByID(11)
	if err != nil || !found {
		t.Fatal(found, err)
	}
	uri := r.Keys[len(r.Keys)-1]
	if string(uri.Bytes) != "груша" || !uri.UTF8 {
		t.Errorf("uri %q, UTF-8 flag %v; want груша, flagged", uri.Bytes, uri.UTF8)
	}
	if string(r.Data.Bytes) != "act-\xe9" || r.Data.UTF8 {
		t.Errorf("data %q, UTF-8 flag %v; want the Latin-1 bytes act-\\xe9, not flagged", r.Data.Bytes, r.Data.UTF8)
	}
	if r.Keys[0].UTF8 || r.Sort.UTF8 {
		t.Error("ASCII key or binary sort flagged UTF-8")
	}
}

func TestSupersededFileIsRefused(t *testing.T) {
	s := perlsamples.Get(t, "t005-gen2.superseded")
	if _, err := Open(s.Path); !errors.Is(err, ErrSuperseded) {
		t.Fatalf("Open of a superseded file: %v, want ErrSuperseded", err)
	}
	// A file that is superseded while it is open stays readable and says so.
	path := filepath.Join(t.TempDir(), "live.mmdb")
	if err := os.WriteFile(path, readable(t, s), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Superseded() {
		t.Fatal("a live file reports itself superseded")
	}
	supersede(t, path)
	if !f.Superseded() {
		t.Error("byte 4 zeroed, but the open file does not report itself superseded")
	}
	if got := strings.Join(rawLines(t, f.Records()), ""); got != s.Expect.Body() {
		t.Errorf("the superseded file reads\n%s\nwant\n%s", got, s.Expect.Body())
	}
}

// supersede zeroes byte 4 of the file, as the module's commit does to
// the file it replaced.
func supersede(t testing.TB, path string) {
	t.Helper()
	w, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.WriteAt([]byte{0}, 4); err != nil {
		t.Fatal(err)
	}
}

func TestIntegerFormatFallbacks(t *testing.T) {
	cases := []struct {
		sample string
		letter byte
		size   int
		be     bool
	}{
		{"t005-L", IntJ, 4, false}, // J written by a 32-bit perl
		{"t005-N", IntL, 4, true},  // L written on a big-endian machine
		{"t005-N", IntJ, 4, true},  // J of a 32-bit big-endian perl
		{"t005-Q", IntJ, 8, false}, // J of a 64-bit perl, the sample's own
	}
	for _, c := range cases {
		s := perlsamples.Get(t, c.sample)
		b := readable(t, s)
		b[4] = c.letter
		f, err := NewFile(b)
		if err != nil {
			t.Errorf("%s as %c: %v", c.sample, c.letter, err)
			continue
		}
		if f.WordSize() != c.size || f.BigEndian() != c.be {
			t.Errorf("%s as %c: %d-byte words, big-endian %v; want %d, %v", c.sample, c.letter, f.WordSize(), f.BigEndian(), c.size, c.be)
		}
		if err := f.Check(); err != nil {
			t.Errorf("%s as %c: %v", c.sample, c.letter, err)
		}
		if got := strings.Join(rawLines(t, f.Records()), ""); got != s.Expect.Body() {
			t.Errorf("%s as %c reads other records", c.sample, c.letter)
		}
	}
	// A letter that allows only one reading does not fall back.
	b := readable(t, perlsamples.Get(t, "t005-L"))
	b[4] = IntN
	if _, err := NewFile(b); !errors.Is(err, ErrCorrupt) {
		t.Errorf("a little-endian file marked N: %v, want ErrCorrupt", err)
	}
}

func TestForeignFilesAreNotPerlMMapDBFiles(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("MMD"), []byte("hello, world, this is a text file and no database at all"),
		append([]byte{0x8c, 0xae}, "transdb-mmapdb"...)} {
		if _, err := NewFile(b); !errors.Is(err, ErrBadMagic) {
			t.Errorf("NewFile(%q): %v, want ErrBadMagic", b, err)
		}
	}
	b := readable(t, perlsamples.Get(t, "t005-N"))
	b[4] = 'X'
	if _, err := NewFile(b); !errors.Is(err, ErrCorrupt) {
		t.Errorf("integer format X: %v, want ErrCorrupt", err)
	}
	dir := t.TempDir()
	for name, content := range map[string]string{"empty": "", "short": "MMDCN", "text": "not a database\n"} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Open(path)
		if !errors.Is(err, ErrBadMagic) && !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
			t.Errorf("Open of %s: %v, want ErrBadMagic or ErrCorrupt naming the file", name, err)
		}
	}
}

// readAll exercises every reading path of a file and returns the first
// error.
func readAll(f *File) error {
	if err := f.Check(); err != nil {
		return err
	}
	for _, seq := range []func(func(Record, error) bool){f.Records(), f.Scan()} {
		for r, err := range seq {
			if err != nil {
				return err
			}
			if _, err := f.Lookup(keyStrings(r.Keys)...); err != nil {
				return err
			}
		}
	}
	return nil
}

func TestTruncatedAndDamagedFilesGiveErrorsNotPanics(t *testing.T) {
	for _, s := range perlsamples.All(t) {
		full := readable(t, s)
		for n := range len(full) {
			f, err := NewFile(full[:n])
			if err == nil {
				err = readAll(f)
			}
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrBadMagic) && !errors.Is(err, ErrSuperseded) {
				t.Fatalf("%s cut to %d bytes: %v, want an error wrapping ErrCorrupt", s.Name, n, err)
			}
		}
		for i := range len(full) {
			for _, x := range []byte{0x01, 0x80, 0xff} {
				b := bytes.Clone(full)
				b[i] ^= x
				f, err := NewFile(b)
				if err == nil {
					err = readAll(f)
				}
				if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrBadMagic) && !errors.Is(err, ErrSuperseded) {
					t.Fatalf("%s with byte %d ^ %#x: %v, want no error or one wrapping a sentinel", s.Name, i, x, err)
				}
			}
		}
	}
}

func TestIndexLoopIsReported(t *testing.T) {
	b := readable(t, perlsamples.Get(t, "t005-N"))
	f, err := NewFile(b)
	if err != nil {
		t.Fatal(err)
	}
	// The main index holds "trans", which leads to the index of "db";
	// point "db" back at the main index.
	be := binary.BigEndian
	main := be.Uint32(b[8:])
	trans := be.Uint32(b[main+16:])
	if npos := be.Uint32(b[trans+12:]); npos != 1 {
		t.Fatalf("the index of trans: entry with %d positions", npos)
	}
	be.PutUint32(b[trans+16:], main)
	err = f.Check()
	if !errors.Is(err, ErrIndexLoop) || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Check of a file with a loop: %v, want ErrIndexLoop and ErrCorrupt", err)
	}
	if _, err := f.Lookup("trans", "db", "trans", "db", "actn"); err != nil {
		t.Errorf("Lookup through the loop: %v", err)
	}
}

func TestClosedFileFailsInsteadOfReadingUnmappedMemory(t *testing.T) {
	f, err := Open(perlsamples.Get(t, "t005-N").Path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Check(); !errors.Is(err, ErrClosed) {
		t.Errorf("Check after Close: %v", err)
	}
	for _, err := range f.Records() {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Records after Close: %v", err)
		}
	}
	if _, err := f.Lookup("trans"); !errors.Is(err, ErrClosed) {
		t.Errorf("Lookup after Close: %v", err)
	}
	if !f.Superseded() {
		t.Error("a closed file does not report itself superseded")
	}
}
