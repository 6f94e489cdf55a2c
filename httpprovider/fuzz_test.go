package httpprovider

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"transdb/internal/httpsyntax"
	"transdb/translation"
)

// FuzzDecodeTxn feeds decodeTxn arbitrary bodies. It must never panic; it
// rejects with a 400 that says what is wrong; what it accepts keeps the
// documented invariants of a txn body, is what encoding/json reads from
// the same bytes, and decodes to the same request again once encoded.
func FuzzDecodeTxn(f *testing.F) {
	for _, body := range append(acceptedTxns, rejectedTxns...) {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeTxn(body)
		if err != nil {
			var he *httpError
			if !errors.As(err, &he) || he.msg == "" ||
				he.status != http.StatusBadRequest && !(he.status == http.StatusRequestEntityTooLarge && strings.Contains(he.msg, "operations in one transaction")) {
				t.Fatalf("rejected with %#v, want a 400 with a message", err)
			}
			if req != nil {
				t.Fatalf("rejected with %v, yet returned %+v", err, req)
			}
			return
		}
		checkTxnInvariants(t, req)
		if !json.Valid(body) {
			t.Fatalf("accepted a body that is not JSON: %q", body)
		}
		if want := txnFromJSON(t, body); !reflect.DeepEqual(req, want) {
			t.Fatalf("decoded\n%+v\nencoding/json reads\n%+v", req, want)
		}
		again, err := decodeTxn(encodeTxn(t, req))
		if err != nil {
			t.Fatalf("the encoded request %s is rejected: %v", encodeTxn(t, req), err)
		}
		if !reflect.DeepEqual(again, req) {
			t.Fatalf("encoding and decoding again changed\n%+v\ninto\n%+v", req, again)
		}
	})
}

