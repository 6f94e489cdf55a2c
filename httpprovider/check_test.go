package httpprovider_test

import (
	"net/http"
	"strings"
	"testing"
)

type checkResult struct {
	Generation uint64 `json:"generation"`
	Findings   []struct {
		ID          uint64 `json:"id"`
		Key         string `json:"key"`
		URI         string `json:"uri"`
		Block       uint32 `json:"block"`
		Order       uint32 `json:"order"`
		Action      string `json:"action"`
		Error       string `json:"error"`
		Unsupported bool   `json:"unsupported"`
	} `json:"findings"`
}

func TestCheckListsTheRowsTheEngineCannotEvaluate(t *testing.T) {
	s := serveNew(t)
	s.loadExample()
	res := s.txn(`{"ops":[
		{"op":"insert","key":"front","uri":"/perl","block":0,"order":0,"action":"Done"},
		{"op":"insert","key":"front","uri":"/perl","block":1,"order":2,"action":"Do: my $x = 1"},
		{"op":"insert","key":"back","uri":"/broken","block":0,"order":0,"action":"Cond: ("}]}`)
	perlID, brokenID := *res.Results[1].ID, *res.Results[2].ID
	check := func(query string) checkResult {
		t.Helper()
		var c checkResult
		r := s.get("/v1/check" + query)
		s.decode(r, http.StatusOK, &c)
		if c.Findings == nil || c.Generation != 2 || r.generation(t) != 2 {
			t.Fatalf("check%s: %s", query, r.body)
		}
		return c
	}
	all := check("")
	if len(all.Findings) != 2 {
		t.Fatalf("check: %+v, want 2 findings", all)
	}
	// In table order: back before front.
	b, p := all.Findings[0], all.Findings[1]
	if b.ID != brokenID || b.Key != "back" || b.URI != "/broken" || b.Unsupported || b.Error == "" || b.Action != "Cond: (" {
		t.Errorf("finding of the malformed row: %+v", b)
	}
	if p.ID != perlID || p.Block != 1 || p.Order != 2 || !p.Unsupported || !strings.Contains(p.Error, "my") {
		t.Errorf("finding of the unsupported row: %+v", p)
	}
	for query, want := range map[string][]uint64{
		"?key=front":           {perlID},
		"?key=front&uri=/perl": {perlID},
		"?key=front&uri=/":     {},
		"?key=nothing":         {},
		"?key=back&uri=/broken&basekey=trans&basekey=db": {brokenID},
	} {
		got := []uint64{}
		for _, f := range check(query).Findings {
			got = append(got, f.ID)
		}
		if len(got) != len(want) || len(got) == 1 && got[0] != want[0] {
			t.Errorf("check%s: ids %v, want %v", query, got, want)
		}
	}
	for query, want := range map[string]string{
		"?uri=/perl":      "parameter uri needs the parameter key",
		"?key=a%20b":      "white space",
		"?key=a&key=a":    "given 2 times",
		"?notes=1":        `unknown parameter "notes"`,
		"?key=front&uri=": `parameter uri "": is empty`,
	} {
		if msg := s.wantError(s.get("/v1/check"+query), http.StatusBadRequest); !strings.Contains(msg, want) {
			t.Errorf("check%s: %q, want %q", query, msg, want)
		}
	}
}
