package translation

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"
)

// jsonlRecord is a record as the jsonl writer encodes it; the field order
// is the order of the output.
type jsonlRecord struct {
	Key    string `json:"key"`
	URI    string `json:"uri"`
	Block  uint32 `json:"block"`
	Order  uint32 `json:"order"`
	Action string `json:"action"`
	Note   string `json:"note,omitempty"`
	ID     uint64 `json:"id"`
}

// writeJSONL writes one record in FormatJSONL.
func (tw *tableWriter) writeJSONL(rec Record) error {
	if err := validateKeyURI(rec.Key, rec.URI); err != nil {
		return tw.invalidRecord(err)
	}
	for _, f := range [...]struct{ name, s string }{
		{"key", rec.Key}, {"uri", rec.URI}, {"action", rec.Action}, {"note", rec.Note},
	} {
		if !utf8.ValidString(f.s) {
			return tw.invalidRecord(fmt.Errorf("%s of record %q %q is not valid UTF-8: %w", f.name, rec.Key, rec.URI, ErrInvalidRecord))
		}
	}
	if tw.err != nil {
		return tw.err
	}
	err := tw.enc.Encode(jsonlRecord{
		Key: rec.Key, URI: rec.URI, Block: rec.Block, Order: rec.Order,
		Action: rec.Action, Note: rec.Note, ID: rec.ID,
	})
	if err != nil {
		tw.err = fmt.Errorf("translation: writing %s: %w", tw.format, err)
	}
	return nil
}

// jsonlReader reads FormatJSONL.
type jsonlReader struct {
	lines lineReader
	err   error // sticky
}

func (r *jsonlReader) Generation() (uint64, bool) { return 0, false }

func (r *jsonlReader) Records() (int, bool) { return 0, false }

func (r *jsonlReader) Next() (Record, error) {
	if r.err != nil {
		return Record{}, r.err
	}
	for {
		line, err := r.lines.next()
		if err != nil {
			r.err = err
			return Record{}, err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		rec, err := decodeJSONLRecord(line)
		if err != nil {
			r.err = r.lines.errorf(r.lines.n, "%w", err)
			return Record{}, r.err
		}
		return rec, nil
	}
}

// The fields of a jsonl record: all but note and id are required.
const (
	jsonlRequired = FieldKey | FieldURI | FieldBlock | FieldOrder | FieldAction
	jsonlAllowed  = jsonlRequired | FieldNote | FieldID
)

// decodeJSONLRecord decodes one line of FormatJSONL with JSONRecord.
func decodeJSONLRecord(line []byte) (Record, error) {
	if !utf8.Valid(line) {
		return Record{}, errors.New("line is not valid UTF-8")
	}
	var j JSONRecord
	if err := j.UnmarshalJSON(line); err != nil {
		return Record{}, err
	}
	if err := j.Check(jsonlRequired, jsonlAllowed); err != nil {
		return Record{}, err
	}
	return j.Record, nil
}
