package translation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// RecordFields is a set of the fields of a record as a JSON object, one
// bit per field.
type RecordFields uint8

// The fields of a record as a JSON object, under their JSON names.
const (
	FieldKey    RecordFields = 1 << iota // "key": a string, non-empty, without white space
	FieldURI                             // "uri": a string, non-empty, without white space
	FieldBlock                           // "block": an integer in 0..4294967295
	FieldOrder                           // "order": an integer in 0..4294967295
	FieldAction                          // "action": a string
	FieldNote                            // "note": a string
	FieldID                              // "id": an integer in 0..18446744073709551615
)

// recordFieldNames are the JSON names of the fields, in the order of
// their bits.
var recordFieldNames = [...]string{"key", "uri", "block", "order", "action", "note", "id"}

// A JSONRecord decodes a record from a JSON object, strictly, and
// records which of its fields were present, for the caller to check
// with Check. It is the one decoder of records in JSON: the jsonl format
// uses it for each line, and a protocol that embeds records in a larger
// document can use it for each of them.
//
// Strict means: field names match exactly (encoding/json alone would
// match "Key" to "key"), each field comes at most once, unknown fields
// are errors, strings are strings (not null), block and order are
// integers in 0..4294967295 written without fraction or exponent, the
// id an integer in 0..18446744073709551615, and key and uri are
// non-empty and free of white space (the error then wraps
// ErrInvalidRecord). It does not check that the input is valid UTF-8:
// like encoding/json it reads invalid bytes in a string as U+FFFD, so a
// caller that must refuse them checks its whole input first.
//
// The zero value is ready to use; a JSONRecord decodes one record.
type JSONRecord struct {
	Record              // the fields decoded so far
	Fields RecordFields // the fields present so far

	// Path names the record in error messages when it is part of a
	// larger document, such as "ops[2].old"; the errors then name its
	// fields "ops[2].old.block". Empty, they are named "block".
	Path string
}

// UnmarshalJSON decodes data, one JSON object and nothing else but
// white space, into j with SetField for each of its fields. It
// implements json.Unmarshaler. Malformed JSON, including a truncated
// object, is an error; missing fields are not (see Check).
func (j *JSONRecord) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return j.syntaxError(err)
	}
	if tok != json.Delim('{') {
		return j.objectError("want a JSON object, found %s", quoteShort(string(bytes.TrimSpace(data))))
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return j.syntaxError(err)
		}
		name, _ := tok.(string) // the decoder allows nothing else here
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return j.syntaxError(err)
		}
		if err := j.SetField(name, value); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return j.syntaxError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return j.objectError("unexpected data after the JSON object")
	}
	return nil
}

// SetField decodes value, the JSON value of the field name, into j and
// adds the field to j.Fields. An unknown name, a field that is present
// already, a value of the wrong type or out of range and an invalid key
// or uri are errors naming the field. It lets a decoder of a larger
// document take record fields from an object that has fields of its
// own as well.
func (j *JSONRecord) SetField(name string, value []byte) error {
	i := slices.Index(recordFieldNames[:], name)
	if i < 0 {
		return fmt.Errorf("unknown field %q", j.name(name))
	}
	field := RecordFields(1) << i
	if j.Fields&field != 0 {
		return fmt.Errorf("repeated field %q", j.name(name))
	}
	name = j.name(name)
	var err error
	switch field {
	case FieldKey:
		if j.Key, err = jsonString(name, value); err == nil {
			err = validateField(name, j.Key)
		}
	case FieldURI:
		if j.URI, err = jsonString(name, value); err == nil {
			err = validateField(name, j.URI)
		}
	case FieldBlock:
		j.Block, err = parseUint32(name, string(value))
	case FieldOrder:
		j.Order, err = parseUint32(name, string(value))
	case FieldAction:
		j.Action, err = jsonString(name, value)
	case FieldNote:
		j.Note, err = jsonString(name, value)
	case FieldID:
		j.ID, err = parseID(name, string(value))
	}
	if err != nil {
		return err
	}
	j.Fields |= field
	return nil
}

// Check reports the first field, in the order of the bits, that is in
// required but missing from j.Fields, or present but not in allowed.
func (j *JSONRecord) Check(required, allowed RecordFields) error {
	for i, name := range recordFieldNames {
		field := RecordFields(1) << i
		switch {
		case required&field != 0 && j.Fields&field == 0:
			return fmt.Errorf("missing field %q", j.name(name))
		case allowed&field == 0 && j.Fields&field != 0:
			return fmt.Errorf("field %q is not allowed", j.name(name))
		}
	}
	return nil
}

// name returns the name of a field in error messages.
func (j *JSONRecord) name(field string) string {
	if j.Path == "" {
		return field
	}
	return j.Path + "." + field
}

// objectError returns an error about the object as a whole.
func (j *JSONRecord) objectError(format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	if j.Path != "" {
		err = fmt.Errorf("%s: %w", j.Path, err)
	}
	return err
}

// syntaxError returns the error of malformed JSON.
func (j *JSONRecord) syntaxError(err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return j.objectError("truncated JSON object")
	}
	return j.objectError("%w", err)
}

// jsonString decodes a JSON string value; null and other types are
// errors.
func jsonString(name string, value []byte) (string, error) {
	if len(value) == 0 || value[0] != '"' {
		return "", fmt.Errorf("%s must be a string, found %s", name, quoteShort(string(value)))
	}
	var s string
	if err := json.Unmarshal(value, &s); err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}
