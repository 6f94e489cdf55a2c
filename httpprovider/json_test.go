package httpprovider

import (
	"bytes"
	"testing"

	"transdb/translation"
)

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
