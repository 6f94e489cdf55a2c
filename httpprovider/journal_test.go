package httpprovider_test

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"transdb/httpprovider"
	"transdb/translation"
)

type journalResult struct {
	Generation uint64 `json:"generation"`
	Entries    []struct {
		Time       string  `json:"time"`
		Generation uint64  `json:"generation"`
		Op         string  `json:"op"`
		ID         uint64  `json:"id"`
		Key        string  `json:"key"`
		URI        string  `json:"uri"`
		Block      uint32  `json:"block"`
		Order      uint32  `json:"order"`
		Action     *string `json:"action"`
	} `json:"entries"`
	Truncated bool `json:"truncated"`
}

func (s *testServer) journal(query string) journalResult {
	s.t.Helper()
	var res journalResult
	r := s.get("/v1/journal" + query)
	s.decode(r, http.StatusOK, &res)
	if res.Entries == nil || r.generation(s.t) != res.Generation {
		s.t.Fatalf("journal%s: %s", query, r.body)
	}
	return res
}

// summary returns the entries as "generation op id key uri block/order action".
func (res journalResult) summary() []string {
	out := []string{}
	for _, e := range res.Entries {
		line := fmt.Sprintf("%d %s", e.Generation, e.Op)
		if e.Op != "clear" {
			line += fmt.Sprintf(" %d %s %s %d/%d", e.ID, e.Key, e.URI, e.Block, e.Order)
		}
		if e.Action != nil {
			line += " " + *e.Action
		}
		out = append(out, line)
	}
	return out
}

func TestJournalGivesTheRecentChangesOfAListNewestFirst(t *testing.T) {
	for _, flush := range []bool{true, false} {
		t.Run(fmt.Sprintf("flush=%v", flush), func(t *testing.T) {
			s := serve(t, httpprovider.Options{
				Providers:  []*translation.Provider{newProvider(t, dbPath(t), false)},
				AdminToken: token,
				Flush:      flush,
			})
			if res := s.journal("?key=k&uri=/a"); len(res.Entries) != 0 || res.Truncated {
				t.Fatalf("journal before any commit: %+v", res)
			}
			s.txn(`{"ops":[
				{"op":"insert","key":"k","uri":"/a","block":0,"order":0,"action":"a|b\\c\nd"},
				{"op":"insert","key":"k","uri":"/b","block":0,"order":0,"action":"other list"}]}`)
			s.txn(`{"generation":1,"ops":[{"op":"update","old":{"key":"k","uri":"/a","block":0,"order":0,"id":1},
				"new":{"key":"k","uri":"/a","block":1,"order":0,"action":""}}]}`)
			s.txn(`{"ops":[{"op":"clear"},{"op":"insert","key":"k","uri":"/a","block":0,"order":0,"action":"x"}]}`)
			want := []string{
				"3 insert 4 k /a 0/0 x",
				"3 clear",
				"2 insert 3 k /a 1/0 ",
				"2 delete 1 k /a 0/0",
				"1 insert 1 k /a 0/0 a|b\\c\nd",
			}
			res := s.journal("?key=k&uri=/a")
			if got := res.summary(); !reflect.DeepEqual(got, want) || res.Truncated || res.Generation != 3 {
				t.Errorf("journal of k /a: %q (truncated %v, generation %d), want %q", got, res.Truncated, res.Generation, want)
			}
			if !strings.HasSuffix(res.Entries[0].Time, "Z") || len(res.Entries[0].Time) != len("2006-01-02T15:04:05.000000Z") {
				t.Errorf("time %q", res.Entries[0].Time)
			}
			if got := s.journal("?key=k&uri=/a&limit=2").summary(); !reflect.DeepEqual(got, want[:2]) {
				t.Errorf("limit=2: %q", got)
			}
			if got := s.journal("?key=k").summary(); len(got) != 6 || got[4] != "1 insert 2 k /b 0/0 other list" {
				t.Errorf("journal of k: %q", got)
			}
			if got := s.journal("").summary(); len(got) != 6 {
				t.Errorf("whole journal: %q", got)
			}
			if got := s.journal("?key=other&uri=/a").summary(); !reflect.DeepEqual(got, []string{"3 clear"}) {
				t.Errorf("journal of another key: %q", got)
			}
		})
	}
}

func TestJournalRefusesMalformedParameters(t *testing.T) {
	s := serveNew(t)
	for query, want := range map[string]string{
		"?limit=0":       "not an integer in 1..1000",
		"?limit=1001":    "not an integer in 1..1000",
		"?uri=a%20b":     "white space",
		"?key=a&key=b":   "given 2 times",
		"?notes=1":       `unknown parameter "notes"`,
		"?basekey=other": "unknown basekey",
	} {
		status := http.StatusBadRequest
		if strings.Contains(query, "basekey") {
			status = http.StatusNotFound
		}
		if msg := s.wantError(s.get("/v1/journal"+query), status); !strings.Contains(msg, want) {
			t.Errorf("journal%s: %q, want %q", query, msg, want)
		}
	}
}
