package translation_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	"transdb/translation"
)

// dump returns the table of p in format f.
func dump(t testing.TB, p *translation.Provider, f translation.Format) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := p.Dump(&b, f); err != nil {
		t.Fatalf("Dump(%s): %v", f, err)
	}
	return b.Bytes()
}

// load loads data into p.
func load(t testing.TB, p *translation.Provider, data []byte, opts translation.LoadOptions) (uint64, int) {
	t.Helper()
	gen, n, err := p.Load(bytes.NewReader(data), opts)
	if err != nil {
		t.Fatalf("Load(%s): %v", opts.Format, err)
	}
	return gen, n
}

// awkwardTable holds what the formats must carry, in dump order, so
// that its IDs are assigned in dump order too.
var awkwardTable = recordList{
	rec("host.example", "/", 0, 0, "", ""),
	rec("host.example", "/", 0, 1, "two\nlines", "a note\nof two lines"),
	rec("host.example", "/", 0, 2, "trailing newline\n", "\n"),
	rec("host.example", "/a", 4294967295, 4294967295, "carriage\r\nreturn\r", "note> inside\r"),
	rec("host.example", ":PRE:", 1, 0, "action> # >>> looks like markup\n######", "ünïcödé ✓"),
	rec("other", "/x/y.html", 7, 3, "Proxy: 'http://backend/'.$URI", ""),
}

func TestDumpLoadRoundTripIsByteIdentical(t *testing.T) {
	for _, f := range []translation.Format{translation.FormatText, translation.FormatJSONL} {
		t.Run(string(f), func(t *testing.T) {
			a := writable(t)
			if _, err := a.Append(awkwardTable, false); err != nil {
				t.Fatal(err)
			}
			first := dump(t, a, f)
			b := writable(t)
			gen, n := load(t, b, first, translation.LoadOptions{Format: f})
			if n != len(awkwardTable) || gen != 1 {
				t.Errorf("Load = generation %d, %d records; want 1, %d", gen, n, len(awkwardTable))
			}
			if second := dump(t, b, f); !bytes.Equal(first, second) {
				t.Errorf("dump, load, dump differs:\n%s\n---\n%s", first, second)
			}
			if changes, err := a.Diff(b, translation.Filter{}); err != nil || len(changes) != 0 {
				t.Errorf("Diff of the original and the loaded table = %v, %v", changes, err)
			}
		})
	}
}

func TestDumpOfExampleTable(t *testing.T) {
	want, err := os.ReadFile("../testdata/example.txt")
	if err != nil {
		t.Fatal(err)
	}
	p := loadFile(t, "../testdata/example.txt", translation.FormatText)
	text := dump(t, p, translation.FormatText)
	if !strings.HasPrefix(string(text), "# transdb dump generation=1 records=13 end=1\n") {
		t.Errorf("dump header: %q", strings.SplitN(string(text), "\n", 2)[0])
	}
	// The dump is ordered by key and uri, the example file is not; the
	// records are the same.
	for _, data := range [][]byte{want, text} {
		r, err := translation.NewReader(bytes.NewReader(data), translation.FormatText)
		if err != nil {
			t.Fatal(err)
		}
		if changes, err := p.Diff(translation.ReaderSource(r), translation.Filter{}); err != nil || len(changes) != 0 {
			t.Errorf("Diff of the table and its dump = %v, %v", changes, err)
		}
	}
	// Loaded in dump order, the table dumps to the same bytes again.
	q := writable(t)
	load(t, q, text, translation.LoadOptions{})
	again := dump(t, q, translation.FormatText)
	r := writable(t)
	load(t, r, again, translation.LoadOptions{})
	if third := dump(t, r, translation.FormatText); !bytes.Equal(again, third) {
		t.Errorf("second round trip differs:\n%s\n---\n%s", again, third)
	}
}

func TestDumpInFileFormatLosesOnlyNotes(t *testing.T) {
	a := writable(t)
	if _, err := a.Append(awkwardTable, false); err != nil {
		t.Fatal(err)
	}
	b := writable(t)
	load(t, b, dump(t, a, translation.FormatFile), translation.LoadOptions{Format: translation.FormatFile})
	c := writable(t)
	if _, err := c.Append(a, true); err != nil {
		t.Fatal(err)
	}
	if changes, err := b.Diff(c, translation.Filter{}); err != nil || len(changes) != 0 {
		t.Errorf("file round trip differs from the table without notes: %v, %v", changes, err)
	}
}

