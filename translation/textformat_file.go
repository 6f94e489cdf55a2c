package translation

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// fileHeaderPrefix starts the first line of each record of FormatFile.
const fileHeaderPrefix = ">>>"

func isFileHeader(line []byte) bool { return bytes.HasPrefix(line, []byte(fileHeaderPrefix)) }

// fileReader reads FormatFile.
type fileReader struct{ blockReader }

func (r *fileReader) Next() (Record, error) {
	header, headerN, err := r.nextStart()
	if err != nil {
		return Record{}, err
	}
	rec, err := parseFileHeader(header)
	if err != nil {
		return r.fail(r.lines.errorf(headerN, "%w", err))
	}
	var action strings.Builder
	for n := 0; ; n++ {
		line, ok, err := r.body()
		if err != nil {
			return r.fail(err)
		}
		if !ok {
			break
		}
		if n > 0 {
			action.WriteByte('\n')
		}
		action.Write(bytes.TrimPrefix(line, []byte{'\\'}))
	}
	rec.Action = action.String()
	return rec, nil
}

// parseFileHeader parses ">>> ID KEY URI BLOCK ORDER".
func parseFileHeader(line string) (Record, error) {
	fields := strings.Fields(strings.TrimPrefix(line, fileHeaderPrefix))
	if len(fields) != 5 {
		return Record{}, fmt.Errorf("malformed record header %s, want \">>> ID KEY URI BLOCK ORDER\"", quoteLine([]byte(line)))
	}
	rec := Record{Key: fields[1], URI: fields[2]}
	// The fields hold no white space; the rest of the rule (valid UTF-8,
	// no NUL) is checked as for every stored key and uri.
	if err := validateKeyURI(rec.Key, rec.URI); err != nil {
		return Record{}, err
	}
	var err error
	if rec.ID, err = parseID("id", fields[0]); err != nil {
		return Record{}, err
	}
	if rec.Block, err = parseUint32("block", fields[3]); err != nil {
		return Record{}, err
	}
	if rec.Order, err = parseUint32("order", fields[4]); err != nil {
		return Record{}, err
	}
	return rec, nil
}

// writeFile writes one record in FormatFile; the note is dropped.
func (tw *tableWriter) writeFile(rec Record) error {
	if err := validateKeyURI(rec.Key, rec.URI); err != nil {
		return tw.invalidRecord(err)
	}
	tw.str(fileHeaderPrefix)
	tw.str(" ")
	tw.str(strconv.FormatUint(rec.ID, 10))
	tw.str(" ")
	tw.str(rec.Key)
	tw.str(" ")
	tw.str(rec.URI)
	tw.str(" ")
	tw.str(strconv.FormatUint(uint64(rec.Block), 10))
	tw.str(" ")
	tw.str(strconv.FormatUint(uint64(rec.Order), 10))
	tw.str("\n")
	tw.lines("", rec.Action, escapeFileLine)
	return nil
}

// escapeFileLine returns the backslash that protects an action line
// starting with ">>>" or with a backslash.
func escapeFileLine(piece string) string {
	if strings.HasPrefix(piece, fileHeaderPrefix) || strings.HasPrefix(piece, `\`) {
		return `\`
	}
	return ""
}