// The seeds of FuzzDecodeTxn: bodies that decodeTxn accepts and bodies
// it rejects, as TestDecodeTxnSeeds checks.
var (
	acceptedTxns = []string{
		`{"ops":[{"op":"clear"}]}`,
		`{"generation":7,"ops":[{"op":"clear"}]}`,
		`{"ops":[{"op":"clear"}],"generation":18446744073709551615}`,
		`{"basekey":["trans","db"],"ops":[
		  {"op":"insert","key":"front","uri":"/","block":0,"order":0,"action":"a","note":"n"},
		  {"op":"update","old":{"key":"front","uri":"/","block":0,"order":0,"id":9},
		                 "new":{"key":"front","uri":"/","block":0,"order":1,"action":"b"}},
		  {"op":"delete","old":{"key":"front","uri":"/","block":0,"order":1,"id":15,"action":"b","note":""}},
		  {"op":"clear"}]}`,
		`{"basekey":[],"ops":[{"op":"insert","key":"k","uri":":PRE:","block":4294967295,"order":4294967295,"action":""}]}`,
		`{"ops":[{"action":"x\ny","order":1,"block":2,"uri":"/u","key":"k","op":"insert"}]}`,
		`{"ops":[{"op":"delete","old":{"key":"k","uri":"/u","block":0,"order":0,"id":18446744073709551615}}]}`,
		` {"ops" : [ {"op":"insert","key":"\u006b\u00e9","uri":"/\ud83d\ude00","block":0,"order":0,"action":"\u0000\"\\\/"} ] } ` + "\n",
		`{"ops":[{"new":{"key":"k","uri":"/","block":0,"order":0,"action":"a"},"op":"update","old":{"id":1,"order":0,"block":0,"uri":"/","key":"k"}}]}`,
		// Invalid UTF-8 becomes U+FFFD, as in encoding/json; the handler
		// refuses such a body before decoding it.
		"{\"ops\":[{\"op\":\"insert\",\"key\":\"\xff\",\"uri\":\"/\",\"block\":0,\"order\":0,\"action\":\"a\"}]}",
	}
	rejectedTxns = []string{
		``,
		`{}`,
		`{"ops":[]}`,
		`{"ops":null}`,
		`[{"op":"clear"}]`,
		`{"ops":[{"op":"clear"}]} {}`,
		`{"ops":[{"op":"clear"}]`,
		`{"ops":[{"op":"clear"}],"ops":[{"op":"clear"}]}`,
		`{"Ops":[{"op":"clear"}]}`,
		`{"ops":[{"op":"clear","key":"k"}]}`,
		`{"ops":[{"op":"drop"}]}`,
		`{"ops":[{"key":"k"}]}`,
		`{"ops":[{"op":"insert","key":"k","uri":"/","block":0,"order":0}]}`,
		`{"ops":[{"op":"insert","key":"k","uri":"/","block":0,"order":0,"action":"a","id":3}]}`,
		`{"ops":[{"op":"insert","key":"k k","uri":"/","block":0,"order":0,"action":"a"}]}`,
		`{"ops":[{"op":"insert","key":"k","uri":"/\u00a0","block":0,"order":0,"action":"a"}]}`,
		`{"ops":[{"op":"insert","key":"","uri":"/","block":0,"order":0,"action":"a"}]}`,
		`{"ops":[{"op":"insert","key":"k","uri":"/","block":4294967296,"order":0,"action":"a"}]}`,
		`{"ops":[{"op":"insert","key":"k","uri":"/","block":-1,"order":0,"action":"a"}]}`,
		`{"ops":[{"op":"insert","key":"k","uri":"/","block":1.0,"order":1e2,"action":"a"}]}`,
		`{"ops":[{"op":"insert","key":"k","uri":"/","block":"0","order":0,"action":null}]}`,
		`{"ops":[{"op":"delete","old":{"key":"k","uri":"/","block":0,"order":0,"id":0}}]}`,
		`{"ops":[{"op":"delete","old":{"key":"k","uri":"/","block":0,"order":0}}]}`,
		`{"ops":[{"op":"delete","old":{"key":"k","uri":"/","block":0,"order":0,"id":1},"new":{}}]}`,
		`{"ops":[{"op":"update","old":{"key":"k","uri":"/","block":0,"order":0,"id":1}}]}`,
		`{"ops":[{"op":"update","old":{"key":"k","uri":"/","block":0,"order":0,"id":1,"id":2}}]}`,
		`{"basekey":"trans","ops":[{"op":"clear"}]}`,
		`{"basekey":[1],"ops":[{"op":"clear"}]}`,
		`{"ops":[[[[[[[[[[[[[[[[[[[[{"op":"clear"}]]]]]]]]]]]]]]]]]]]]}`,
		`{"ops":[{"op":"clear"},]}`,
		`{"ops":[{"op":"clear"}]}x`,
		`{"generation":-1,"ops":[{"op":"clear"}]}`,
		`{"generation":1.5,"ops":[{"op":"clear"}]}`,
		`{"generation":18446744073709551616,"ops":[{"op":"clear"}]}`,
		`{"generation":"1","ops":[{"op":"clear"}]}`,
		`{"generation":null,"ops":[{"op":"clear"}]}`,
		`{"generation":1,"generation":1,"ops":[{"op":"clear"}]}`,
	}
)

func TestDecodeTxnSeeds(t *testing.T) {
	for _, body := range acceptedTxns {
		if _, err := decodeTxn([]byte(body)); err != nil {
			t.Errorf("%s: %v", body, err)
		}
	}
	for _, body := range rejectedTxns {
		if req, err := decodeTxn([]byte(body)); err == nil {
			t.Errorf("%s: accepted as %+v", body, req)
		}
	}
}

