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
	// generation, when set, is the generation the database must still
	// be at for the txn to commit (an optimistic check: the client read
	// what it changes from that version).
	generation *uint64
}

// A txnOp is one operation of a txn body, checked.
type txnOp struct {
	kind     string // insert, update, delete or clear
	old, new translation.Record
}

// Which fields each kind of record takes.
const (
	// A new record (an insert op, the new record of an update) needs
	// everything but note and id, and must not name an id.
	newRequired = translation.FieldKey | translation.FieldURI | translation.FieldBlock | translation.FieldOrder | translation.FieldAction
	newAllowed  = newRequired | translation.FieldNote
	// An old record (of update and delete) is named by key, uri, block,
	// order and id; action and note are allowed, as a record read by a
	// fetch has them, but are not compared.
	oldRequired = translation.FieldKey | translation.FieldURI | translation.FieldBlock | translation.FieldOrder | translation.FieldID
	oldAllowed  = oldRequired | translation.FieldAction | translation.FieldNote
)

// badRequest returns a 400 error about the JSON value at path.
func badRequest(path, format string, args ...any) error {
	return errorf(http.StatusBadRequest, "%s: %s", path, fmt.Sprintf(format, args...))
}

// invalid returns err, an error of translation.JSONRecord, as a 400.
func invalid(err error) error {
	if err == nil {
		return nil
	}
	return errorf(http.StatusBadRequest, "%v", err)
}

// maxTxnOps bounds the operations of one transaction: each costs the
// server some hundred bytes while the transaction is decoded and made,
// so that a body of many tiny operations would cost gigabytes; a whole
// table goes through /v1/load, which streams.
const maxTxnOps = 100_000

// decodeTxn decodes and checks a txn body:
//
//	{"basekey": ["trans", "db"], "generation": G, "ops": [OP, ...]}
//
// (basekey and generation are optional) strictly: the body must be one JSON object and nothing else, with no
// unknown or repeated fields, no null values and numbers that are
// integers in range. The records are decoded by translation.JSONRecord,
// as the lines of the jsonl format are. Every error is a 400 naming the
// offending field, such as ops[2].old.block.
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
		case "generation":
			g, err := r.uint64("generation")
			req.generation = &g
			return err
		case "ops":
			hasOps = true
			return r.array("ops", func(i int) error {
				if i == maxTxnOps {
					return errorf(http.StatusRequestEntityTooLarge,
						"more than %d operations in one transaction: load a whole table with POST /v1/load", maxTxnOps)
				}
				op, err := r.op(fmt.Sprintf("ops[%d]", i))
				req.ops = append(req.ops, op)
				return err
			})
		}
		return errorf(http.StatusBadRequest, "unknown field %q", name)
	})
	if err != nil {
		return nil, err
	}
	if _, err := r.dec.Token(); err != io.EOF {
		return nil, errorf(http.StatusBadRequest, "unexpected data after the JSON object")
	}
	switch {
	case !hasOps:
		return nil, errorf(http.StatusBadRequest, "missing field %q", "ops")
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
	if err != nil {
		return nil, r.syntaxError(path, err)
	}
	return t, nil
}

// syntaxError returns the 400 error of malformed JSON.
func (r *jsonReader) syntaxError(path string, err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return badRequest(path, "truncated JSON object (the body ends early)")
	}
	return errorf(http.StatusBadRequest, "invalid JSON near byte %d: %v", r.dec.InputOffset(), err)
}

// raw reads a value as it is.
func (r *jsonReader) raw(path string) (json.RawMessage, error) {
	var v json.RawMessage
	if err := r.dec.Decode(&v); err != nil {
		return nil, r.syntaxError(path, err)
	}
	return v, nil
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
		return badRequest(path, "want a JSON object, found %s", describe(t))
	}
	var seen []string
	for r.dec.More() {
		t, err := r.token(path)
		if err != nil {
			return err
		}
		name := t.(string) // the decoder allows nothing else here
		if slices.Contains(seen, name) {
			return errorf(http.StatusBadRequest, "repeated field %q", path+"."+name)
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
		return badRequest(path, "want a JSON array, found %s", describe(t))
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
		return "", errorf(http.StatusBadRequest, "%s must be a string, found %s", path, describe(t))
	}
	return s, nil
}

// uint64 reads a number that is an integer in 0..2^64-1.
func (r *jsonReader) uint64(path string) (uint64, error) {
	t, err := r.token(path)
	if err != nil {
		return 0, err
	}
	n, ok := t.(json.Number)
	if !ok {
		return 0, errorf(http.StatusBadRequest, "%s must be a number, found %s", path, describe(t))
	}
	v, err := strconv.ParseUint(n.String(), 10, 64)
	if err != nil {
		return 0, errorf(http.StatusBadRequest, "%s %q is not an integer in 0..%d", path, n.String(), uint64(math.MaxUint64))
	}
	return v, nil
}

// record reads a record object.
func (r *jsonReader) record(path string) (*translation.JSONRecord, error) {
	v, err := r.raw(path)
	if err != nil {
		return nil, err
	}
	j := &translation.JSONRecord{Path: path}
	return j, invalid(j.UnmarshalJSON(v))
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
		old, new *translation.JSONRecord
	)
	top := translation.JSONRecord{Path: path} // the fields of an insert
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
			var v json.RawMessage
			if v, err = r.raw(path + "." + name); err == nil {
				err = invalid(top.SetField(name, v))
			}
		}
		return err
	})
	if err != nil {
		return txnOp{}, err
	}
	if !hasKind {
		return txnOp{}, errorf(http.StatusBadRequest, "missing field %q", path+".op")
	}
	op := txnOp{kind: kind}
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
	inOp := func(err error) error {
		if err == nil {
			return nil
		}
		return errorf(http.StatusBadRequest, "%v in op %q", err, kind)
	}
	if want.top {
		if err := inOp(top.Check(newRequired, newAllowed)); err != nil {
			return txnOp{}, err
		}
		op.new = top.Record
	} else if err := inOp(top.Check(0, 0)); err != nil {
		return txnOp{}, err
	}
	for _, part := range []struct {
		name              string
		j                 *translation.JSONRecord
		want              bool
		required, allowed translation.RecordFields
		dst               *translation.Record
	}{
		{"old", old, want.old, oldRequired, oldAllowed, &op.old},
		{"new", new, want.new, newRequired, newAllowed, &op.new},
	} {
		switch {
		case part.want && part.j == nil:
			return txnOp{}, inOp(fmt.Errorf("missing field %q", path+"."+part.name))
		case !part.want && part.j != nil:
			return txnOp{}, inOp(fmt.Errorf("field %q is not allowed", path+"."+part.name))
		case part.want:
			if err := invalid(part.j.Check(part.required, part.allowed)); err != nil {
				return txnOp{}, err
			}
			*part.dst = part.j.Record
		}
	}
	// An old record names a stored one, and stored records have ids
	// from 1.
	if want.old && op.old.ID == 0 {
		return txnOp{}, errorf(http.StatusBadRequest, "%s.old.id \"0\" is not an integer in 1..%d", path, uint64(math.MaxUint64))
	}
	return op, nil
}
