package httpprovider

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"

	"transdb/translation"
)

// A txnRequest is a decoded POST /v1/txn body.
type txnRequest struct {
	baseKey    []string
	hasBaseKey bool
	ops        []txnOp
}

// A txnOp is one operation of a txn body, checked.
type txnOp struct {
	kind     string // insert, update, delete or clear
	old, new translation.Record
}

// The fields of a record in a txn body, as bits of recordFields.has.
const (
	fieldKey = 1 << iota
	fieldURI
	fieldBlock
	fieldOrder
	fieldAction
	fieldNote
	fieldID
)

var fieldNames = []string{"key", "uri", "block", "order", "action", "note", "id"}

// Which fields each kind of record takes.
const (
	// A new record (an insert op, the new record of an update) needs
	// everything but note and id, and must not name an id.
	newRequired = fieldKey | fieldURI | fieldBlock | fieldOrder | fieldAction
	newAllowed  = newRequired | fieldNote
	// An old record (of update and delete) is named by key, uri, block,
	// order and id; action and note are allowed, as a record read by a
	// fetch has them, but are not compared.
	oldRequired = fieldKey | fieldURI | fieldBlock | fieldOrder | fieldID
	oldAllowed  = oldRequired | fieldAction | fieldNote
)

// recordFields collects the fields of a record object and which were
// given.
type recordFields struct {
	rec translation.Record
	has int
}

// check reports a missing required field, a field that is not allowed
// and an invalid key or uri.
func (f *recordFields) check(path string, required, allowed int, what string) error {
	for i, name := range fieldNames {
		bit := 1 << i
		switch {
		case required&bit != 0 && f.has&bit == 0:
			return badRequest(path+"."+name, "missing")
		case allowed&bit == 0 && f.has&bit != 0:
			return badRequest(path+"."+name, "not allowed in %s", what)
		}
	}
	if f.has&fieldKey != 0 {
		if err := checkKeyURI(path+".key", f.rec.Key); err != nil {
			return err
		}
	}
	if f.has&fieldURI != 0 {
		if err := checkKeyURI(path+".uri", f.rec.URI); err != nil {
			return err
		}
	}
	return nil
}

// badRequest returns a 400 error about the JSON value at path.
func badRequest(path, format string, args ...any) error {
	return errorf(http.StatusBadRequest, "%s: %s", path, fmt.Sprintf(format, args...))
}

// decodeTxn decodes and checks a txn body:
//
//	{"basekey": ["trans", "db"], "ops": [OP, ...]}
//
// strictly: the body must be one JSON object and nothing else, with no
// unknown or repeated fields, no null values and numbers that are
// integers in range. Every error is a 400 naming the offending field,
// such as ops[2].old.block.
func decodeTxn(body []byte) (*txnRequest, error) {
	r := jsonReader{dec: json.NewDecoder(bytes.NewReader(body))}
	r.dec.UseNumber()
	req := &txnRequest{}
	hasOps := false
	err := r.object("body", func(name string) error {
		switch name {
		case "basekey":
			req.hasBaseKey = true
			req.baseKey = []string{}
			return r.array("basekey", func(i int) error {
				s, err := r.str(fmt.Sprintf("basekey[%d]", i))
				req.baseKey = append(req.baseKey, s)
				return err
			})
		case "ops":
			hasOps = true
			return r.array("ops", func(i int) error {
				op, err := r.op(fmt.Sprintf("ops[%d]", i))
				req.ops = append(req.ops, op)
				return err
			})
		}
		return badRequest(name, "unknown field")
	})
	if err != nil {
		return nil, err
	}
	if _, err := r.dec.Token(); err != io.EOF {
		return nil, errorf(http.StatusBadRequest, "data after the JSON object")
	}
	switch {
	case !hasOps:
		return nil, badRequest("ops", "missing")
	case len(req.ops) == 0:
		return nil, badRequest("ops", "no operations")
	}
	return req, nil
}

// A jsonReader reads JSON values token by token, so that it sees what
// encoding/json would let pass: repeated fields, field names in another
// case, nulls and numbers of the wrong kind.
type jsonReader struct{ dec *json.Decoder }

// token returns the next token; malformed JSON, including a truncated
// body, is a 400 naming the byte offset.
func (r *jsonReader) token(path string) (json.Token, error) {
	t, err := r.dec.Token()
	switch {
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return nil, badRequest(path, "unexpected end of the body (truncated JSON?)")
	case err != nil:
		return nil, errorf(http.StatusBadRequest, "invalid JSON near byte %d: %v", r.dec.InputOffset(), err)
	}
	return t, nil
}

// describe names the kind of a token for messages.
func describe(t json.Token) string {
	switch v := t.(type) {
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "the number " + v.String()
	case bool:
		return "a boolean"
	}
	return "null"
}

// object reads an object and calls fn with each field name, for fn to
// read the value. A repeated field is an error.
func (r *jsonReader) object(path string, fn func(name string) error) error {
	t, err := r.token(path)
	if err != nil {
		return err
	}
	if t != json.Delim('{') {
		return badRequest(path, "want an object, got %s", describe(t))
	}
	var seen []string
	for r.dec.More() {
		t, err := r.token(path)
		if err != nil {
			return err
		}
		name := t.(string) // the decoder allows nothing else here
		if slices.Contains(seen, name) {
			return badRequest(path+"."+name, "repeated field")
		}
		seen = append(seen, name)
		if err := fn(name); err != nil {
			return err
		}
	}
	_, err = r.token(path) // the closing brace
	return err
}