// checkTxnInvariants fails the test unless req is a txn request as the
// API describes it: at least one op, each insert, update, delete or
// clear with the records it takes and no others, keys and uris
// non-empty, valid UTF-8 and free of white space, old records with an id
// and new ones without.
func checkTxnInvariants(t *testing.T, req *txnRequest) {
	t.Helper()
	if len(req.ops) == 0 {
		t.Fatal("accepted a request without ops")
	}
	if req.hasBaseKey != (req.baseKey != nil) {
		t.Fatalf("hasBaseKey %v with basekey %#v", req.hasBaseKey, req.baseKey)
	}
	var none translation.Record
	for i, op := range req.ops {
		checkNew := func() {
			checkKeyURIInvariant(t, i, "new", op.new)
			if op.new.ID != 0 {
				t.Fatalf("ops[%d]: new record with id %d", i, op.new.ID)
			}
		}
		checkOld := func() {
			checkKeyURIInvariant(t, i, "old", op.old)
			if op.old.ID == 0 {
				t.Fatalf("ops[%d]: old record without id", i)
			}
		}
		switch op.kind {
		case "insert":
			checkNew()
			if op.old != none {
				t.Fatalf("ops[%d]: insert with an old record %+v", i, op.old)
			}
		case "update":
			checkOld()
			checkNew()
		case "delete":
			checkOld()
			if op.new != none {
				t.Fatalf("ops[%d]: delete with a new record %+v", i, op.new)
			}
		case "clear":
			if op.old != none || op.new != none {
				t.Fatalf("ops[%d]: clear with records %+v, %+v", i, op.old, op.new)
			}
		default:
			t.Fatalf("ops[%d]: accepted op %q", i, op.kind)
		}
	}
}

func checkKeyURIInvariant(t *testing.T, i int, which string, rec translation.Record) {
	t.Helper()
	for _, v := range []string{rec.Key, rec.URI} {
		if v == "" || !utf8.ValidString(v) || strings.IndexFunc(v, unicode.IsSpace) >= 0 {
			t.Fatalf("ops[%d].%s: accepted key or uri %q", i, which, v)
		}
	}
	if err := translation.ValidateKeyURI(rec.Key, rec.URI); err != nil {
		t.Fatalf("ops[%d].%s: accepted what the provider refuses: %v", i, which, err)
	}
}

// txnFromJSON reads an accepted body with encoding/json, independently
// of decodeTxn, into the request it describes.
func txnFromJSON(t *testing.T, body []byte) *txnRequest {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil {
		t.Fatalf("encoding/json rejects an accepted body: %v", err)
	}
	req := &txnRequest{}
	if g, ok := top["generation"]; ok {
		n, err := strconv.ParseUint(jsonAs[json.Number](t, g, "generation").String(), 10, 64)
		if err != nil {
			t.Fatalf("accepted generation %v", g)
		}
		req.generation = &n
	}
	if bk, ok := top["basekey"]; ok {
		req.hasBaseKey = true
		req.baseKey = []string{}
		for _, k := range jsonAs[[]any](t, bk, "basekey") {
			req.baseKey = append(req.baseKey, jsonAs[string](t, k, "basekey element"))
		}
	}
	for _, o := range jsonAs[[]any](t, top["ops"], "ops") {
		m := jsonAs[map[string]any](t, o, "op")
		op := txnOp{kind: jsonAs[string](t, m["op"], "op")}
		switch op.kind {
		case "insert":
			op.new = recordFromJSON(t, m)
		case "update":
			op.old = recordFromJSON(t, jsonAs[map[string]any](t, m["old"], "old"))
			op.new = recordFromJSON(t, jsonAs[map[string]any](t, m["new"], "new"))
		case "delete":
			op.old = recordFromJSON(t, jsonAs[map[string]any](t, m["old"], "old"))
		}
		req.ops = append(req.ops, op)
	}
	return req
}

// jsonAs returns the JSON value v as a T, failing the test when it is
// something else.
func jsonAs[T any](t *testing.T, v any, what string) T {
	t.Helper()
	x, ok := v.(T)
	if !ok {
		t.Fatalf("accepted %s %#v", what, v)
	}
	return x
}

// recordFromJSON reads the record fields of the JSON object m.
func recordFromJSON(t *testing.T, m map[string]any) translation.Record {
	t.Helper()
	str := func(name string) string {
		if v, ok := m[name]; ok {
			return jsonAs[string](t, v, name)
		}
		return ""
	}
	num := func(name string, hi uint64) uint64 {
		v, ok := m[name]
		if !ok {
			return 0
		}
		n, err := strconv.ParseUint(jsonAs[json.Number](t, v, name).String(), 10, 64)
		if err != nil || n > hi {
			t.Fatalf("accepted %s %v", name, v)
		}
		return n
	}
	return translation.Record{
		Key: str("key"), URI: str("uri"),
		Block: uint32(num("block", math.MaxUint32)), Order: uint32(num("order", math.MaxUint32)),
		Action: str("action"), Note: str("note"), ID: num("id", math.MaxUint64),
	}
}

