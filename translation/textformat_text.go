package translation

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// textSeparator is the line that starts each record of the text format.
var textSeparator = strings.Repeat("#", 70)

func isTextSeparator(line []byte) bool { return string(line) == textSeparator }

// Line prefixes of the text format's action and note lines.
const (
	actionPrefix = "action>"
	notePrefix   = "note>"
)

// textReader reads FormatText.
type textReader struct{ blockReader }

func (r *textReader) Next() (Record, error) {
	_, sepN, err := r.nextStart()
	if err != nil {
		return Record{}, err
	}
	header, ok, err := r.body()
	if err != nil {
		return r.fail(err)
	}
	if !ok {
		return r.fail(r.lines.errorf(sepN, "record separator not followed by a record header"))
	}
	headerN := r.lines.n
	rec, err := parseTextHeader(string(header))
	if err != nil {
		return r.fail(r.lines.errorf(headerN, "%w", err))
	}

	var action, note strings.Builder
	var actions, notes int
	for {
		line, ok, err := r.body()
		if err != nil {
			return r.fail(err)
		}
		if !ok {
			break
		}
		if piece, ok := cutLinePrefix(line, actionPrefix); ok {
			if notes > 0 {
				return r.fail(r.lines.errorf(r.lines.n, "action line after a note line"))
			}
			if actions > 0 {
				action.WriteByte('\n')
			}
			action.Write(piece)
			actions++
			continue
		}
		if piece, ok := cutLinePrefix(line, notePrefix); ok {
			if actions == 0 {
				return r.fail(r.lines.errorf(r.lines.n, "note line before the first action line"))
			}
			if notes > 0 {
				note.WriteByte('\n')
			}
			note.Write(piece)
			notes++
			continue
		}
		return r.fail(r.lines.errorf(r.lines.n, `expected an "action> " or "note> " line or a record separator, found %s`, quoteLine(line)))
	}
	if actions == 0 {
		return r.fail(r.lines.errorf(headerN, "record has no action line"))
	}
	rec.Action, rec.Note = action.String(), note.String()
	return rec, nil
}

// cutLinePrefix returns the rest of line after prefix followed by a
// space, or after a bare prefix that is the whole line.
func cutLinePrefix(line []byte, prefix string) ([]byte, bool) {
	rest, ok := bytes.CutPrefix(line, []byte(prefix))
	if !ok {
		return nil, false
	}
	if len(rest) == 0 {
		return rest, true
	}
	if rest[0] == ' ' {
		return rest[1:], true
	}
	return nil, false
}

// parseTextHeader parses "KEY & URI BLOCK/ORDER/ID" (or without "/ID").
func parseTextHeader(line string) (Record, error) {
	fields := strings.Fields(line)
	if len(fields) != 4 || fields[1] != "&" {
		return Record{}, fmt.Errorf("malformed record header %s, want \"KEY & URI BLOCK/ORDER/ID\"", quoteLine([]byte(line)))
	}
	nums := strings.Split(fields[3], "/")
	if len(nums) != 2 && len(nums) != 3 {
		return Record{}, fmt.Errorf("malformed BLOCK/ORDER/ID %q", fields[3])
	}
	rec := Record{Key: fields[0], URI: fields[2]}
	// The fields hold no white space; the rest of the rule (valid UTF-8,
	// no NUL) is checked as for every stored key and uri.
	if err := validateKeyURI(rec.Key, rec.URI); err != nil {
		return Record{}, err
	}
	var err error
	if rec.Block, err = parseUint32("block", nums[0]); err != nil {
		return Record{}, err
	}
	if rec.Order, err = parseUint32("order", nums[1]); err != nil {
		return Record{}, err
	}
	if len(nums) == 3 {
		if rec.ID, err = parseID("id", nums[2]); err != nil {
			return Record{}, err
		}
	}
	return rec, nil
}

// writeText writes one record in FormatText.
func (tw *tableWriter) writeText(rec Record) error {
	if err := validateKeyURI(rec.Key, rec.URI); err != nil {
		return tw.invalidRecord(err)
	}
	tw.str(textSeparator)
	tw.str("\n")
	tw.str(rec.Key)
	tw.str(" & ")
	tw.str(rec.URI)
	tw.str(" ")
	tw.str(strconv.FormatUint(uint64(rec.Block), 10))
	tw.str("/")
	tw.str(strconv.FormatUint(uint64(rec.Order), 10))
	tw.str("/")
	tw.str(strconv.FormatUint(rec.ID, 10))
	tw.str("\n")
	tw.lines(actionPrefix+" ", rec.Action, nil)
	if rec.Note != "" {
		tw.lines(notePrefix+" ", rec.Note, nil)
	}
	return nil
}