func TestLoadRefusedWhenGenerationMoved(t *testing.T) {
	p := writable(t)
	gen, _ := load(t, p, []byte(scenarioTable), translation.LoadOptions{})
	edited := dump(t, p, translation.FormatText)
	if !bytes.HasPrefix(edited, fmt.Appendf(nil, "# transdb dump generation=%d ", gen)) {
		t.Fatalf("dump does not start with generation %d: %.60q", gen, edited)
	}
	edited = bytes.ReplaceAll(edited, []byte("action> a\n"), []byte("action> edited offline\n"))

	// Meanwhile someone else commits.
	moved := inTxn(t, p, func(tx *translation.Txn) { mustInsert(t, tx, rec("k9", "/", 0, 0, "meanwhile", "")) })

	_, _, err := p.Load(bytes.NewReader(edited), translation.LoadOptions{Clear: true, ExpectGeneration: &gen})
	if !errors.Is(err, translation.ErrGenerationMismatch) {
		t.Fatalf("Load against generation %d at %d: %v, want ErrGenerationMismatch", gen, moved, err)
	}
	if now, _ := p.Generation(); now != moved {
		t.Errorf("refused Load changed the generation to %d", now)
	}
	checkFetch(t, p, "k9", "/", false, `k9 / 0 0 "meanwhile"`)
	checkFetch(t, p, "k1", "u1", false, `k1 u1 0 0 "a"`, `k1 u1 0 1 "b"`, `k1 u1 1 1 "c"`)

	// Against the current generation the load goes through.
	newGen, n, err := p.Load(bytes.NewReader(edited), translation.LoadOptions{Clear: true, ExpectGeneration: &moved})
	if err != nil || n != 6 || newGen != moved+1 {
		t.Fatalf("Load = %d, %d, %v; want generation %d and 6 records", newGen, n, err, moved+1)
	}
	checkFetch(t, p, "k9", "/", false)
	checkFetch(t, p, "k1", "u1", false, `k1 u1 0 0 "edited offline"`, `k1 u1 0 1 "b"`, `k1 u1 1 1 "c"`)
}

func TestLoadIsAllOrNothing(t *testing.T) {
	p := writable(t)
	load(t, p, []byte(scenarioTable), translation.LoadOptions{})
	before := dump(t, p, translation.FormatText)
	for _, tt := range []struct {
		name  string
		input string
		opts  translation.LoadOptions
		want  error
	}{
		{"malformed last record", scenarioTable + strings.Repeat("#", 70) + "\nno header here\n", translation.LoadOptions{Clear: true}, translation.ErrFormat},
		{"white space in key", `{"key":"a b","uri":"/","block":0,"order":0,"action":"x"}`, translation.LoadOptions{Format: translation.FormatJSONL, Clear: true}, translation.ErrInvalidRecord},
		{"unknown format", "", translation.LoadOptions{Format: "yaml"}, translation.ErrUnknownFormat},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := p.Load(strings.NewReader(tt.input), tt.opts); !errors.Is(err, tt.want) {
				t.Errorf("Load: %v, want %v", err, tt.want)
			}
			if after := dump(t, p, translation.FormatText); !bytes.Equal(before, after) {
				t.Errorf("failed Load changed the table:\n%s", after)
			}
		})
	}
}

func TestLoadAddsUnlessClear(t *testing.T) {
	p := writable(t)
	load(t, p, []byte(scenarioTable), translation.LoadOptions{})
	_, n := load(t, p, []byte(`{"key":"k2","uri":"/","block":0,"order":0,"action":"x","id":99}`+"\n"), translation.LoadOptions{Format: translation.FormatJSONL})
	if n != 1 {
		t.Errorf("Load = %d records, want 1", n)
	}
	if keys, _ := p.ListKeys(); !reflect.DeepEqual(keys, []string{"k1", "k2"}) {
		t.Errorf("keys after adding = %q", keys)
	}
	if list := mustFetch(t, p, "k2", "/", false); len(list) != 1 || list[0].ID == 99 {
		t.Errorf("loaded record kept the input's id: %+v", list)
	}
	load(t, p, []byte(`{"key":"k3","uri":"/","block":0,"order":0,"action":"y"}`), translation.LoadOptions{Format: translation.FormatJSONL, Clear: true})
	if keys, _ := p.ListKeys(); !reflect.DeepEqual(keys, []string{"k3"}) {
		t.Errorf("keys after a clearing load = %q", keys)
	}
}

// onRead is a reader that calls f before every read.
type onRead struct {
	r io.Reader
	f func()
}

func (r onRead) Read(b []byte) (int, error) {
	r.f()
	return r.r.Read(b)
}

// TestLoadWaitsForOpenTxnThenCommitsAfterIt: Load runs a transaction of
// its own, which waits for the one open on the file and commits the
// generation after it, on top of its changes.
func TestLoadWaitsForOpenTxnThenCommitsAfterIt(t *testing.T) {
	p := writable(t)
	n := 0
	checkWaitsForOpenTxn(t, p, func(began func()) (gen uint64, err error) {
		gen, n, err = p.Load(onRead{strings.NewReader(scenarioTable), began}, translation.LoadOptions{})
		return gen, err
	})
	if n != 6 {
		t.Errorf("Load = %d records, want 6", n)
	}
	if keys, err := p.ListKeys(); err != nil || !reflect.DeepEqual(keys, []string{"k1", "k9"}) {
		t.Errorf("keys after Load = %q, %v; want [k1 k9]", keys, err)
	}
	checkFetch(t, p, "k1", "u1", false, `k1 u1 0 0 "a"`, `k1 u1 0 1 "b"`, `k1 u1 1 1 "c"`)
}

