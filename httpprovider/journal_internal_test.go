package httpprovider

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"transdb/translation"
)

// naiveTail is tailJournal done the plain way: the whole file, split.
func naiveTail(t *testing.T, path string, limit int, keep func(*journalEntry) bool) []journalEntry {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(b, []byte("\n"))
	lines = lines[:len(lines)-1] // the last piece has no newline
	var out []journalEntry
	for _, l := range slices.Backward(lines) {
		if e, ok := parseJournalLine(l); ok && keep(&e) {
			out = append(out, e)
			if len(out) == limit {
				break
			}
		}
	}
	return out
}

func TestTailJournalReadsAcrossChunksFromTheEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trans.mmdb.journal")
	l := newLogFile(path, true, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for gen := uint64(1); gen <= 400; gen++ {
		var changes []change
		for range 1 + rng.IntN(5) {
			// Actions from empty to beyond a chunk, with escapes.
			action := strings.Repeat("a|\\\n", rng.IntN(40))
			if rng.IntN(50) == 0 {
				action = strings.Repeat("long", journalChunk/3)
			}
			op := []string{"insert", "delete", "clear"}[rng.IntN(3)]
			changes = append(changes, change{op, translation.Record{ID: gen, Key: []string{"a", "b"}[rng.IntN(2)],
				URI: []string{"/", "/x"}[rng.IntN(2)], Block: uint32(rng.IntN(3)), Action: action}})
		}
		l.writeChanges(now, gen, changes)
	}
	if err := l.close(); err != nil {
		t.Fatal(err)
	}
	// A line torn by a crash at the end, and one of another format.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("not|a|journal|line\n2026-01-02T03:04:05.000000Z|401|insert|9|a|/|0|0|tor")
	f.Close()
	for _, tt := range []struct {
		limit int
		keep  func(*journalEntry) bool
	}{
		{1000, func(*journalEntry) bool { return true }},
		{7, func(*journalEntry) bool { return true }},
		{1000, func(e *journalEntry) bool { return e.key == "a" && e.uri == "/x" }},
		{3, func(e *journalEntry) bool { return e.op == "clear" }},
	} {
		got, truncated, err := tailJournal(path, tt.limit, journalScan, tt.keep)
		if err != nil || truncated {
			t.Fatalf("tailJournal: %v (truncated %v)", err, truncated)
		}
		want := naiveTail(t, path, tt.limit, tt.keep)
		if len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("limit %d: %d entries, want %d", tt.limit, len(got), len(want))
		}
	}
	// With a bound on what is read, the newest entries and the truncation.
	got, truncated, err := tailJournal(path, 1000, 3*journalChunk+5, func(*journalEntry) bool { return true })
	all := naiveTail(t, path, 1000, func(*journalEntry) bool { return true })
	if err != nil || !truncated || len(got) == 0 || len(got) >= len(all) || !reflect.DeepEqual(got, all[:len(got)]) {
		t.Errorf("bounded: %d entries of %d, truncated %v, %v", len(got), len(all), truncated, err)
	}
	// No journal yet: no entries.
	if got, truncated, err := tailJournal(path+".none", 10, journalScan, nil); got != nil || truncated || err != nil {
		t.Errorf("missing journal: %v %v %v", got, truncated, err)
	}
}

// Every byte of a field survives the journal: escaped when it is a
// separator or a control character, read back as it was.
func TestJournalFieldsHoldEveryByte(t *testing.T) {
	var all []byte
	for c := range 256 {
		all = append(all, byte(c))
	}
	action := string(all) + "\u009b[31m \u0085 é" + `\x4` + `\`
	line := []byte("2026-12-03T00:00:00.000000Z|7|insert|9|k|/u|1|2|")
	line = appendField(line, action)
	if bytes.ContainsFunc(line, func(r rune) bool { return r < ' ' && r != '\t' || r >= 0x7f && r <= 0x9f }) {
		t.Errorf("control characters in the line: %q", line)
	}
	e, ok := parseJournalLine(line)
	if !ok || e.action != action || e.id != 9 || e.block != 1 || e.order != 2 {
		t.Errorf("parsed %+v, %v; want the action %q", e, ok, action)
	}
}
