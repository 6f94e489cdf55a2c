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
	"testing/iotest"

	"transdb/translation"
)

var allFormats = []translation.Format{translation.FormatText, translation.FormatFile, translation.FormatJSONL}

// sep is the record separator of the text format.
var sep = strings.Repeat("#", 70)

// readAll reads every record of data in format f.
func readAll(data []byte, f translation.Format) ([]translation.Record, uint64, bool, error) {
	r, err := translation.NewReader(bytes.NewReader(data), f)
	if err != nil {
		return nil, 0, false, err
	}
	var recs []translation.Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			gen, ok := r.Generation()
			return recs, gen, ok, nil
		}
		if err != nil {
			return recs, 0, false, err
		}
		recs = append(recs, rec)
	}
}

// writeAll writes recs in format f and returns the output.
func writeAll(t testing.TB, f translation.Format, generation uint64, recs []translation.Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := translation.NewWriter(&buf, f, generation, len(recs))
	if err != nil {
		t.Fatalf("NewWriter(%s): %v", f, err)
	}
	for _, rec := range recs {
		if err := w.Write(rec); err != nil {
			t.Fatalf("Write(%+v) in %s: %v", rec, f, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close (%s): %v", f, err)
	}
	return buf.Bytes()
}

// withoutNotes returns recs with the notes removed, as the file format
// stores them.
func withoutNotes(recs []translation.Record) []translation.Record {
	out := make([]translation.Record, len(recs))
	for i, rec := range recs {
		rec.Note = ""
		out[i] = rec
	}
	return out
}

// trickyRecords exercise every escaping rule of the formats.
var trickyRecords = []translation.Record{
	{Key: "k", URI: "/", Action: "", ID: 1},
	{Key: "k", URI: "/a", Block: 1, Order: 2, Action: "line 1\nline 2", Note: "a note", ID: 2},
	{Key: "k", URI: "/b", Block: 4294967295, Order: 4294967295, Action: "trailing newline\n", Note: "multi\nline\n", ID: 18446744073709551615},
	{Key: "k", URI: "/c", Action: "\n", Note: "\n\n"},
	{Key: "k", URI: "/d", Action: ">>> 1 k / 0 0\n# not a comment\n" + sep + "\n>>>", Note: sep + "\n>>> 2 k / 0 0\n#"},
	{Key: "k", URI: "/e", Action: `\backslash` + "\n" + `\\two` + "\n\\\n\\>>>", Note: `\`},
	{Key: "k", URI: "/f", Action: "crlf\r\nline\r\n\r", Note: "\r"},
	{Key: "k", URI: "/g", Action: "action> nested prefix\nnote> looks like a note", Note: "note> nested\naction> x"},
	{Key: "ключ", URI: "/ü/日本", Action: "Unicode: äöü € 😀 \u2028 \u00a0", Note: `"quotes", <html> & \ and 'single'`},
	{Key: "&", URI: "&", Block: 7, Order: 3, Action: "  leading and trailing blanks  ", Note: "  "},
	{Key: ":PRE:", URI: ":PRE:", Action: "\t", ID: 42},
	{Key: "k", URI: "*", Action: "{\"json\":\"inside\"}\n[1,2]", Note: "\x00\x01\x7f control"},
}

func TestRoundTripIsLossless(t *testing.T) {
	for _, f := range allFormats {
		t.Run(string(f), func(t *testing.T) {
			want := trickyRecords
			if f == translation.FormatFile {
				want = withoutNotes(want)
			}
			out := writeAll(t, f, 17, trickyRecords)
			got, gen, hasGen, err := readAll(out, f)
			if err != nil {
				t.Fatalf("reading back: %v\n%s", err, out)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("records changed in the round trip:\n got %q\nwant %q\noutput:\n%s", got, want, out)
			}
			if wantGen := f != translation.FormatJSONL; hasGen != wantGen || (hasGen && gen != 17) {
				t.Errorf("Generation() = %d, %v; want 17, %v", gen, hasGen, wantGen)
			}
			again := writeAll(t, f, gen, got)
			if f == translation.FormatJSONL {
				again = writeAll(t, f, 17, got)
			}
			if !bytes.Equal(again, out) {
				t.Errorf("second dump differs from the first:\n%s\n---\n%s", out, again)
			}
		})
	}
}

func TestRoundTripOfLongLines(t *testing.T) {
	long := strings.Repeat("x", 100000)
	recs := []translation.Record{
		{Key: "k", URI: "/" + long, Action: long + "\n" + long, Note: long},
		{Key: "k", URI: "/short", Action: "short"},
	}
	for _, f := range allFormats {
		want := recs
		if f == translation.FormatFile {
			want = withoutNotes(recs)
		}
		got, _, _, err := readAll(writeAll(t, f, 0, recs), f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: long lines did not survive the round trip", f)
		}
	}
}

func TestEmptyTable(t *testing.T) {
	for _, f := range allFormats {
		out := writeAll(t, f, 3, nil)
		got, _, _, err := readAll(out, f)
		if err != nil || len(got) != 0 {
			t.Errorf("%s: empty dump %q read back as %v, %v", f, out, got, err)
		}
		if got, _, _, err := readAll(nil, f); err != nil || len(got) != 0 {
			t.Errorf("%s: empty input gives %v, %v; want no records", f, got, err)
		}
	}
}

func TestTextWriterLayout(t *testing.T) {
	recs := []translation.Record{
		{Key: "front", URI: ":PRE:", Block: 0, Order: 1, Action: "Cond: 1", ID: 2},
		{Key: "front", URI: "/", Block: 3, Order: 4, Action: "", Note: "", ID: 5},
		{Key: "back", URI: "/x", Block: 1, Order: 0, Action: "a\nb\n", Note: "n1\r\nn2", ID: 6},
	}
	want := "# transdb dump generation=9 records=3 end=1\n" +
		sep + "\n" +
		"front & :PRE: 0/1/2\n" +
		"action> Cond: 1\n" +
		sep + "\n" +
		"front & / 3/4/5\n" +
		"action> \n" +
		sep + "\n" +
		"back & /x 1/0/6\n" +
		"action> a\n" +
		"action> b\n" +
		"action> \n" +
		"note> n1\r\n" +
		"note> n2\n" +
		"# transdb dump end\n"
	if got := string(writeAll(t, translation.FormatText, 9, recs)); got != want {
		t.Errorf("text dump:\n%s\nwant:\n%s", got, want)
	}
}

func TestFileWriterEscapesActionLines(t *testing.T) {
	recs := []translation.Record{
		{Key: "k", URI: "/", Block: 1, Order: 2, ID: 3, Action: ">>> 4 k / 0 0\n\\x\nplain >>> x\n# hash", Note: "dropped"},
		{Key: "k", URI: "/e", ID: 4, Action: ""},
		{Key: "k", URI: "/n", ID: 5, Action: "ends in newline\n"},
	}
	want := "# transdb dump generation=0 records=3\n" +
		">>> 3 k / 1 2\n" +
		"\\>>> 4 k / 0 0\n" +
		"\\\\x\n" +
		"plain >>> x\n" +
		"# hash\n" +
		">>> 4 k /e 0 0\n" +
		"\n" +
		">>> 5 k /n 0 0\n" +
		"ends in newline\n" +
		"\n"
	if got := string(writeAll(t, translation.FormatFile, 0, recs)); got != want {
		t.Errorf("file dump:\n%s\nwant:\n%s", got, want)
	}
}

func TestJSONLWriterOutputIsFixed(t *testing.T) {
	recs := []translation.Record{
		{Key: "k", URI: "/a", Block: 1, Order: 2, Action: "<a & b>\n\"q\"", Note: "n", ID: 3},
		{Key: "k", URI: "/b", Action: "no note", ID: 0},
	}
	want := `{"key":"k","uri":"/a","block":1,"order":2,"action":"<a & b>\n\"q\"","note":"n","id":3}` + "\n" +
		`{"key":"k","uri":"/b","block":0,"order":0,"action":"no note","id":0}` + "\n"
	if got := string(writeAll(t, translation.FormatJSONL, 5, recs)); got != want {
		t.Errorf("jsonl dump:\n%s\nwant:\n%s", got, want)
	}
}

func TestTextReaderAcceptsHandEditedInput(t *testing.T) {
	in := "# my table, edited by hand\n" +
		"\n" +
		"#\n" +
		"# transdb dump generation=12\n" + // no records=, so no count to hold it to
		"# transdb dump generation=13 records=99\n" + // not the first: a comment
		sep + "\n" +
		"  k   &   /a   1/2  \n" + // runs of blanks, no ID
		"action>\n" + // trailing blank stripped by an editor
		"action> second\r\n" +
		"note>\n" +
		"note> n\n" +
		sep + "\n" +
		"k & /b 0/0/7\n" +
		"action> last line without newline"
	got, gen, hasGen, err := readAll([]byte(in), translation.FormatText)
	if err != nil {
		t.Fatal(err)
	}
	want := []translation.Record{
		{Key: "k", URI: "/a", Block: 1, Order: 2, Action: "\nsecond\r", Note: "\nn"},
		{Key: "k", URI: "/b", Action: "last line without newline", ID: 7},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if gen != 12 || !hasGen {
		t.Errorf("Generation() = %d, %v; want the first dump comment's 12", gen, hasGen)
	}
}

// countedTable returns a text or file dump of n records whose actions
// are one line each, so that a text record takes three lines and a file
// record two, after the one-line dump comment.
func countedTable(t testing.TB, f translation.Format, n int) string {
	recs := make([]translation.Record, n)
	for i := range recs {
		recs[i] = translation.Record{Key: "k", URI: fmt.Sprintf("/r%02d", i), Action: fmt.Sprintf("action %d", i), ID: uint64(i + 1)}
	}
	return string(writeAll(t, f, 7, recs))
}

// firstLines returns the first n lines of s, each with its newline.
func firstLines(s string, n int) string {
	i := 0
	for range n {
		i += strings.IndexByte(s[i:], '\n') + 1
	}
	return s[:i]
}

func TestReadersHoldADumpToItsRecordCount(t *testing.T) {
	text15 := countedTable(t, translation.FormatText, 15)
	file15 := countedTable(t, translation.FormatFile, 15)
	text2 := countedTable(t, translation.FormatText, 2)
	// text15 without its end line: what a cut at the end of its last
	// record leaves.
	text15body := strings.TrimSuffix(text15, "# transdb dump end\n")
	// A last record of two action lines and a note, as a security rule
	// might be: cut after its first line, it would load as another rule.
	rule := string(writeAll(t, translation.FormatText, 7, []translation.Record{
		{Key: "k", URI: "/a", Action: "a", ID: 1},
		{Key: "k", URI: "/z", Action: "Cond: $x\nDo: deny_all()", Note: "keep", ID: 2},
	}))
	tests := []struct {
		name    string
		format  translation.Format
		in      string
		records int    // read before the error
		line    int    // of the error; 0: no error
		wantErr string // in the error
	}{
		{"text: complete", translation.FormatText, text15, 15, 0, ""},
		{"file: complete", translation.FormatFile, file15, 15, 0, ""},
		{"text: cut after 13 lines", translation.FormatText, firstLines(text15, 13), 4, 1, "declares records=15, the input ends after 4 (truncated?)"},
		{"file: cut after 13 lines", translation.FormatFile, firstLines(file15, 13), 6, 1, "declares records=15, the input ends after 6"},
		{"text: cut in the middle of a record", translation.FormatText, firstLines(text15, 15) + "action> cu", 5, 1, "declares records=15, the input ends after 5"},
		{"text: cut between separator and header", translation.FormatText, firstLines(text15, 8), 2, 8, "record separator not followed by a record header"},
		{"text: cut in the last line", translation.FormatText, text15body[:len(text15body)-3], 15, 46, "ends in the middle of a line (truncated?)"},
		{"text: cut in the end line", translation.FormatText, text15[:len(text15)-3], 14, 47, `expected an "action> " or "note> " line or a record separator, found "# transdb dump e"`},
		{"text: cut before the end line", translation.FormatText, text15body, 15, 46, `ends without the end line "# transdb dump end" that the dump comment on line 1 announces`},
		{"text: cut after a line of the last record", translation.FormatText, firstLines(rule, 7), 2, 7, `ends without the end line`},
		{"text: cut after the last action", translation.FormatText, firstLines(rule, 8), 2, 8, `ends without the end line`},
		{"file: cut in the last line", translation.FormatFile, file15[:len(file15)-1], 15, 31, "ends in the middle of a line"},
		{"text: only the dump comment", translation.FormatText, firstLines(text15, 1), 0, 1, "declares records=15, the input ends after 0"},
		{"text: a record more than declared", translation.FormatText, strings.TrimSuffix(text2, "# transdb dump end\n") + firstLines(text15[len(firstLines(text15, 1)):], 3), 2, 8, "record 3, but the dump comment on line 1 declares records=2"},
		{"text: a record after the end line", translation.FormatText, text2 + firstLines(text15[len(firstLines(text15, 1)):], 3), 1, 9, `after the end line "# transdb dump end" of the dump on line 8`},
		{"text: no records declared and none found", translation.FormatText, "# transdb dump generation=3 records=0\n", 0, 0, ""},
		{"file: no records declared and none found", translation.FormatFile, "# transdb dump generation=3 records=0\n", 0, 0, ""},
		{"text: garbled count", translation.FormatText, "# c\n# transdb dump generation=3 records=1x\n", 0, 2, `record count "1x" is not an integer`},
		{"text: negative count", translation.FormatText, "# transdb dump generation=3 records=-1\n", 0, 1, `record count "-1"`},
		{"text: without records= nothing is checked", translation.FormatText, "# transdb dump generation=3\n" + firstLines(text15, 7)[len(firstLines(text15, 1)):] + "action> cu", 2, 0, ""},
		{"text: a count in a later comment is a comment", translation.FormatText, "# transdb dump generation=3\n# transdb dump generation=4 records=9\n", 0, 0, ""},
		{"text: no dump comment, empty input", translation.FormatText, "", 0, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := translation.NewReader(strings.NewReader(tt.in), tt.format)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for {
				_, err = r.Next()
				if err != nil {
					break
				}
				n++
			}
			if n != tt.records {
				t.Errorf("read %d records, want %d", n, tt.records)
			}
			if tt.line == 0 {
				if err != io.EOF {
					t.Errorf("error %v, want none", err)
				}
				return
			}
			var perr *translation.ParseError
			if !errors.As(err, &perr) || !errors.Is(err, translation.ErrFormat) {
				t.Fatalf("error %v, want a *ParseError", err)
			}
			if perr.Line != tt.line || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q on line %d, want %q on line %d", err, perr.Line, tt.wantErr, tt.line)
			}
			if _, again := r.Next(); again != err {
				t.Errorf("next Next returned %v, want the same error again", again)
			}
		})
	}
}

func TestRecordsReportsTheDeclaredCount(t *testing.T) {
	tests := []struct {
		format translation.Format
		in     string
		n      int
		ok     bool
	}{
		{translation.FormatText, "# transdb dump generation=7 records=1\n" + sep + "\nk & / 0/0/1\naction> a\n", 1, true},
		{translation.FormatFile, "# transdb dump generation=7 records=0\n", 0, true},
		{translation.FormatText, "# transdb dump generation=7\n", 0, false},
		{translation.FormatText, "# transdb dump generation=x records=3\n", 0, false},
		{translation.FormatJSONL, `{"key":"k","uri":"/","block":0,"order":0,"action":"a"}`, 0, false},
	}
	for _, tt := range tests {
		r, err := translation.NewReader(strings.NewReader(tt.in), tt.format)
		if err != nil {
			t.Fatal(err)
		}
		if n, ok := r.Records(); n != tt.n || ok != tt.ok {
			t.Errorf("%s %q: Records() = %d, %v; want %d, %v", tt.format, tt.in, n, ok, tt.n, tt.ok)
		}
	}
}

func TestFileReaderSkipsOnlyLeadingComments(t *testing.T) {
	in := "# comment\n" +
		"\n" +
		"   \n" +
		">>>  1  k  /  0  0 \r\n" +
		"# this is action text\n" +
		"\n" +
		">>>2 k /x 3 4\n" +
		"\\\\escaped\n" +
		"\\plain\n" +
		"\\>>> escaped header\n" +
		">>> 3 k /y 0 0"
	got, _, hasGen, err := readAll([]byte(in), translation.FormatFile)
	if err != nil {
		t.Fatal(err)
	}
	want := []translation.Record{
		{Key: "k", URI: "/", ID: 1, Action: "# this is action text\n"},
		{Key: "k", URI: "/x", Block: 3, Order: 4, ID: 2, Action: "\\escaped\nplain\n>>> escaped header"},
		{Key: "k", URI: "/y", ID: 3, Action: ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if hasGen {
		t.Error("Generation() reports a generation for a file without the dump comment")
	}
}

func TestFileFormatCanonicalInputIsReproduced(t *testing.T) {
	in := "# transdb dump generation=4 records=2\n" +
		">>> 1 front :PRE: 0 0\n" +
		"Cond: $HOSTNAME =~ /de$/\n" +
		"\n" +
		"second line after a blank one\n" +
		">>> 2 front / 0 1\n" +
		"\\>>> not a header\n"
	recs, gen, _, err := readAll([]byte(in), translation.FormatFile)
	if err != nil {
		t.Fatal(err)
	}
	if out := writeAll(t, translation.FormatFile, gen, recs); string(out) != in {
		t.Errorf("file -> records -> file changed the input:\n%s\nwant:\n%s", out, in)
	}
}

func TestJSONLReader(t *testing.T) {
	in := "\n" +
		`{"id":9,"action":"a","order":2,"block":1,"uri":"/","key":"k"}` + "\n" +
		"   \t\r\n" +
		` { "key" : "k2", "uri": "/\u00e9", "block": 0, "order": 4294967295, "action": "", "note": "x" } ` + "\r\n"
	got, _, hasGen, err := readAll([]byte(in), translation.FormatJSONL)
	if err != nil {
		t.Fatal(err)
	}
	want := []translation.Record{
		{Key: "k", URI: "/", Block: 1, Order: 2, Action: "a", ID: 9},
		{Key: "k2", URI: "/é", Order: 4294967295, Note: "x"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if hasGen {
		t.Error("jsonl reports a generation")
	}
}

func TestReadersRejectMalformedInput(t *testing.T) {
	const (
		text  = translation.FormatText
		file  = translation.FormatFile
		jsonl = translation.FormatJSONL
	)
	rec := func(key, uri, block, order, action string) string {
		return `{"key":` + key + `,"uri":` + uri + `,"block":` + block + `,"order":` + order + `,"action":` + action + `}`
	}
	valid := rec(`"k"`, `"/"`, "0", "0", `"a"`)
	tests := []struct {
		name    string
		format  translation.Format
		in      string
		line    int
		wantErr string
		invalid bool // the error also wraps ErrInvalidRecord
	}{
		{"text: junk before the first record", text, "# ok\njunk\n", 2, `expected a comment or the first record, found "junk"`, false},
		{"text: separator with a CR", text, sep + "\r\nk & / 0/0/1\naction> a\n", 1, `only \n ends a line`, false},
		{"text: later separator with a CR", text, sep + "\nk & / 0/0/1\naction> a\n" + sep + "\r\n", 4, `only \n ends a line`, false},
		{"text: separator at the end", text, sep + "\n", 1, "record separator not followed by a record header", false},
		{"text: two separators", text, sep + "\n" + sep + "\n", 1, "not followed by a record header", false},
		{"text: truncated header", text, sep + "\nk & /\n", 2, "malformed record header", false},
		{"text: header without &", text, sep + "\nk / 0/0/1\naction> a\n", 2, "malformed record header", false},
		{"text: white space in key", text, sep + "\na b & / 0/0/1\naction> a\n", 2, "malformed record header", false},
		{"text: bad block", text, sep + "\nk & / x/0/1\naction> a\n", 2, `block "x" is not an integer`, false},
		{"text: block too large", text, sep + "\nk & / 4294967296/0/1\naction> a\n", 2, `block "4294967296" is not an integer in 0..4294967295`, false},
		{"text: negative order", text, sep + "\nk & / 0/-1/1\naction> a\n", 2, `order "-1"`, false},
		{"text: bad id", text, sep + "\nk & / 0/0/x\naction> a\n", 2, `id "x"`, false},
		{"text: too many numbers", text, sep + "\nk & / 0/0/1/2\naction> a\n", 2, "malformed BLOCK/ORDER/ID", false},
		{"text: no action", text, sep + "\nk & / 0/0/1\n" + sep + "\nk & / 0/0/2\naction> a\n", 2, "record has no action line", false},
		{"text: no action at the end", text, sep + "\nk & / 0/0/1\n", 2, "record has no action line", false},
		{"text: unprefixed line", text, sep + "\nk & / 0/0/1\naction> a\nloose text\n", 4, `expected an "action> " or "note> " line`, false},
		{"text: blank line in a record", text, sep + "\nk & / 0/0/1\naction> a\n\n", 4, `found ""`, false},
		{"text: comment inside a record", text, sep + "\nk & / 0/0/1\naction> a\n# c\n", 4, "expected an", false},
		{"text: prefix without space", text, sep + "\nk & / 0/0/1\naction>a\n", 3, "expected an", false},
		{"text: action after note", text, sep + "\nk & / 0/0/1\naction> a\nnote> n\naction> b\n", 5, "action line after a note line", false},
		{"text: note before action", text, sep + "\nk & / 0/0/1\nnote> n\naction> a\n", 3, "note line before the first action line", false},
		{"text: error in a later record", text, sep + "\nk & / 0/0/1\naction> a\n" + sep + "\nk & / 0/0\nbad\n", 6, "expected an", false},

		{"file: junk before the first record", file, "\n# c\njunk\n>>> 1 k / 0 0\n", 3, `found "junk"`, false},
		{"file: header with four fields", file, ">>> 1 k / 0\naction\n", 1, "malformed record header", false},
		{"file: header with six fields", file, ">>> 1 a b / 0 0\naction\n", 1, "malformed record header", false},
		{"file: empty header", file, ">>>\n", 1, "malformed record header", false},
		{"file: bad id", file, ">>> x k / 0 0\n", 1, `id "x"`, false},
		{"file: bad block", file, ">>> 1 k / 0x1 0\n", 1, `block "0x1"`, false},
		{"file: order too large", file, ">>> 1 k / 0 99999999999\n", 1, `order "99999999999"`, false},
		{"file: error in a later record", file, ">>> 1 k / 0 0\na\nb\n>>> 2 k / 0 +1\n", 4, `order "+1"`, false},

		{"jsonl: not JSON", jsonl, "hello\n", 1, "invalid character", false},
		{"jsonl: not an object", jsonl, "[1]\n", 1, "want a JSON object", false},
		{"jsonl: truncated object", jsonl, `{"key":"k"` + "\n", 1, "truncated JSON object", false},
		{"jsonl: trailing data", jsonl, valid + " {}\n", 1, "unexpected data after the JSON object", false},
		{"jsonl: unknown field", jsonl, `{"key":"k","uri":"/","block":0,"order":0,"action":"a","extra":1}`, 1, `unknown field "extra"`, false},
		{"jsonl: field name in other case", jsonl, `{"Key":"k","uri":"/","block":0,"order":0,"action":"a"}`, 1, `unknown field "Key"`, false},
		{"jsonl: repeated field", jsonl, `{"key":"k","key":"k","uri":"/","block":0,"order":0,"action":"a"}`, 1, `repeated field "key"`, false},
		{"jsonl: missing action", jsonl, `{"key":"k","uri":"/","block":0,"order":0}`, 1, `missing field "action"`, false},
		{"jsonl: missing key", jsonl, `{"uri":"/","block":0,"order":0,"action":"a"}`, 1, `missing field "key"`, false},
		{"jsonl: block too large", jsonl, rec(`"k"`, `"/"`, "4294967296", "0", `"a"`), 1, `block "4294967296" is not an integer in 0..4294967295`, false},
		{"jsonl: negative block", jsonl, rec(`"k"`, `"/"`, "-1", "0", `"a"`), 1, `block "-1"`, false},
		{"jsonl: fractional order", jsonl, rec(`"k"`, `"/"`, "0", "1.5", `"a"`), 1, `order "1.5"`, false},
		{"jsonl: exponent order", jsonl, rec(`"k"`, `"/"`, "0", "1e3", `"a"`), 1, `order "1e3"`, false},
		{"jsonl: block as string", jsonl, rec(`"k"`, `"/"`, `"1"`, "0", `"a"`), 1, `block "\"1\""`, false},
		{"jsonl: null action", jsonl, rec(`"k"`, `"/"`, "0", "0", "null"), 1, `action must be a string, found "null"`, false},
		{"jsonl: number key", jsonl, rec("1", `"/"`, "0", "0", `"a"`), 1, "key must be a string", false},
		{"jsonl: null note", jsonl, `{"key":"k","uri":"/","block":0,"order":0,"action":"a","note":null}`, 1, "note must be a string", false},
		{"jsonl: bad id", jsonl, `{"key":"k","uri":"/","block":0,"order":0,"action":"a","id":-5}`, 1, `id "-5"`, false},
		{"jsonl: white space in key", jsonl, rec(`"a b"`, `"/"`, "0", "0", `"a"`), 1, `key "a b" contains white space`, true},
		{"jsonl: newline in uri", jsonl, rec(`"k"`, `"/\n"`, "0", "0", `"a"`), 1, `uri "/\n" contains white space`, true},
		{"jsonl: empty key", jsonl, rec(`""`, `"/"`, "0", "0", `"a"`), 1, "empty key", true},
		{"jsonl: invalid UTF-8", jsonl, rec(`"k"`, `"/"`, "0", "0", "\"\xff\""), 1, "not valid UTF-8", false},
		{"jsonl: bad escape", jsonl, rec(`"k"`, `"/"`, "0", "0", `"\q"`), 1, "invalid character", false},
		{"jsonl: line numbers count blank lines", jsonl, valid + "\n\n" + valid + "\n{\n", 4, "truncated JSON object", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := readAll([]byte(tt.in), tt.format)
			if err == nil {
				t.Fatalf("no error for %q", tt.in)
			}
			if !errors.Is(err, translation.ErrFormat) {
				t.Errorf("error %v does not wrap ErrFormat", err)
			}
			if got := errors.Is(err, translation.ErrInvalidRecord); got != tt.invalid {
				t.Errorf("errors.Is(err, ErrInvalidRecord) = %v, want %v", got, tt.invalid)
			}
			var perr *translation.ParseError
			if !errors.As(err, &perr) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if perr.Line != tt.line || perr.Format != tt.format {
				t.Errorf("error at %s line %d, want %s line %d: %v", perr.Format, perr.Line, tt.format, tt.line, err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestReaderErrorsAreSticky(t *testing.T) {
	in := sep + "\nk & / 0/0/1\naction> a\njunk\n" + sep + "\nk & /b 0/0/2\naction> b\n"
	r, err := translation.NewReader(strings.NewReader(in), translation.FormatText)
	if err != nil {
		t.Fatal(err)
	}
	_, first := r.Next()
	if first == nil {
		t.Fatal("no error for the junk line")
	}
	if _, again := r.Next(); again != first {
		t.Errorf("second Next returned %v, want the first error %v again", again, first)
	}
}

func TestParseErrorMessage(t *testing.T) {
	_, _, _, err := readAll([]byte(sep+"\nk & / x/0/1\n"), translation.FormatText)
	want := `translation: text input, line 2: block "x" is not an integer in 0..4294967295`
	if err == nil || err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

func TestReaderReportsReadErrors(t *testing.T) {
	boom := errors.New("disk on fire")
	for _, f := range allFormats {
		src := io.MultiReader(strings.NewReader("\n"), iotest.ErrReader(boom))
		r, err := translation.NewReader(src, f)
		if err != nil {
			t.Fatal(err)
		}
		var readErr error
		for readErr == nil {
			_, readErr = r.Next()
		}
		if !errors.Is(readErr, boom) {
			t.Errorf("%s: error %v does not wrap the read error", f, readErr)
		}
		if errors.Is(readErr, translation.ErrFormat) {
			t.Errorf("%s: read error %v reported as malformed input", f, readErr)
		}
	}
}

func TestGenerationIsAvailableBeforeNext(t *testing.T) {
	tests := []struct {
		format  translation.Format
		in      string
		gen     uint64
		hasGen  bool
		records int
	}{
		{translation.FormatText, "# transdb dump generation=7 records=1\n" + sep + "\nk & / 0/0/1\naction> a\n", 7, true, 1},
		{translation.FormatText, "# transdb dump generation=18446744073709551615\n", 18446744073709551615, true, 0},
		{translation.FormatText, "# transdb dump generation=x records=1\n", 0, false, 0},
		{translation.FormatText, "# some other comment\n", 0, false, 0},
		{translation.FormatText, sep + "\nk & / 0/0/1\naction> a\n# transdb dump generation=7\n", 0, false, -1},
		{translation.FormatFile, "# transdb dump generation=3 records=1\n>>> 1 k / 0 0\na\n", 3, true, 1},
		{translation.FormatFile, ">>> 1 k / 0 0\n# transdb dump generation=3\n", 0, false, 1},
		{translation.FormatJSONL, `{"key":"k","uri":"/","block":0,"order":0,"action":"a"}`, 0, false, 1},
	}
	for _, tt := range tests {
		r, err := translation.NewReader(strings.NewReader(tt.in), tt.format)
		if err != nil {
			t.Fatal(err)
		}
		gen, ok := r.Generation()
		if gen != tt.gen || ok != tt.hasGen {
			t.Errorf("%s %q: Generation() = %d, %v; want %d, %v", tt.format, tt.in, gen, ok, tt.gen, tt.hasGen)
		}
		n := 0
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				n = -1
				break
			}
			n++
		}
		if n != tt.records {
			t.Errorf("%s %q: read %d records after Generation, want %d (-1: an error)", tt.format, tt.in, n, tt.records)
		}
	}
}

func TestWriterRejectsInvalidRecords(t *testing.T) {
	bad := []struct {
		name string
		rec  translation.Record
		only translation.Format // "" for every format
	}{
		{"space in key", translation.Record{Key: "a b", URI: "/", Action: "x"}, ""},
		{"newline in uri", translation.Record{Key: "k", URI: "/\n", Action: "x"}, ""},
		{"empty key", translation.Record{Key: "", URI: "/", Action: "x"}, ""},
		{"empty uri", translation.Record{Key: "k", Action: "x"}, ""},
		{"invalid UTF-8 action", translation.Record{Key: "k", URI: "/", Action: "\xff"}, translation.FormatJSONL},
		{"invalid UTF-8 note", translation.Record{Key: "k", URI: "/", Note: "\xc3"}, translation.FormatJSONL},
		{"invalid UTF-8 key", translation.Record{Key: "\xff", URI: "/"}, translation.FormatJSONL},
	}
	good := translation.Record{Key: "k", URI: "/ok", Action: "fine"}
	for _, f := range allFormats {
		for _, tt := range bad {
			if tt.only != "" && tt.only != f {
				continue
			}
			var buf bytes.Buffer
			w, err := translation.NewWriter(&buf, f, 0, 1)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(tt.rec); !errors.Is(err, translation.ErrInvalidRecord) {
				t.Errorf("%s, %s: Write error %v, want ErrInvalidRecord", f, tt.name, err)
			}
			// The writer stays usable and wrote nothing for the bad record.
			if err := w.Write(good); err != nil {
				t.Errorf("%s, %s: Write after a refused record: %v", f, tt.name, err)
			}
			if err := w.Close(); err != nil {
				t.Errorf("%s, %s: Close: %v", f, tt.name, err)
			}
			got, _, _, err := readAll(buf.Bytes(), f)
			if err != nil || !reflect.DeepEqual(got, []translation.Record{good}) {
				t.Errorf("%s, %s: output holds %q, %v; want only the good record", f, tt.name, got, err)
			}
		}
	}
}

func TestWriterChecksAnnouncedRecordCount(t *testing.T) {
	for _, f := range []translation.Format{translation.FormatText, translation.FormatFile} {
		var buf bytes.Buffer
		w, _ := translation.NewWriter(&buf, f, 1, 2)
		if err := w.Write(translation.Record{Key: "k", URI: "/", Action: "a"}); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err == nil || !strings.Contains(err.Error(), "announced 2 records, 1 were written") {
			t.Errorf("%s: Close error %v, want a count mismatch", f, err)
		}

		buf.Reset()
		w, _ = translation.NewWriter(&buf, f, 1, -1)
		if err := w.Write(translation.Record{Key: "k", URI: "/", Action: "a"}); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Errorf("%s: Close with an unknown count: %v", f, err)
		}
		if first, _, _ := strings.Cut(buf.String(), "\n"); strings.Contains(first, "records=") {
			t.Errorf("%s: header %q, want no records= for an unknown count", f, first)
		}
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

func TestWriterReportsWriteErrors(t *testing.T) {
	boom := errors.New("disk full")
	big := translation.Record{Key: "k", URI: "/", Action: strings.Repeat("x", 10000)}
	for _, f := range allFormats {
		w, err := translation.NewWriter(failingWriter{boom}, f, 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(big); !errors.Is(err, boom) {
			t.Errorf("%s: Write of a record larger than the buffer: %v, want %v", f, err, boom)
		}
		if err := w.Write(translation.Record{Key: "k", URI: "/", Action: "a"}); !errors.Is(err, boom) {
			t.Errorf("%s: error not sticky: %v", f, err)
		}
		if err := w.Close(); !errors.Is(err, boom) {
			t.Errorf("%s: Close: %v, want %v", f, err, boom)
		}
	}
}

func TestWriteAfterCloseFails(t *testing.T) {
	w, _ := translation.NewWriter(io.Discard, translation.FormatJSONL, 0, -1)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(translation.Record{Key: "k", URI: "/"}); err == nil {
		t.Error("Write after Close succeeded")
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in   string
		want translation.Format
		ok   bool
	}{
		{"", translation.FormatText, true},
		{"text", translation.FormatText, true},
		{"file", translation.FormatFile, true},
		{"jsonl", translation.FormatJSONL, true},
		{"JSONL", translation.FormatJSONL, true},
		{"json", "", false},
		{"csv", "", false},
	}
	for _, tt := range tests {
		got, err := translation.ParseFormat(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if !tt.ok && !errors.Is(err, translation.ErrUnknownFormat) {
			t.Errorf("ParseFormat(%q) error %v does not wrap ErrUnknownFormat", tt.in, err)
		}
	}
	if _, err := translation.NewReader(strings.NewReader(""), "xml"); !errors.Is(err, translation.ErrUnknownFormat) {
		t.Errorf("NewReader with an unknown format: %v", err)
	}
	if _, err := translation.NewWriter(io.Discard, "", 0, 0); !errors.Is(err, translation.ErrUnknownFormat) {
		t.Errorf("NewWriter with an empty format: %v", err)
	}
}

// exampleTable is the example table of the design, section 10.
var exampleTable = []translation.Record{
	{ID: 1, Key: "front", URI: ":PRE:", Block: 0, Order: 0, Action: `Cond: $HOSTNAME !~ /^(?:www\.)xyz\.(?:com|de)$/`},
	{ID: 2, Key: "front", URI: ":PRE:", Block: 0, Order: 1, Action: `Redirect: 'http://xyz.com'.$URI, 301`},
	{ID: 3, Key: "front", URI: ":PRE:", Block: 1, Order: 0, Action: `Do: $CTX{lang}='en'`},
	{ID: 4, Key: "front", URI: ":PRE:", Block: 1, Order: 1, Action: `Cond: $HOSTNAME =~ /de$/`},
	{ID: 5, Key: "front", URI: ":PRE:", Block: 1, Order: 2, Action: `Do: $CTX{lang}='de'`},
	{ID: 6, Key: "front", URI: "/static", Block: 0, Order: 0, Action: `File: $DOCROOT.'/'.$CTX{lang}.$MATCHED_PATH_INFO`},
	{ID: 7, Key: "front", URI: "/appl1", Block: 0, Order: 0, Action: `Proxy: 'http://backend/'.$CTX{lang}.$URI`},
	{ID: 8, Key: "front", URI: "/appl2", Block: 0, Order: 0, Action: `Proxy: 'http://backend/'.$URI.'?l='.$CTX{lang}`},
	{ID: 9, Key: "front", URI: "/", Block: 0, Order: 0, Action: `Config: ['AuthName "secret"'], ['AuthType Basic']`},
	{ID: 10, Key: "back", URI: ":PRE:", Block: 0, Order: 0, Action: `Cond: $r->connection->remote_ip ne '127.0.0.1'`},
	{ID: 11, Key: "back", URI: ":PRE:", Block: 0, Order: 1, Action: `Error: 403, 'Forbidden by Apache2::Translation(11)'`},
	{ID: 12, Key: "back", URI: "/appl1", Block: 0, Order: 0, Action: `PerlHandler: 'My::Application1'`},
	{ID: 13, Key: "back", URI: "/appl2", Block: 0, Order: 0, Action: `PerlHandler: 'My::Application2'`},
}

func TestExampleTablesMatchTheDesign(t *testing.T) {
	for _, tt := range []struct {
		path   string
		format translation.Format
	}{
		{"../testdata/example.txt", translation.FormatText},
		{"../testdata/example.file", translation.FormatFile},
	} {
		data, err := os.ReadFile(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		got, gen, hasGen, err := readAll(data, tt.format)
		if err != nil {
			t.Fatalf("%s: %v", tt.path, err)
		}
		if !reflect.DeepEqual(got, exampleTable) {
			t.Errorf("%s: records differ from the example table:\n got %q\nwant %q", tt.path, got, exampleTable)
		}
		if gen != 0 || !hasGen {
			t.Errorf("%s: Generation() = %d, %v; want 0, true", tt.path, gen, hasGen)
		}
		if out := writeAll(t, tt.format, 0, got); !bytes.Equal(out, data) {
			t.Errorf("%s is not in the canonical form the writer produces:\n%s", tt.path, out)
		}
	}
}