// unchanged fails the test unless p still has generation gen and the
// table dumped as text.
func unchanged(t *testing.T, p *translation.Provider, gen uint64, text []byte) {
	t.Helper()
	if now, err := p.Generation(); err != nil || now != gen {
		t.Errorf("generation %d, %v after a refused load, want %d", now, err, gen)
	}
	if after := dump(t, p, translation.FormatText); !bytes.Equal(after, text) {
		t.Errorf("a refused load changed the table:\n%s", after)
	}
}

func TestLoadOfATruncatedDumpCommitsNothing(t *testing.T) {
	for _, f := range []translation.Format{translation.FormatText, translation.FormatFile} {
		t.Run(string(f), func(t *testing.T) {
			p := writable(t)
			whole := countedTable(t, f, 15)
			gen, _ := load(t, p, []byte(whole), translation.LoadOptions{Format: f})
			before := dump(t, p, translation.FormatText)
			for _, in := range []string{firstLines(whole, 13), whole[:len(whole)-2]} {
				_, _, err := p.Load(strings.NewReader(in), translation.LoadOptions{Format: f, Clear: true})
				var perr *translation.ParseError
				if !errors.As(err, &perr) || !errors.Is(err, translation.ErrFormat) {
					t.Errorf("Load of %d of %d bytes: %v, want a *ParseError", len(in), len(whole), err)
				}
				unchanged(t, p, gen, before)
			}
		})
	}
}

func TestLoadWithClearRefusesAnInputWithoutRecords(t *testing.T) {
	const (
		text  = translation.FormatText
		file  = translation.FormatFile
		jsonl = translation.FormatJSONL
	)
	tests := []struct {
		name    string
		format  translation.Format
		in      string
		allow   bool // LoadOptions.AllowEmpty
		refused bool
	}{
		{"text: empty", text, "", false, true},
		{"file: empty", file, "", false, true},
		{"jsonl: empty", jsonl, "", false, true},
		{"jsonl: blank lines", jsonl, "\n  \n", false, true},
		{"text: only comments", text, "# nothing here\n\n", false, true},
		{"text: dump comment without a count", text, "# transdb dump generation=1\n", false, true},
		{"text: records=0", text, "# transdb dump generation=1 records=0\n", false, false},
		{"file: records=0", file, "# transdb dump generation=1 records=0\n", false, false},
		{"text: empty, allowed", text, "", true, false},
		{"jsonl: empty, allowed", jsonl, "", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writable(t)
			gen, _ := load(t, p, []byte(scenarioTable), translation.LoadOptions{})
			before := dump(t, p, translation.FormatText)
			newGen, n, err := p.Load(strings.NewReader(tt.in), translation.LoadOptions{Format: tt.format, Clear: true, AllowEmpty: tt.allow})
			if tt.refused {
				if !errors.Is(err, translation.ErrEmptyLoad) {
					t.Fatalf("Load = %d, %d, %v; want ErrEmptyLoad", newGen, n, err)
				}
				unchanged(t, p, gen, before)
				return
			}
			if err != nil || n != 0 || newGen != gen+1 {
				t.Fatalf("Load = %d, %d, %v; want generation %d and no records", newGen, n, err, gen+1)
			}
			if keys, _ := p.ListKeys(); len(keys) != 0 {
				t.Errorf("keys after emptying the table: %q", keys)
			}
		})
	}

	// Without Clear an input without records adds nothing and is no
	// cause for refusal.
	p := writable(t)
	load(t, p, []byte(scenarioTable), translation.LoadOptions{})
	if _, n, err := p.Load(strings.NewReader(""), translation.LoadOptions{}); err != nil || n != 0 {
		t.Errorf("Load of nothing without Clear = %d, %v", n, err)
	}
}

func TestCheckLoad(t *testing.T) {
	reader := func(in string) translation.Reader {
		r, err := translation.NewReader(strings.NewReader(in), translation.FormatText)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	clear := translation.LoadOptions{Clear: true}
	if err := translation.CheckLoad(reader(""), 0, clear); !errors.Is(err, translation.ErrEmptyLoad) {
		t.Errorf("CheckLoad of nothing with Clear: %v, want ErrEmptyLoad", err)
	}
	for _, tt := range []struct {
		in      string
		records int
		opts    translation.LoadOptions
	}{
		{"", 0, translation.LoadOptions{}},
		{"", 0, translation.LoadOptions{Clear: true, AllowEmpty: true}},
		{"# transdb dump generation=4 records=0\n", 0, clear},
		{"", 3, clear},
	} {
		if err := translation.CheckLoad(reader(tt.in), tt.records, tt.opts); err != nil {
			t.Errorf("CheckLoad(%q, %d, %+v): %v", tt.in, tt.records, tt.opts, err)
		}
	}
}