// array reads an array and calls fn with the index of each element, for
// fn to read it.
func (r *jsonReader) array(path string, fn func(i int) error) error {
	t, err := r.token(path)
	if err != nil {
		return err
	}
	if t != json.Delim('[') {
		return badRequest(path, "want an array, got %s", describe(t))
	}
	for i := 0; r.dec.More(); i++ {
		if err := fn(i); err != nil {
			return err
		}
	}
	_, err = r.token(path) // the closing bracket
	return err
}

// str reads a string.
func (r *jsonReader) str(path string) (string, error) {
	t, err := r.token(path)
	if err != nil {
		return "", err
	}
	s, ok := t.(string)
	if !ok {
		return "", badRequest(path, "want a string, got %s", describe(t))
	}
	return s, nil
}

// uint reads an integer in lo..hi.
func (r *jsonReader) uint(path string, lo, hi uint64) (uint64, error) {
	t, err := r.token(path)
	if err != nil {
		return 0, err
	}
	n, isNum := t.(json.Number)
	v, err := strconv.ParseUint(string(n), 10, 64)
	if !isNum || err != nil || v < lo || v > hi {
		return 0, badRequest(path, "want an integer in %d..%d, got %s", lo, hi, describe(t))
	}
	return v, nil
}

// field reads the value of the record field name into f.
func (r *jsonReader) field(path, name string, f *recordFields) error {
	i := slices.Index(fieldNames, name)
	if i < 0 {
		return badRequest(path+"."+name, "unknown field")
	}
	path += "." + name
	f.has |= 1 << i
	var err error
	var n uint64
	switch 1 << i {
	case fieldKey:
		f.rec.Key, err = r.str(path)
	case fieldURI:
		f.rec.URI, err = r.str(path)
	case fieldBlock:
		n, err = r.uint(path, 0, math.MaxUint32)
		f.rec.Block = uint32(n)
	case fieldOrder:
		n, err = r.uint(path, 0, math.MaxUint32)
		f.rec.Order = uint32(n)
	case fieldAction:
		f.rec.Action, err = r.str(path)
	case fieldNote:
		f.rec.Note, err = r.str(path)
	case fieldID:
		f.rec.ID, err = r.uint(path, 1, math.MaxUint64)
	}
	return err
}

// record reads a record object.
func (r *jsonReader) record(path string) (*recordFields, error) {
	f := &recordFields{}
	err := r.object(path, func(name string) error { return r.field(path, name, f) })
	return f, err
}

// op reads and checks one operation:
//
//	{"op":"insert", "key":K, "uri":U, "block":B, "order":O, "action":A, "note":N}
//	{"op":"update", "old":{"key":K, "uri":U, "block":B, "order":O, "id":I}, "new":{...as insert}}
//	{"op":"delete", "old":{...}}
//	{"op":"clear"}
func (r *jsonReader) op(path string) (txnOp, error) {
	var (
		kind     string
		hasKind  bool
		top      recordFields
		old, new *recordFields
	)
	err := r.object(path, func(name string) error {
		var err error
		switch name {
		case "op":
			hasKind = true
			kind, err = r.str(path + ".op")
		case "old":
			old, err = r.record(path + ".old")
		case "new":
			new, err = r.record(path + ".new")
		default:
			err = r.field(path, name, &top)
		}
		return err
	})
	if err != nil {
		return txnOp{}, err
	}
	if !hasKind {
		return txnOp{}, badRequest(path+".op", "missing")
	}
	op := txnOp{kind: kind}
	what := fmt.Sprintf("op %q", kind)
	var want struct{ top, old, new bool }
	switch kind {
	case "insert":
		want.top = true
	case "update":
		want.old, want.new = true, true
	case "delete":
		want.old = true
	case "clear":
	default:
		return txnOp{}, badRequest(path+".op", "unknown op %q (want insert, update, delete or clear)", kind)
	}
	if want.top {
		if err := top.check(path, newRequired, newAllowed, what); err != nil {
			return txnOp{}, err
		}
		op.new = top.rec
	} else if err := top.check(path, 0, 0, what); err != nil {
		return txnOp{}, err
	}
	for _, part := range []struct {
		name              string
		f                 *recordFields
		want              bool
		required, allowed int
		dst               *translation.Record
	}{
		{"old", old, want.old, oldRequired, oldAllowed, &op.old},
		{"new", new, want.new, newRequired, newAllowed, &op.new},
	} {
		switch {
		case part.want && part.f == nil:
			return txnOp{}, badRequest(path+"."+part.name, "missing")
		case !part.want && part.f != nil:
			return txnOp{}, badRequest(path+"."+part.name, "not allowed in %s", what)
		case part.want:
			if err := part.f.check(path+"."+part.name, part.required, part.allowed, "the "+part.name+" record"); err != nil {
				return txnOp{}, err
			}
			*part.dst = part.f.rec
		}
	}
	return op, nil
}
