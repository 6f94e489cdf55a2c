package main

import (
	"errors"
	"strings"
	"testing"

	"transdb/internal/httpload"
)

func TestPrintCheckRefusesEveryDifference(t *testing.T) {
	want := httpload.Response{Status: 200, Generation: []byte("7"), Headers: []byte("X-Transdb-Proxy: http://b/\n"), Body: []byte(`{"a":1}`)}
	prints := []uint64{answerPrint(200, []byte("7"), nil, []byte("other")), answerPrint(want.Status, want.Generation, want.Headers, want.Body)}
	whole := func(i int, r httpload.Response) error { return errors.New("whole: not the answer") }
	check := printCheck(prints, whole)
	if err := check(1, want); err != nil {
		t.Fatalf("the expected answer: %v", err)
	}
	for name, r := range map[string]httpload.Response{
		"status":     {Status: 201, Generation: want.Generation, Headers: want.Headers, Body: want.Body},
		"generation": {Status: 200, Generation: []byte("8"), Headers: want.Headers, Body: want.Body},
		"headers":    {Status: 200, Generation: want.Generation, Headers: []byte("X-Transdb-Proxy: http://c/\n"), Body: want.Body},
		"body":       {Status: 200, Generation: want.Generation, Headers: want.Headers, Body: []byte(`{"a":2}`)},
		// The fields are told apart: bytes moved from one to the next
		// make another answer.
		"moved": {Status: 200, Generation: want.Generation, Headers: want.Headers[:len(want.Headers)-1], Body: append([]byte("\n"), want.Body...)},
	} {
		if err := check(1, r); err == nil || !strings.HasPrefix(err.Error(), "whole:") {
			t.Errorf("%s: %v, want the error of the whole check", name, err)
		}
	}
	if err := check(0, want); err == nil {
		t.Error("the answer to target 1 is accepted for target 0")
	}
	if err := printCheck(prints[1:], whole)(5, want); err != nil {
		t.Errorf("one fingerprint for all targets: %v", err)
	}
	// An answer whose whole check passes but whose fingerprint differs is
	// refused all the same.
	if err := printCheck(prints[:1], func(int, httpload.Response) error { return nil })(0, want); err == nil {
		t.Error("an answer with another fingerprint is accepted")
	}
}
