package httpprovider

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"transdb/translation"
)

// marshalString returns s as a JSON string, as an encoding/json
// Encoder with SetEscapeHTML(false) writes it.
func marshalString(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func TestAppendStringEscapesAsEncodingJSONWithoutHTMLEscaping(t *testing.T) {
	inputs := []string{
		"", "plain", `quote " and backslash \`, "<script>&amp;</script>", "$r->connection", "a & b <c>",
		"\x00\x01\x07\b\t\n\v\f\r\x1b\x1f\x7f", "é ü 日本 😀", "\u2028 and \u2029",
		"\xff", "a\xffb", "\xc3\x28", "\xe2\x82", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"\xf0\x9f\x98", strings.Repeat("x\"", 3000),
	}
	for c := range 256 {
		inputs = append(inputs, string([]byte{byte(c)}), "a"+string([]byte{byte(c)})+"z")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			if rng.IntN(4) == 0 {
				b[i] = byte(rng.IntN(256))
			} else {
				const pieces = " a\"\\<>&\n\x00\xe2\x80\xa8\xc3\xa9"
				b[i] = pieces[rng.IntN(len(pieces))]
			}
		}
		inputs = append(inputs, string(b))
	}
	for _, s := range inputs {
		want := marshalString(t, s)
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestWriteFetchIsTheJSONOfTheBlockList(t *testing.T) {
	blocks := []translation.Record{
		{Key: "k", URI: "/u", Block: 4294967295, Order: 0, Action: "a \"quoted\" \\ <b>\n\xff", ID: 18446744073709551615},
		{Key: "k", URI: "/u", Block: 1, Order: 2, Action: "", Note: "note\x01", ID: 3},
	}
	var b bytes.Buffer
	if err := WriteFetch(&b, "k", "/u", 7, blocks); err != nil {
		t.Fatal(err)
	}
	want := `{"key":"k","uri":"/u","generation":7,"blocks":[` +
		`{"block":4294967295,"order":0,"action":"a \"quoted\" \\ <b>\n\ufffd","id":18446744073709551615},` +
		`{"block":1,"order":2,"action":"","id":3,"note":"note\u0001"}]}` + "\n"
	if b.String() != want {
		t.Errorf("WriteFetch =\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	if err := WriteFetch(&b, "k", "/u", 0, nil); err != nil {
		t.Fatal(err)
	}
	if want := `{"key":"k","uri":"/u","generation":0,"blocks":[]}` + "\n"; b.String() != want {
		t.Errorf("WriteFetch of nothing = %s", b.String())
	}
}

func TestWriteResolutionAndStats(t *testing.T) {
	var b bytes.Buffer
	res := translation.Resolution{Key: "k", URI: "/a/b", Generation: 2, Pre: []translation.Record{},
		Matches: []translation.Match{{URI: "/a", PathInfo: "/b", Blocks: []translation.Record{{Action: "x", ID: 1}}}}}
	if err := WriteResolution(&b, res); err != nil {
		t.Fatal(err)
	}
	want := `{"key":"k","uri":"/a/b","generation":2,"pre":[],"matches":[{"uri":"/a","path_info":"/b","blocks":[{"block":0,"order":0,"action":"x","id":1}]}]}` + "\n"
	if b.String() != want {
		t.Errorf("WriteResolution = %s, want %s", b.String(), want)
	}
	// Pre blocks, a match without blocks, two matches, and nothing.
	for _, tt := range []struct {
		res  translation.Resolution
		want string
	}{
		{translation.Resolution{Key: "k", URI: "/a/b", Generation: 3,
			Pre: []translation.Record{{Action: "p1", ID: 1}, {Block: 1, Action: "p2", Note: "n", ID: 2}},
			Matches: []translation.Match{
				{URI: "/a/b", PathInfo: "", Blocks: []translation.Record{}},
				{URI: "/a", PathInfo: "/b", Blocks: []translation.Record{{Action: "m1", ID: 3}, {Order: 1, Action: "m2", ID: 4}}},
			}},
			`{"key":"k","uri":"/a/b","generation":3,"pre":[{"block":0,"order":0,"action":"p1","id":1},{"block":1,"order":0,"action":"p2","id":2,"note":"n"}],` +
				`"matches":[{"uri":"/a/b","path_info":"","blocks":[]},{"uri":"/a","path_info":"/b","blocks":[{"block":0,"order":0,"action":"m1","id":3},{"block":0,"order":1,"action":"m2","id":4}]}]}` + "\n"},
		{translation.Resolution{Key: "k", URI: "/", Generation: 1},
			`{"key":"k","uri":"/","generation":1,"pre":[],"matches":[]}` + "\n"},
	} {
		b.Reset()
		if err := WriteResolution(&b, tt.res); err != nil {
			t.Fatal(err)
		}
		if b.String() != tt.want {
			t.Errorf("WriteResolution =\n%s\nwant\n%s", b.String(), tt.want)
		}
	}
	b.Reset()
	st := translation.Stats{Generation: 1, Records: 2, StoredRecords: 9, FileSize: 3, Reads: 4, Commits: 5, Creates: 6, Deletes: 7, Reloads: 8}
	if err := WriteStats(&b, st); err != nil {
		t.Fatal(err)
	}
	want = `{"generation":1,"records":2,"stored_records":9,"file_bytes":3,"reads":4,"writes":5,"creates":6,"deletes":7,"reloads":8}` + "\n"
	if b.String() != want {
		t.Errorf("WriteStats = %s, want %s", b.String(), want)
	}
}
