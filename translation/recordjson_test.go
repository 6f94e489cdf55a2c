package translation_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"transdb/translation"
)

func TestJSONRecordReportsTheFieldsPresent(t *testing.T) {
	tests := []struct {
		in     string
		rec    translation.Record
		fields translation.RecordFields
	}{
		{`{}`, translation.Record{}, 0},
		{`{"key":"k","uri":"/","block":1,"order":2,"action":"a"}`, translation.Record{Key: "k", URI: "/", Block: 1, Order: 2, Action: "a"},
			translation.FieldKey | translation.FieldURI | translation.FieldBlock | translation.FieldOrder | translation.FieldAction},
		{` { "id" : 18446744073709551615, "note" : "" } `, translation.Record{ID: 18446744073709551615}, translation.FieldID | translation.FieldNote},
		{`{"block":0,"order":4294967295}`, translation.Record{Order: 4294967295}, translation.FieldBlock | translation.FieldOrder},
	}
	for _, tt := range tests {
		var j translation.JSONRecord
		if err := json.Unmarshal([]byte(tt.in), &j); err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if j.Record != tt.rec || j.Fields != tt.fields {
			t.Errorf("%s: got %+v, fields %07b; want %+v, fields %07b", tt.in, j.Record, j.Fields, tt.rec, tt.fields)
		}
	}
}

func TestJSONRecordErrorsNameTheFieldByItsPath(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		invalid bool // the error wraps ErrInvalidRecord
	}{
		{`[1]`, `ops[2].old: want a JSON object, found "[1]"`, false},
		{`{"key":"k"`, `ops[2].old: truncated JSON object`, false},
		{`{"key":"k"} 1`, `ops[2].old: unexpected data after the JSON object`, false},
		{`{"color":"red"}`, `unknown field "ops[2].old.color"`, false},
		{`{"Key":"k"}`, `unknown field "ops[2].old.Key"`, false},
		{`{"id":1,"id":2}`, `repeated field "ops[2].old.id"`, false},
		{`{"block":-1}`, `ops[2].old.block "-1" is not an integer in 0..4294967295`, false},
		{`{"order":4294967296}`, `ops[2].old.order "4294967296" is not an integer in 0..4294967295`, false},
		{`{"order":1.0}`, `ops[2].old.order "1.0" is not an integer`, false},
		{`{"id":"1"}`, `ops[2].old.id "\"1\"" is not an integer in 0..18446744073709551615`, false},
		{`{"action":null}`, `ops[2].old.action must be a string, found "null"`, false},
		{`{"note":["n"]}`, `ops[2].old.note must be a string, found "[\"n\"]"`, false},
		{`{"key":"a b"}`, `ops[2].old.key "a b" contains white space`, true},
		{`{"uri":""}`, `empty ops[2].old.uri`, true},
	}
	for _, tt := range tests {
		j := translation.JSONRecord{Path: "ops[2].old"}
		err := j.UnmarshalJSON([]byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.in, err, tt.want)
		}
		if got := errors.Is(err, translation.ErrInvalidRecord); got != tt.invalid {
			t.Errorf("%s: errors.Is(err, ErrInvalidRecord) = %v, want %v", tt.in, got, tt.invalid)
		}
	}
}

func TestJSONRecordCheck(t *testing.T) {
	const (
		named   = translation.FieldKey | translation.FieldURI | translation.FieldBlock | translation.FieldOrder | translation.FieldID
		allowed = named | translation.FieldAction | translation.FieldNote
	)
	tests := []struct {
		in   string
		want string // "" for no error
	}{
		{`{"key":"k","uri":"/","block":0,"order":0,"id":1}`, ""},
		{`{"key":"k","uri":"/","block":0,"order":0,"id":1,"action":"a","note":"n"}`, ""},
		{`{"key":"k","uri":"/","block":0,"order":0}`, `missing field "old.id"`},
		{`{"uri":"/","block":0,"order":0,"id":1}`, `missing field "old.key"`},
	}
	for _, tt := range tests {
		j := translation.JSONRecord{Path: "old"}
		if err := j.UnmarshalJSON([]byte(tt.in)); err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		err := j.Check(named, allowed)
		if (err == nil) != (tt.want == "") || (err != nil && err.Error() != tt.want) {
			t.Errorf("%s: Check = %v, want %q", tt.in, err, tt.want)
		}
	}
	j := translation.JSONRecord{Path: "new"}
	if err := j.UnmarshalJSON([]byte(`{"key":"k","uri":"/","block":0,"order":0,"action":"a","id":3}`)); err != nil {
		t.Fatal(err)
	}
	if err := j.Check(0, allowed&^translation.FieldID); err == nil || err.Error() != `field "new.id" is not allowed` {
		t.Errorf("Check of a field not allowed = %v", err)
	}
}

// SetField takes the record fields of an object that has fields of its
// own, as an operation {"op":"insert", "key":...} does.
func TestJSONRecordSetField(t *testing.T) {
	var j translation.JSONRecord
	for _, f := range []struct{ name, value string }{
		{"key", `"front"`}, {"uri", `"/"`}, {"block", `1`}, {"order", `2`}, {"action", `"a\nb"`},
	} {
		if err := j.SetField(f.name, []byte(f.value)); err != nil {
			t.Fatalf("SetField(%s, %s): %v", f.name, f.value, err)
		}
	}
	want := translation.Record{Key: "front", URI: "/", Block: 1, Order: 2, Action: "a\nb"}
	if j.Record != want {
		t.Errorf("record %+v, want %+v", j.Record, want)
	}
	if err := j.SetField("op", []byte(`"insert"`)); err == nil || err.Error() != `unknown field "op"` {
		t.Errorf("SetField of a field of the operation: %v", err)
	}
	if err := j.SetField("block", []byte(`3`)); err == nil || err.Error() != `repeated field "block"` {
		t.Errorf("SetField of a field given before: %v", err)
	}
}

func ExampleJSONRecord() {
	// An old record, as an update names it: key, uri, block, order and
	// id are required, action and note allowed, and nothing else.
	const (
		required = translation.FieldKey | translation.FieldURI | translation.FieldBlock | translation.FieldOrder | translation.FieldID
		allowed  = required | translation.FieldAction | translation.FieldNote
	)
	for _, in := range []string{
		`{"key":"front","uri":"/static","block":0,"order":0,"id":6}`,
		`{"key":"front","uri":"/static","block":0,"order":0}`,
		`{"key":"front","uri":"/static","block":-1,"order":0,"id":6}`,
	} {
		j := translation.JSONRecord{Path: "old"}
		err := j.UnmarshalJSON([]byte(in))
		if err == nil {
			err = j.Check(required, allowed)
		}
		fmt.Println(j.Key, j.URI, j.ID, err)
	}
	// Output:
	// front /static 6 <nil>
	// front /static 0 missing field "old.id"
	// front /static 0 old.block "-1" is not an integer in 0..4294967295
}
