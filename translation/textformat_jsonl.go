package translation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// jsonlFields names the fields of a jsonl record; the required ones come
// first.
var jsonlFields = [...]string{"key", "uri", "block", "order", "action", "note", "id"}

const jsonlRequired = 5 // key, uri, block, order, action

// decodeJSONLRecord decodes one line of FormatJSONL strictly: field names
// match exactly (encoding/json alone would match them without regard to
// case), each at most once, and nothing follows the object.
func decodeJSONLRecord(line []byte) (Record, error) {
	rec, err := decodeJSONLObject(line)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = errors.New("truncated JSON object")
	}
	return rec, err
}

func decodeJSONLObject(line []byte) (Record, error) {
	if !utf8.Valid(line) {
		return Record{}, errors.New("line is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	if tok, err := dec.Token(); err != nil {
		return Record{}, err
	} else if tok != json.Delim('{') {
		return Record{}, fmt.Errorf("want a JSON object, found %v", tok)
	}
	var rec Record
	var seen [len(jsonlFields)]bool
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return Record{}, err
		}
		name, _ := tok.(string)
		i := 0
		for i < len(jsonlFields) && jsonlFields[i] != name {
			i++
		}
		if i == len(jsonlFields) {
			return Record{}, fmt.Errorf("unknown field %q", name)
		}
		if seen[i] {
			return Record{}, fmt.Errorf("repeated field %q", name)
		}
		seen[i] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return Record{}, err
		}
		if err := setJSONLField(&rec, name, raw); err != nil {
			return Record{}, err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return Record{}, err
	}
	// Only white space may follow.
	if _, err := dec.Token(); err != io.EOF {
		return Record{}, errors.New("unexpected data after the JSON object")
	}
	for i, ok := range seen[:jsonlRequired] {
		if !ok {
			return Record{}, fmt.Errorf("missing field %q", jsonlFields[i])
		}
	}
	if err := validateKeyURI(rec.Key, rec.URI); err != nil {
		return Record{}, err
	}
	return rec, nil
}

// setJSONLField decodes the value of one field into rec.
func setJSONLField(rec *Record, name string, raw json.RawMessage) error {
	var err error
	switch name {
	case "key":
		rec.Key, err = jsonString(name, raw)
	case "uri":
		rec.URI, err = jsonString(name, raw)
	case "action":
		rec.Action, err = jsonString(name, raw)
	case "note":
		rec.Note, err = jsonString(name, raw)
	case "block":
		rec.Block, err = parseUint32(name, string(raw))
	case "order":
		rec.Order, err = parseUint32(name, string(raw))
	case "id":
		rec.ID, err = parseID(string(raw))
	}
	return err
}

// jsonString decodes a JSON string value; null and other types are
// errors.
func jsonString(name string, raw json.RawMessage) (string, error) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", fmt.Errorf("%s must be a string, found %s", name, quoteShort(string(raw)))
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}