// encodeTxn writes req as a txn body, the way a client would, with
// encoding/json.
func encodeTxn(t *testing.T, req *txnRequest) []byte {
	t.Helper()
	type jsonRecord struct {
		Key    string  `json:"key"`
		URI    string  `json:"uri"`
		Block  uint32  `json:"block"`
		Order  uint32  `json:"order"`
		Action *string `json:"action,omitempty"`
		Note   string  `json:"note,omitempty"`
		ID     uint64  `json:"id,omitempty"`
	}
	type jsonOp struct {
		Op string `json:"op"`
		*jsonRecord
		Old *jsonRecord `json:"old,omitempty"`
		New *jsonRecord `json:"new,omitempty"`
	}
	var body struct {
		BaseKey    *[]string `json:"basekey,omitempty"` // an empty list is kept
		Generation *uint64   `json:"generation,omitempty"`
		Ops        []jsonOp  `json:"ops"`
	}
	if req.hasBaseKey {
		body.BaseKey = &req.baseKey
	}
	body.Generation = req.generation
	record := func(r translation.Record, old bool) *jsonRecord {
		jr := &jsonRecord{Key: r.Key, URI: r.URI, Block: r.Block, Order: r.Order, Note: r.Note, ID: r.ID}
		if !old || r.Action != "" { // a new record needs its action, even empty
			jr.Action = &r.Action
		}
		return jr
	}
	for _, op := range req.ops {
		jo := jsonOp{Op: op.kind}
		switch op.kind {
		case "insert":
			jo.jsonRecord = record(op.new, false)
		case "update":
			jo.Old, jo.New = record(op.old, true), record(op.new, false)
		case "delete":
			jo.Old = record(op.old, true)
		}
		body.Ops = append(body.Ops, jo)
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzAuthTarget feeds the request target of /v1/auth, and values of a
// decision, arbitrary text. splitTarget must never panic; a path it
// accepts is absolute, UTF-8, without control characters or dot
// segments (runs of '/' are the engine's to collapse). urlValue must
// send only what a URL holds as it is and lose nothing: decoding what it
// wrote gives its input back, every '%' of it included.
func FuzzAuthTarget(f *testing.F) {
	for _, s := range []string{"/", "/a/./b/../c%3F/?q=%20", "http://h:81/y?z", "/%2e%2e/x", "/a%zz", "*",
		"/é {x}#y%", "/a%41%4", "?q", "/a//b/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		path, args, err := splitTarget(target)
		if err == nil && path != "*" {
			if !strings.HasPrefix(path, "/") || !utf8.ValidString(path) || httpsyntax.HasControl(path) ||
				strings.Contains(path, "/./") || strings.Contains(path, "/../") || strings.HasSuffix(path, "/..") ||
				strings.HasSuffix(path, "/.") {
				t.Fatalf("splitTarget(%q) = %q, %q", target, path, args)
			}
		}
		for _, fragment := range []bool{false, true} {
			u := urlValue(target, fragment)
			hashes := 0
			for i := 0; i < len(u); i++ {
				c := u[i]
				if c <= ' ' || c >= 0x7f || strings.IndexByte("\"<>\\^`{|}", c) >= 0 ||
					c == '%' && (i+2 >= len(u) || !isHex(u[i+1]) || !isHex(u[i+2])) {
					t.Fatalf("urlValue(%q, %v) = %q holds %q", target, fragment, u, c)
				}
				if c == '#' {
					hashes++
				}
			}
			if hashes > 0 && !fragment || hashes > 1 {
				t.Fatalf("urlValue(%q, %v) = %q: %d '#'", target, fragment, u, hashes)
			}
			if back := unescapeAll(u); back != target {
				t.Fatalf("urlValue(%q, %v) = %q, which decodes to %q", target, fragment, u, back)
			}
		}
	})
}

// unescapeAll decodes every %XX of s; a '%' that starts none stays.
func unescapeAll(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			v, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			b = append(b, byte(v))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}
