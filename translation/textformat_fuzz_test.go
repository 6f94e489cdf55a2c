package translation_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"transdb/translation"
)

// fuzzReader checks that reading data in format f never panics, fails only
// with ParseErrors, and that whatever it accepts survives writing and
// reading again unchanged; the second dump equals the first byte for byte.
func fuzzReader(t *testing.T, f translation.Format, data []byte) {
	recs, gen, _, err := readAll(data, f)
	if err != nil {
		var perr *translation.ParseError
		if !errors.As(err, &perr) || !errors.Is(err, translation.ErrFormat) || perr.Line < 1 {
			t.Fatalf("error %v is not a ParseError with a line number", err)
		}
		return
	}
	out := writeAll(t, f, gen, recs)
	back, gen2, _, err := readAll(out, f)
	if err != nil {
		t.Fatalf("reading the writer's output: %v\n%q", err, out)
	}
	if len(recs) == 0 && len(back) == 0 {
		back = recs
	}
	if !reflect.DeepEqual(back, recs) {
		t.Fatalf("round trip changed the records:\n got %q\nwant %q", back, recs)
	}
	if gen2 != gen {
		t.Fatalf("round trip changed the generation from %d to %d", gen, gen2)
	}
	if again := writeAll(t, f, gen2, back); !bytes.Equal(again, out) {
		t.Fatalf("second dump differs:\n%q\n%q", out, again)
	}
}

// addSeeds adds the tricky records in format f and the inputs given.
func addSeeds(f *testing.F, format translation.Format, inputs ...string) {
	f.Add(writeAll(f, format, 3, trickyRecords))
	f.Add(writeAll(f, format, 0, exampleTable))
	for _, in := range inputs {
		f.Add([]byte(in))
	}
}

func FuzzReadText(f *testing.F) {
	addSeeds(f, translation.FormatText,
		"",
		"# transdb dump generation=5 records=1\n"+sep+"\nk & / 0/0/1\naction> a\nnote> n\n",
		sep+"\nk & / 0/0\naction>\n",
		sep+"\nk & / 0/0/1\nnote> n\n",
		sep+"\r\nk & / 0/0/1\r\naction> a\r\n",
		sep+"\nk & / 4294967296/0/1\naction> a\n",
	)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzReader(t, translation.FormatText, data) })
}

func FuzzReadFile(f *testing.F) {
	addSeeds(f, translation.FormatFile,
		"",
		"# c\n\n>>> 1 k / 0 0\naction\n>>> 2 k /x 1 2\n\\>>> x\n\\\\\n",
		">>> 1 k / 0\n",
		"junk\n>>> 1 k / 0 0\n",
		">>>1\tk\t/\t0\t0\r\n\r\n",
	)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzReader(t, translation.FormatFile, data) })
}

func FuzzReadJSONL(f *testing.F) {
	addSeeds(f, translation.FormatJSONL,
		"",
		`{"key":"k","uri":"/","block":0,"order":0,"action":"a","note":"n","id":1}`+"\n\n",
		`{"id":1,"action":"a\u2028\ud800","order":4294967295,"block":0,"uri":"/","key":"k"}`,
		`{"key":"k","uri":"/","block":0,"order":0,"action":"a","Note":"n"}`,
		`{"key":"k","uri":"/","block":1.0,"order":0,"action":"a"}`,
		`{"key":"k"`,
	)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzReader(t, translation.FormatJSONL, data) })
}
