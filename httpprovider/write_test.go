package httpprovider_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"transdb/httpprovider"
	"transdb/translation"
)

func TestTxnResultsHaveOneEntryPerOp(t *testing.T) {
	s := serveNew(t)
	r := s.post("/v1/txn", `{"ops":[
		{"op":"insert","key":"k","uri":"/u","block":0,"order":0,"action":"a","note":"n"},
		{"op":"insert","key":"k","uri":"/u","block":0,"order":1,"action":"b"},
		{"op":"insert","key":"k","uri":"/v","block":2,"order":3,"action":"c"}]}`)
	// The note of the first record takes id 2.
	if r.status != http.StatusOK || string(r.body) != `{"generation":1,"results":[{"id":1},{"id":3},{"id":4}]}`+"\n" || r.generation(t) != 1 {
		t.Fatalf("insert: %d %s", r.status, r.body)
	}
	r = s.post("/v1/txn", `{"ops":[
		{"op":"update","old":{"key":"k","uri":"/u","block":0,"order":0,"id":1},
		               "new":{"key":"k","uri":"/w","block":5,"order":6,"action":"a2","note":"n2"}},
		{"op":"delete","old":{"key":"k","uri":"/u","block":0,"order":1,"id":3,"action":"ignored","note":"ignored"}},
		{"op":"insert","key":"k","uri":"/x","block":0,"order":0,"action":"d"},
		{"op":"clear"},
		{"op":"insert","key":"k","uri":"/y","block":0,"order":0,"action":"e"},
		{"op":"clear"}]}`)
	// The update deletes 1 (and its note) and inserts 5 (note 6), the
	// delete deletes 3, the insert adds 7: the clear deletes 4, 5 and 7,
	// the last one 8.
	want := `{"generation":2,"results":[{"id":5},{"deleted":1},{"id":7},{"deleted":3},{"id":8},{"deleted":1}]}` + "\n"
	if r.status != http.StatusOK || string(r.body) != want {
		t.Fatalf("txn: %d %s, want %s", r.status, r.body, want)
	}
	if keys, err := s.p.ListKeys(); err != nil || len(keys) != 0 {
		t.Errorf("keys after clear: %v %v", keys, err)
	}

	ins := s.txn(`{"ops":[{"op":"insert","key":"k","uri":"/u","block":0,"order":0,"action":"a","note":"n"}]}`)
	res := s.txn(fmt.Sprintf(`{"ops":[{"op":"update","old":{"key":"k","uri":"/u","block":0,"order":0,"id":%d},
		"new":{"key":"k","uri":"/u","block":1,"order":0,"action":"new"}}]}`, *ins.Results[0].ID))
	f := s.fetch("key=k&uri=/u&notes=1")
	if len(f.Blocks) != 1 || f.Blocks[0].ID != *res.Results[0].ID || f.Blocks[0].Block != 1 || f.Blocks[0].Note != nil || f.Generation != res.Generation {
		t.Errorf("after update: %+v (result %+v)", f, res)
	}
}

func TestTxnIsAllOrNothing(t *testing.T) {
	s := serveNew(t)
	s.loadExample()
	before, gen := s.dump()
	for _, body := range []string{
		// The delete names record 6 with the wrong block.
		`{"ops":[{"op":"insert","key":"k","uri":"/u","block":0,"order":0,"action":"a"},
			{"op":"delete","old":{"key":"front","uri":"/static","block":1,"order":0,"id":6}}]}`,
		// An update of a record that another op deleted.
		`{"ops":[{"op":"delete","old":{"key":"front","uri":"/static","block":0,"order":0,"id":6}},
			{"op":"update","old":{"key":"front","uri":"/static","block":0,"order":0,"id":6},
			 "new":{"key":"front","uri":"/static","block":0,"order":0,"action":"x"}}]}`,
		// An id that does not exist, after a clear.
		`{"ops":[{"op":"clear"},{"op":"delete","old":{"key":"front","uri":"/","block":0,"order":0,"id":99}}]}`,
		// The record of another key.
		`{"ops":[{"op":"delete","old":{"key":"back","uri":"/static","block":0,"order":0,"id":6}}]}`,
	} {
		msg := s.wantError(s.post("/v1/txn", body), http.StatusConflict)
		if !strings.Contains(msg, "ops[") {
			t.Errorf("conflict message %q does not name the op", msg)
		}
		if after, g := s.dump(); after != before || g != gen {
			t.Fatalf("a failed txn changed the database (generation %d -> %d)", gen, g)
		}
	}
}

