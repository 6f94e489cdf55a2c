package jsontext

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
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
		if got := AppendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
	}
}