// A transaction of more operations than a server should hold at once is
// refused whole, before anything is done; as many as the bound commit.
func TestTxnOfTooManyOperationsIsRefused(t *testing.T) {
	s := serveNew(t)
	s.loadExample()
	before, gen := s.dump()
	body := func(n int) string {
		var b strings.Builder
		b.WriteString(`{"ops":[`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"op":"insert","key":"k","uri":"/u%d","block":0,"order":0,"action":"a"}`, i)
		}
		b.WriteString(`]}`)
		return b.String()
	}
	msg := s.wantError(s.post("/v1/txn", body(100_001)), http.StatusRequestEntityTooLarge)
	if msg != "more than 100000 operations in one transaction: load a whole table with POST /v1/load" {
		t.Errorf("message %q", msg)
	}
	if after, g := s.dump(); after != before || g != gen {
		t.Fatalf("a refused txn changed the database (generation %d -> %d)", gen, g)
	}
	if res := s.txn(body(100_000)); len(res.Results) != 100_000 {
		t.Errorf("%d results of 100,000 operations", len(res.Results))
	}
}

func TestConcurrentTxnsQueueForTheFile(t *testing.T) {
	path := dbPath(t)
	s := serve(t, httpprovider.Options{
		// Two providers on one file share its transaction.
		Providers:  []*translation.Provider{newProvider(t, path, false, "a"), newProvider(t, path, false, "b")},
		AdminToken: token,
	})
	const workers, each = 6, 4
	gens := make(chan uint64, workers*each)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				body := fmt.Sprintf(`{"basekey":[%q],"ops":[{"op":"insert","key":"k","uri":"/w%d","block":%d,"order":0,"action":"x"}]}`,
					[]string{"a", "b"}[w%2], w, i)
				r := s.post("/v1/txn", body)
				if r.status != http.StatusOK {
					t.Errorf("txn: %d %s", r.status, r.body)
					return
				}
				gens <- r.generation(t)
			}
		})
	}
	wg.Wait()
	close(gens)
	var got []uint64
	for g := range gens {
		got = append(got, g)
	}
	slices.Sort(got)
	for i, g := range got {
		if g != uint64(i+1) {
			t.Fatalf("generations %v, want 1..%d once each", got, workers*each)
		}
	}
}

func TestWritesNeedTheAdminToken(t *testing.T) {
	s := serveNew(t)
	body := `{"ops":[{"op":"insert","key":"k","uri":"/u","block":0,"order":0,"action":"a"}]}`
	for _, tt := range []struct {
		name   string
		header []string
	}{
		{"no header", nil},
		{"wrong token", []string{"Authorization", "Bearer wrong"}},
		{"token prefix", []string{"Authorization", "Bearer " + token[:4]}},
		{"token with suffix", []string{"Authorization", "Bearer " + token + "x"}},
		{"basic scheme", []string{"Authorization", "Basic " + token}},
		{"no scheme", []string{"Authorization", token}},
		{"empty bearer", []string{"Authorization", "Bearer "}},
		{"two headers", []string{"Authorization", "Bearer " + token, "Authorization", "Bearer " + token}},
	} {
		for _, path := range []string{"/v1/txn", "/v1/load", "/v1/rotate"} {
			r := s.do(http.MethodPost, path, strings.NewReader(body), tt.header...)
			s.wantError(r, http.StatusUnauthorized)
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s %s: WWW-Authenticate %q", tt.name, path, r.header.Get("WWW-Authenticate"))
			}
		}
	}
	if g, err := s.p.Generation(); err != nil || g != 0 {
		t.Fatalf("unauthorized writes committed: generation %d %v", g, err)
	}
	// The scheme is case-insensitive.
	r := s.do(http.MethodPost, "/v1/txn", strings.NewReader(body), "Authorization", "bearer "+token)
	if r.status != http.StatusOK {
		t.Errorf("lower-case scheme: %d %s", r.status, r.body)
	}
}

func TestWritesAreForbiddenWithoutTokenOrOnReadOnlyProvider(t *testing.T) {
	path := dbPath(t)
	open := serve(t, httpprovider.Options{Providers: []*translation.Provider{newProvider(t, path, false)}})
	for _, p := range []string{"/v1/txn", "/v1/load", "/v1/rotate"} {
		if msg := open.wantError(open.post(p, `{"ops":[{"op":"clear"}]}`), http.StatusForbidden); !strings.Contains(msg, "disabled") {
			t.Errorf("%s without AdminToken: %q", p, msg)
		}
	}
	// Rotate as a daemon does it on SIGHUP needs no token.
	if err := open.srv.Rotate(); err != nil {
		t.Errorf("Rotate without AdminToken: %v", err)
	}

	ro := serve(t, httpprovider.Options{
		Providers:  []*translation.Provider{newProvider(t, path, true), newProvider(t, path, false, "rw")},
		AdminToken: token,
	})
	for _, p := range []string{"/v1/txn", "/v1/load?format=jsonl"} {
		if msg := ro.wantError(ro.post(p, `{"ops":[{"op":"clear"}]}`), http.StatusForbidden); !strings.Contains(msg, "read-only") {
			t.Errorf("%s on a read-only provider: %q", p, msg)
		}
	}
	// The writable provider of the same server takes writes.
	ro.decode(ro.post("/v1/txn", `{"basekey":["rw"],"ops":[{"op":"clear"}]}`), http.StatusOK, &txnResult{})
}

func TestLoadInsertsATableInOneTransaction(t *testing.T) {
	s := serveNew(t)
	s.loadExample()
	jsonl := `{"key":"k","uri":"/u","block":0,"order":0,"action":"a","note":"n","id":77}` + "\n" +
		`{"key":"k","uri":"/u","block":0,"order":1,"action":"b"}` + "\n"
	var res loadResult
	s.decode(s.post("/v1/load?format=jsonl&generation=1", jsonl), http.StatusOK, &res)
	if res.Generation != 2 || res.Records != 2 {
		t.Fatalf("load: %+v", res)
	}
	f := s.fetch("key=k&uri=/u&notes=1")
	if len(f.Blocks) != 2 || f.Blocks[0].ID == 77 || f.Blocks[0].Note == nil || *f.Blocks[0].Note != "n" {
		t.Errorf("loaded records: %+v", f)
	}
	if keys, _ := s.p.ListKeys(); !slices.Equal(keys, []string{"back", "front", "k"}) {
		t.Errorf("keys after load without clear: %v", keys)
	}

	// A load against generation 1 is refused now: the database moved on.
	before, gen := s.dump()
	msg := s.wantError(s.post("/v1/load?format=jsonl&clear=1&generation=1", jsonl), http.StatusConflict)
	if !strings.Contains(msg, "generation") {
		t.Errorf("mismatch message %q", msg)
	}
	// A malformed table is refused naming the line.
	bad := "# comment\n######################################################################\nk & /u 0/0\naction> ok\n" +
		"######################################################################\nk & /u zero/0\naction> x\n"
	if msg := s.wantError(s.post("/v1/load?format=text&clear=1", bad), http.StatusBadRequest); !strings.Contains(msg, "line 6") {
		t.Errorf("malformed table: %q, want line 6", msg)
	}
	if after, g := s.dump(); after != before || g != gen {
		t.Fatal("a refused load changed the database")
	}

	// The file format, replacing the table.
	file := ">>> 1 a /x 0 0\nfirst\n>>> 2 a /x 0 1\nsecond\nline\n"
	s.decode(s.post("/v1/load?format=file&clear=true&generation=2", file), http.StatusOK, &res)
	if res.Generation != 3 || res.Records != 2 {
		t.Errorf("file load: %+v", res)
	}
	if keys, _ := s.p.ListKeys(); !slices.Equal(keys, []string{"a"}) {
		t.Errorf("keys after load with clear: %v", keys)
	}
	if f := s.fetch("key=a&uri=/x"); len(f.Blocks) != 2 || f.Blocks[1].Action != "second\nline" {
		t.Errorf("file load: %+v", f)
	}
	// An empty table with clear and empty empties it.
	s.decode(s.post("/v1/load?clear=1&empty=1", ""), http.StatusOK, &res)
	if res.Records != 0 || res.Generation != 4 {
		t.Errorf("empty load: %+v", res)
	}
	if keys, _ := s.p.ListKeys(); len(keys) != 0 {
		t.Errorf("keys after empty load with clear: %v", keys)
	}
}

func TestTxnWithGenerationCommitsOnlyOnThatVersion(t *testing.T) {
	s := serveNew(t)
	s.loadExample() // generation 1
	insert := `"ops":[{"op":"insert","key":"k","uri":"/u","block":0,"order":0,"action":"a"}]`
	if res := s.txn(`{"generation":1,` + insert + `}`); res.Generation != 2 {
		t.Fatalf("txn at the current generation: %+v", res)
	}
	// Another writer committed generation 2: a txn made from version 1
	// is refused, and the answer names the current generation.
	before, gen := s.dump()
	r := s.post("/v1/txn", `{"generation":1,`+insert+`}`)
	if msg := s.wantError(r, http.StatusConflict); !strings.Contains(msg, "generation 2, not 1") {
		t.Errorf("conflict message %q", msg)
	}
	if g := r.generation(t); g != 2 {
		t.Errorf("409 carries generation %d, want the current 2", g)
	}
	if after, g := s.dump(); after != before || g != gen {
		t.Fatalf("a refused txn changed the database (generation %d -> %d)", gen, g)
	}
	// The generation may come after the ops, and 0 is a generation too.
	s.wantError(s.post("/v1/txn", `{`+insert+`,"generation":0}`), http.StatusConflict)
	for _, c := range []struct{ body, want string }{
		{`{"generation":-1,` + insert + `}`, `generation "-1" is not an integer`},
		{`{"generation":1.5,` + insert + `}`, `generation "1.5" is not an integer`},
		{`{"generation":"2",` + insert + `}`, `generation must be a number, found a string`},
		{`{"generation":null,` + insert + `}`, `generation must be a number, found null`},
		{`{"generation":2,"generation":2,` + insert + `}`, `repeated field "body.generation"`},
	} {
		if msg := s.wantError(s.post("/v1/txn", c.body), http.StatusBadRequest); !strings.HasPrefix(msg, c.want) {
			t.Errorf("txn %s: %q, want %q", c.body, msg, c.want)
		}
	}
}
