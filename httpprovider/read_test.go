package httpprovider_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"transdb/httpprovider"
	"transdb/translation"
)

// ids returns the ids of blocks.
func ids(blocks []block) []uint64 {
	out := []uint64{}
	for _, b := range blocks {
		out = append(out, b.ID)
	}
	return out
}

// TestResolveBodyIsWriteResolution checks that /v1/resolve, which writes
// its blocks straight from the mapping, sends byte for byte what
// WriteResolution writes of Provider.Resolve.
func TestResolveBodyIsWriteResolution(t *testing.T) {
	s := serveNew(t)
	s.loadExample()
	s.txn(`{"ops":[
		{"op":"insert","key":"front","uri":"/static/img.png","block":0,"order":0,"action":"\u00e9 \"q\" <b>"},
		{"op":"insert","key":"nopre","uri":"/a","block":2,"order":1,"action":"x"}]}`)
	for _, q := range [][2]string{
		{"front", "/static/img.png"}, {"front", "/static//img.png/more"}, {"front", "/"}, {"front", "*"},
		{"nopre", "/a/b"}, {"nopre", "/zz"}, {"absent", "/a"},
	} {
		want, err := s.p.Resolve(q[0], q[1])
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := httpprovider.WriteResolution(&buf, want); err != nil {
			t.Fatal(err)
		}
		r := s.get("/v1/resolve?key=" + url.QueryEscape(q[0]) + "&uri=" + url.QueryEscape(q[1]))
		if r.status != http.StatusOK || !bytes.Equal(r.body, buf.Bytes()) {
			t.Errorf("%s %s: %d\n%s\nwant\n%s", q[0], q[1], r.status, r.body, buf.Bytes())
		}
	}
	s.wantError(s.get("/v1/resolve?key=front&uri=relative"), http.StatusBadRequest)
}

func TestResolveOfTheExampleTable(t *testing.T) {
	s := serveNew(t)
	if res := s.loadExample(); res.Records != 13 || res.Generation != 1 {
		t.Fatalf("load: %+v, want 13 records at generation 1", res)
	}
	for _, tt := range []struct{ query, uri string }{
		{"key=front&uri=/static/img.png", "/static/img.png"},
		{"uri=/static/img.png", "/static/img.png"}, // the default key
		{"key=front&uri=//static///img.png", "//static///img.png"},
	} {
		query := tt.query
		r := s.get("/v1/resolve?" + query)
		var res resolveResult
		s.decode(r, http.StatusOK, &res)
		if res.Generation != 1 || r.generation(t) != 1 {
			t.Errorf("%s: generation %d, header %d, want 1", query, res.Generation, r.generation(t))
		}
		if res.Key != "front" || res.URI != tt.uri {
			t.Errorf("%s: key %q uri %q, want front %q", query, res.Key, res.URI, tt.uri)
		}
		if got := ids(res.Pre); !slices.Equal(got, []uint64{1, 2, 3, 4, 5}) {
			t.Errorf("%s: pre ids %v, want 1-5", query, got)
		}
		want := []struct {
			uri, pathInfo string
			ids           []uint64
		}{{"/static", "/img.png", []uint64{6}}, {"/", "/static/img.png", []uint64{9}}}
		if len(res.Matches) != len(want) {
			t.Fatalf("%s: %d matches, want 2: %s", query, len(res.Matches), r.body)
		}
		for i, w := range want {
			m := res.Matches[i]
			if m.URI != w.uri || m.PathInfo != w.pathInfo || !slices.Equal(ids(m.Blocks), w.ids) {
				t.Errorf("%s: match %d = %s %s %v, want %s %s %v", query, i, m.URI, m.PathInfo, ids(m.Blocks), w.uri, w.pathInfo, w.ids)
			}
		}
		if a := res.Matches[0].Blocks[0].Action; a != "File: $DOCROOT.'/'.$CTX{lang}.$MATCHED_PATH_INFO" {
			t.Errorf("%s: action of record 6 = %q", query, a)
		}
		if p := res.Pre[1]; p.Block != 0 || p.Order != 1 || p.Action != "Redirect: 'http://xyz.com'.$URI, 301" {
			t.Errorf("%s: pre[1] = %+v", query, p)
		}
	}

	// A key without :PRE: and a uri that matches nothing.
	var res resolveResult
	s.decode(s.get("/v1/resolve?key=back&uri=/nothing/here"), http.StatusOK, &res)
	if !slices.Equal(ids(res.Pre), []uint64{10, 11}) || len(res.Matches) != 0 || res.Matches == nil {
		t.Errorf("back /nothing/here: pre %v, matches %v", ids(res.Pre), res.Matches)
	}
	r := s.get("/v1/resolve?key=nokey&uri=/x")
	if !strings.Contains(string(r.body), `"pre":[],"matches":[]`) {
		t.Errorf("resolve of an unknown key: %s, want empty arrays", r.body)
	}
}

func TestFetchReturnsTheBlockListWithOrWithoutNotes(t *testing.T) {
	s := serveNew(t)
	res := s.txn(`{"ops":[
		{"op":"insert","key":"k","uri":"/u","block":1,"order":0,"action":"second","note":"a note"},
		{"op":"insert","key":"k","uri":"/u","block":0,"order":7,"action":"first"}]}`)
	if res.Generation != 1 || len(res.Results) != 2 || *res.Results[0].ID == 0 {
		t.Fatalf("txn: %+v", res)
	}
	f := s.fetch("key=k&uri=/u")
	if f.Key != "k" || f.URI != "/u" || f.Generation != 1 || len(f.Blocks) != 2 {
		t.Fatalf("fetch: %+v", f)
	}
	if b := f.Blocks[0]; b.Block != 0 || b.Order != 7 || b.Action != "first" || b.ID != *res.Results[1].ID || b.Note != nil {
		t.Errorf("blocks[0] = %+v", b)
	}
	if b := f.Blocks[1]; b.Block != 1 || b.Order != 0 || b.Action != "second" || b.ID != *res.Results[0].ID || b.Note != nil {
		t.Errorf("blocks[1] without notes = %+v", b)
	}
	for _, q := range []string{"notes=1", "notes=true"} {
		f = s.fetch("key=k&uri=/u&" + q)
		if n := f.Blocks[1].Note; n == nil || *n != "a note" {
			t.Errorf("%s: note of blocks[1] = %v", q, n)
		}
		if f.Blocks[0].Note != nil {
			t.Errorf("%s: blocks[0] has a note field, want none", q)
		}
	}
	if f = s.fetch("key=k&uri=/u&notes=0"); f.Blocks[1].Note != nil {
		t.Error("notes=0 gave notes")
	}
	// The default key is front.
	s.txn(`{"ops":[{"op":"insert","key":"front","uri":"/u","block":0,"order":0,"action":"default"}]}`)
	if f = s.fetch("uri=/u"); f.Key != "front" || len(f.Blocks) != 1 || f.Blocks[0].Action != "default" {
		t.Errorf("fetch with the default key: %+v", f)
	}
	r := s.get("/v1/fetch?key=k&uri=/nothing")
	if f = s.fetch("key=k&uri=/nothing"); len(f.Blocks) != 0 || !strings.Contains(string(r.body), `"blocks":[]`) {
		t.Errorf("fetch of nothing: %s", r.body)
	}
}

func TestFetchWithoutTranslationKeyNeedsAKey(t *testing.T) {
	s := serve(t, httpprovider.Options{Providers: []*translation.Provider{newProvider(t, dbPath(t), false)}})
	if msg := s.wantError(s.get("/v1/fetch?uri=/u"), http.StatusBadRequest); !strings.Contains(msg, "key") {
		t.Errorf("message %q does not name the key", msg)
	}
	if f := s.fetch("key=k&uri=/u"); len(f.Blocks) != 0 || f.Generation != 0 {
		t.Errorf("fetch on a new database: %+v", f)
	}
}

func TestKeysAndURIsAreSortedArrays(t *testing.T) {
	s := serveNew(t)
	if r := s.get("/v1/keys"); r.status != http.StatusOK || string(r.body) != `{"keys":[]}`+"\n" {
		t.Errorf("keys of an empty table: %d %s", r.status, r.body)
	}
	if r := s.get("/v1/uris"); r.status != http.StatusOK || string(r.body) != `{"pairs":[]}`+"\n" {
		t.Errorf("uris of an empty table: %d %s", r.status, r.body)
	}
	s.loadExample()
	var keys struct {
		Keys []string `json:"keys"`
	}
	r := s.get("/v1/keys")
	s.decode(r, http.StatusOK, &keys)
	if !slices.Equal(keys.Keys, []string{"back", "front"}) || r.generation(t) != 1 {
		t.Errorf("keys = %v (generation %d)", keys.Keys, r.generation(t))
	}
	var pairs struct {
		Pairs [][2]string `json:"pairs"`
	}
	s.decode(s.get("/v1/uris?key=back"), http.StatusOK, &pairs)
	// Sorted bytewise: "/" sorts before ":".
	if want := [][2]string{{"back", "/appl1"}, {"back", "/appl2"}, {"back", ":PRE:"}}; !reflect.DeepEqual(pairs.Pairs, want) {
		t.Errorf("uris of back = %v, want %v", pairs.Pairs, want)
	}
	s.decode(s.get("/v1/uris"), http.StatusOK, &pairs)
	if len(pairs.Pairs) != 8 || pairs.Pairs[0] != [2]string{"back", "/appl1"} || pairs.Pairs[7] != [2]string{"front", ":PRE:"} {
		t.Errorf("all uris = %v", pairs.Pairs)
	}
	s.decode(s.get("/v1/uris?key=none"), http.StatusOK, &pairs)
	if len(pairs.Pairs) != 0 {
		t.Errorf("uris of an unknown key = %v", pairs.Pairs)
	}
}

func TestDumpStreamsTheTableInEachFormat(t *testing.T) {
	s := serveNew(t)
	s.loadExample()
	s.txn(`{"ops":[{"op":"insert","key":"k","uri":"/n","block":0,"order":0,"action":"a\nb","note":"with note"}]}`)
	for _, tt := range []struct {
		query       string
		format      translation.Format
		contentType string
	}{
		{"", translation.FormatText, "text/plain; charset=utf-8"},
		{"?format=text", translation.FormatText, "text/plain; charset=utf-8"},
		{"?format=file", translation.FormatFile, "text/plain; charset=utf-8"},
		{"?format=jsonl", translation.FormatJSONL, "application/jsonl; charset=utf-8"},
		{"?format=JSONL", translation.FormatJSONL, "application/jsonl; charset=utf-8"},
	} {
		r := s.get("/v1/dump" + tt.query)
		if r.status != http.StatusOK || r.header.Get("Content-Type") != tt.contentType || r.generation(t) != 2 {
			t.Errorf("dump%s: %d %q generation %d", tt.query, r.status, r.header.Get("Content-Type"), r.generation(t))
		}
		var want strings.Builder
		if err := s.p.Dump(&want, tt.format); err != nil {
			t.Fatal(err)
		}
		if string(r.body) != want.String() {
			t.Errorf("dump%s differs from Provider.Dump:\n%s\nwant\n%s", tt.query, r.body, want.String())
		}
	}
	// The text dump loads back into an empty table as it was.
	other := serveNew(t)
	text := s.get("/v1/dump").body
	var res loadResult
	other.decode(other.post("/v1/load", string(text)), http.StatusOK, &res)
	if res.Records != 14 {
		t.Errorf("reload of the dump: %+v", res)
	}
	if diff, err := translation.Diff(s.p, other.p, translation.Filter{}); err != nil || len(diff) != 0 {
		t.Errorf("table after dump and load differs: %v %v", diff, err)
	}
	// jsonl lines are JSON objects.
	sc := bufio.NewScanner(strings.NewReader(string(s.get("/v1/dump?format=jsonl").body)))
	n := 0
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Errorf("jsonl line %q: %v", sc.Text(), err)
		}
		n++
	}
	if n != 14 {
		t.Errorf("%d jsonl lines, want 14", n)
	}
}

func TestDumpAsJSONLOfBytesThatAreNotUTF8IsAConflict(t *testing.T) {
	s := serveNew(t)
	table := "######################################################################\nk & /u 0/0\naction> \xff\xfe\n"
	s.decode(s.post("/v1/load?format=text", table), http.StatusOK, &loadResult{})
	s.wantError(s.get("/v1/dump?format=jsonl"), http.StatusConflict)
	if r := s.get("/v1/dump?format=text"); r.status != http.StatusOK || !strings.Contains(string(r.body), "\xff\xfe") {
		t.Errorf("text dump: %d %q", r.status, r.body)
	}
	// A fetch shows the bytes as U+FFFD, as encoding/json would.
	if f := s.fetch("key=k&uri=/u"); f.Blocks[0].Action != "\ufffd\ufffd" {
		t.Errorf("action %q, want two U+FFFD", f.Blocks[0].Action)
	}
}

func TestSnapshotIsTheDatabaseFileWithAnETag(t *testing.T) {
	s := serveNew(t)
	s.loadExample()
	r := s.get("/v1/snapshot")
	file, err := os.ReadFile(s.p.Path())
	if err != nil {
		t.Fatal(err)
	}
	if r.status != http.StatusOK || string(r.body) != string(file) {
		t.Fatalf("snapshot: status %d, %d bytes, want the %d bytes of the file", r.status, len(r.body), len(file))
	}
	if cl := r.header.Get("Content-Length"); cl != strconv.Itoa(len(file)) {
		t.Errorf("Content-Length %q, want %d", cl, len(file))
	}
	if ct := r.header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	tag := r.header.Get("ETag")
	if !strings.HasPrefix(tag, `"1-`) || len(tag) != len(`"1-12345678"`) || r.generation(t) != 1 {
		t.Errorf("ETag %q, generation %d; want \"1-<crc>\" and 1", tag, r.generation(t))
	}
	for _, inm := range []string{tag, "W/" + tag, `"0-00000000", ` + tag, "*"} {
		nm := s.do(http.MethodGet, "/v1/snapshot", nil, "If-None-Match", inm)
		if nm.status != http.StatusNotModified || len(nm.body) != 0 || nm.header.Get("ETag") != tag || nm.generation(t) != 1 {
			t.Errorf("If-None-Match %s: %d, %d bytes, ETag %q", inm, nm.status, len(nm.body), nm.header.Get("ETag"))
		}
	}
	head := s.do(http.MethodHead, "/v1/snapshot", nil)
	if head.status != http.StatusOK || head.header.Get("Content-Length") != strconv.Itoa(len(file)) || len(head.body) != 0 {
		t.Errorf("HEAD: %d, Content-Length %q", head.status, head.header.Get("Content-Length"))
	}

	// After a commit the old tag no longer matches.
	s.txn(`{"ops":[{"op":"clear"}]}`)
	r2 := s.do(http.MethodGet, "/v1/snapshot", nil, "If-None-Match", tag)
	if r2.status != http.StatusOK || r2.header.Get("ETag") == tag || !strings.HasPrefix(r2.header.Get("ETag"), `"2-`) {
		t.Errorf("after a commit: %d, ETag %q (old %q)", r2.status, r2.header.Get("ETag"), tag)
	}
	// The copy is a database in its own right, valid and complete.
	copyPath := dbPath(t)
	if err := os.WriteFile(copyPath, r2.body, 0o644); err != nil {
		t.Fatal(err)
	}
	cp := newProvider(t, copyPath, true, "trans", "db")
	if g, err := cp.Generation(); err != nil || g != 2 {
		t.Errorf("copy: generation %d, %v", g, err)
	}
	snap, err := cp.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	if snap.Superseded() {
		t.Error("the copy's valid flag is clear")
	}
}

func TestStatsCountLookupsAndCommits(t *testing.T) {
	s := serveNew(t)
	s.txn(`{"ops":[{"op":"insert","key":"k","uri":"/u","block":0,"order":0,"action":"a","note":"n"},
		{"op":"insert","key":"k","uri":"/v","block":0,"order":0,"action":"b"}]}`)
	s.fetch("key=k&uri=/u")
	s.fetch("key=k&uri=/v")
	s.get("/v1/resolve?key=k&uri=/u/x")
	r := s.get("/v1/stats")
	var st map[string]json.Number
	s.decode(r, http.StatusOK, &st)
	want := map[string]json.Number{
		"generation": "1", "records": "2", "reads": "3", "writes": "1",
		// Two actions, one of them with a note: the counters count
		// actions, stored_records the three records the file holds.
		"creates": "2", "stored_records": "3", "deletes": "0", "file_bytes": st["file_bytes"],
		"reloads": "1", // the switch to the version of the commit
	}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("stats = %v, want %v", st, want)
	}
	if fi, err := os.Stat(s.p.Path()); err != nil || st["file_bytes"] != json.Number(strconv.FormatInt(fi.Size(), 10)) {
		t.Errorf("file_bytes %s, file %v %v", st["file_bytes"], fi.Size(), err)
	}
	if r.generation(t) != 1 {
		t.Errorf("generation header %d", r.generation(t))
	}
}

func TestHealthzAndReadyz(t *testing.T) {
	s := serveNew(t)
	var health map[string]string
	r := s.get("/healthz")
	s.decode(r, http.StatusOK, &health)
	if health["status"] != "ok" || r.generation(t) != 0 {
		t.Errorf("/healthz: %s, generation %d", r.body, r.generation(t))
	}
	var ready readiness
	r = s.get("/readyz")
	s.decode(r, http.StatusOK, &ready)
	if ready.Status != "ready" || r.generation(t) != 0 || len(ready.Files) != 1 ||
		ready.Files[0].File != s.p.Path() || ready.Files[0].Generation != 0 {
		t.Errorf("/readyz: %s, generation %d", r.body, r.generation(t))
	}
}

func TestReadOnlyServerWithoutDatabaseIsNotReady(t *testing.T) {
	path := dbPath(t)
	ro := newProvider(t, path, true, "trans", "db")
	s := serve(t, httpprovider.Options{Providers: []*translation.Provider{ro}, AdminToken: token})
	if r := s.get("/healthz"); r.status != http.StatusOK {
		t.Errorf("healthz: %d", r.status)
	}
	for _, path := range []string{"/readyz", "/v1/fetch?key=k&uri=/u", "/v1/resolve?key=k&uri=/u", "/v1/keys",
		"/v1/uris", "/v1/dump", "/v1/snapshot", "/v1/stats"} {
		r := s.get(path)
		s.wantError(r, http.StatusServiceUnavailable)
		if g := r.generation(t); g != 0 {
			t.Errorf("%s: generation %d, want 0", path, g)
		}
	}
	s.wantError(s.post("/v1/txn", `{"ops":[{"op":"clear"}]}`), http.StatusForbidden)

	// The file appears: the server serves it, without Recheck.
	rw := newProvider(t, path, false, "trans", "db")
	if _, err := rw.Update(func(tx *translation.Txn) error {
		_, err := tx.Insert(translation.Record{Key: "k", URI: "/u", Action: "a"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	s.srv.Recheck()
	if r := s.get("/readyz"); r.status != http.StatusOK || r.generation(t) != 1 {
		t.Errorf("readyz after the file appeared: %d %s", r.status, r.body)
	}
	if f := s.fetch("key=k&uri=/u"); len(f.Blocks) != 1 || f.Generation != 1 {
		t.Errorf("fetch: %+v", f)
	}
}

func TestMetricsHaveRequestsLookupsCommitsAndGeneration(t *testing.T) {
	s := serveNew(t)
	s.loadExample()
	for range 3 {
		s.fetch("key=front&uri=/")
	}
	s.get("/v1/fetch?uri=")
	s.get("/nowhere")
	r := s.get("/metrics")
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics: %d %q", r.status, r.header.Get("Content-Type"))
	}
	body := string(r.body)
	file := strconv.Quote(s.p.Path())
	for _, want := range []string{
		`transdb_http_requests_total{code="200",endpoint="/v1/fetch"} 3`,
		`transdb_http_requests_total{code="400",endpoint="/v1/fetch"} 1`,
		`transdb_http_requests_total{code="404",endpoint="other"} 1`,
		`transdb_http_requests_total{code="200",endpoint="/v1/load"} 1`,
		`transdb_http_request_duration_seconds_bucket{code="200",endpoint="/v1/fetch",le="+Inf"} 3`,
		`transdb_http_request_duration_seconds_count{code="200",endpoint="/v1/fetch"} 3`,
		`transdb_lookups_total{basekey="[\"trans\",\"db\"]",file=` + file + `} 3`,
		`transdb_decision_cache_hits_total{basekey="[\"trans\",\"db\"]",file=` + file + `} 0`,
		`transdb_records{basekey="[\"trans\",\"db\"]",file=` + file + `} 13`,
		`transdb_generation{file=` + file + `} 1`,
		`transdb_commits_total{basekey="[\"trans\",\"db\"]",file=` + file + `} 1`,
		`transdb_actions_created_total{basekey="[\"trans\",\"db\"]",file=` + file + `} 13`,
		`transdb_actions_deleted_total{basekey="[\"trans\",\"db\"]",file=` + file + `} 0`,
		`transdb_stored_records{file=` + file + `} 13`,
		`transdb_reloads_total{file=` + file + `} 1`,
		`transdb_database_ready{file=` + file + `} 1`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// The third of four translations of one request is the first the
	// decision cache answers; a traced one is neither.
	for _, q := range []string{"", "", "", "", "&trace=1"} {
		if r := s.get("/v1/translate?uri=/static/img.png&host=www.xyz.de" + q); r.status != http.StatusOK {
			t.Fatalf("translate: %d %s", r.status, r.body)
		}
	}
	body = string(s.get("/metrics").body)
	for _, want := range []string{
		`transdb_decision_cache_hits_total{basekey="[\"trans\",\"db\"]",file=` + file + `} 2`,
		`transdb_decision_cache_misses_total{basekey="[\"trans\",\"db\"]",file=` + file + `} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestBasekeySelectsTheProvider(t *testing.T) {
	path := dbPath(t)
	s := serve(t, httpprovider.Options{
		Providers: []*translation.Provider{
			newProvider(t, path, false, "trans", "db"),
			newProvider(t, path, false, "other"),
			newProvider(t, path, false),
		},
		AdminToken: token,
	})
	s.txn(`{"ops":[{"op":"insert","key":"k","uri":"/u","block":0,"order":0,"action":"default"}]}`)
	s.txn(`{"basekey":["other"],"ops":[{"op":"insert","key":"k","uri":"/u","block":0,"order":0,"action":"other"}]}`)
	s.decode(s.post("/v1/txn?basekey=", `{"ops":[{"op":"insert","key":"k","uri":"/u","block":0,"order":0,"action":"top"}]}`), http.StatusOK, &txnResult{})
	s.decode(s.post("/v1/load?basekey=other&format=jsonl", `{"key":"k","uri":"/v","block":0,"order":0,"action":"loaded"}`), http.StatusOK, &loadResult{})
	for _, tt := range []struct{ query, action string }{
		{"key=k&uri=/u", "default"},
		{"key=k&uri=/u&basekey=trans&basekey=db", "default"},
		{"key=k&uri=/u&basekey=other", "other"},
		{"key=k&uri=/v&basekey=other", "loaded"},
		{"key=k&uri=/u&basekey=", "top"},
	} {
		if f := s.fetch(tt.query); len(f.Blocks) != 1 || f.Blocks[0].Action != tt.action || f.Generation != 4 {
			t.Errorf("%s: %+v, want one block %q at generation 4", tt.query, f, tt.action)
		}
	}
	for _, path := range []string{"/v1/fetch?key=k&uri=/u&basekey=db&basekey=trans", "/v1/keys?basekey=trans", "/v1/stats?basekey=nope"} {
		if msg := s.wantError(s.get(path), http.StatusNotFound); !strings.Contains(msg, "basekey") {
			t.Errorf("%s: %q", path, msg)
		}
	}
	s.wantError(s.post("/v1/txn", `{"basekey":["nope"],"ops":[{"op":"clear"}]}`), http.StatusNotFound)
	s.wantError(s.post("/v1/txn?basekey=other", `{"basekey":["trans","db"],"ops":[{"op":"clear"}]}`), http.StatusBadRequest)
	// basekey= and "basekey":[] both name the table without base key.
	s.decode(s.post("/v1/txn?basekey=", `{"basekey":[],"ops":[{"op":"insert","key":"k","uri":"/w","block":0,"order":0,"action":"top"}]}`), http.StatusOK, &txnResult{})
	var keys struct {
		Keys []string `json:"keys"`
	}
	s.decode(s.get("/v1/keys?basekey=other"), http.StatusOK, &keys)
	if !slices.Equal(keys.Keys, []string{"k"}) {
		t.Errorf("keys of other: %v", keys.Keys)
	}
}

func TestNewRejectsInvalidOptions(t *testing.T) {
	path := dbPath(t)
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	corrupt := filepath.Join(t.TempDir(), "corrupt.mmdb")
	for _, tt := range []struct {
		name string
		opts func() httpprovider.Options
	}{
		{"no providers", func() httpprovider.Options { return httpprovider.Options{} }},
		{"nil provider", func() httpprovider.Options {
			return httpprovider.Options{Providers: []*translation.Provider{nil}}
		}},
		{"negative MaxBodySize", func() httpprovider.Options {
			return httpprovider.Options{Providers: []*translation.Provider{newProvider(t, path, false)}, MaxBodySize: -1}
		}},
		{"missing AccessLog directory", func() httpprovider.Options {
			return httpprovider.Options{Providers: []*translation.Provider{newProvider(t, path, false)}, AccessLog: file + ".missing"}
		}},
		{"AccessLog that is a file", func() httpprovider.Options {
			return httpprovider.Options{Providers: []*translation.Provider{newProvider(t, path, false)}, AccessLog: file}
		}},
	} {
		if _, err := httpprovider.New(tt.opts()); err == nil {
			t.Errorf("%s: New succeeded", tt.name)
		}
	}

	// A file that turns out not to be a database: a writable provider
	// cannot start, a read-only one is served as not ready.
	rw, ro := newProvider(t, corrupt, false, "rw"), newProvider(t, corrupt, true, "ro")
	if err := os.WriteFile(corrupt, []byte("not a database"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := httpprovider.New(httpprovider.Options{Providers: []*translation.Provider{rw}}); err == nil {
		t.Error("New with a writable provider on a corrupt file succeeded")
	}
	s := serve(t, httpprovider.Options{Providers: []*translation.Provider{ro}})
	s.wantError(s.get("/readyz"), http.StatusServiceUnavailable)
}

// TestFetchBodyIsThatOfWriteFetch checks that the body written from the
// mapping is the one WriteFetch writes from the records.
func TestFetchBodyIsThatOfWriteFetch(t *testing.T) {
	s := serveNew(t)
	s.loadExample()
	s.txn(`{"ops":[{"op":"insert","key":"front","uri":"/","block":0,"order":1,"action":"<\"\\\u2028>","note":"a\nnote"}]}`)
	for _, tt := range []struct {
		uri   string
		notes bool
	}{{":PRE:", false}, {"/", true}, {"/", false}, {"/static", true}, {"/none", true}} {
		r := s.get("/v1/fetch?key=front&uri=" + tt.uri + "&notes=" + strconv.FormatBool(tt.notes))
		blocks, err := s.p.Fetch("front", tt.uri, tt.notes)
		if err != nil {
			t.Fatal(err)
		}
		var want strings.Builder
		if err := httpprovider.WriteFetch(&want, "front", tt.uri, r.generation(t), blocks); err != nil {
			t.Fatal(err)
		}
		if string(r.body) != want.String() {
			t.Errorf("fetch %s notes=%v:\n%s\nWriteFetch:\n%s", tt.uri, tt.notes, r.body, want.String())
		}
	}
}

// TestJSONKeepsPerlAndShellCodeAsItIs checks that no JSON the server
// writes escapes <, > or &: an action reads $r->connection, not
// $r-\u003econnection.
func TestJSONKeepsPerlAndShellCodeAsItIs(t *testing.T) {
	s := serveNew(t)
	const action, note = "$r->connection", "a & b <c>"
	s.txn(`{"ops":[{"op":"insert","key":"k<&>","uri":"/a&b<c>","block":0,"order":0,"action":"$r->connection","note":"a & b <c>"}]}`)
	key, uri := url.QueryEscape("k<&>"), url.QueryEscape("/a&b<c>")
	for _, tt := range []struct {
		path   string
		status int
		want   []string
	}{
		{"/v1/fetch?notes=1&key=" + key + "&uri=" + uri, 200, []string{action, note, "k<&>", "/a&b<c>"}},
		{"/v1/resolve?key=" + key + "&uri=" + uri, 200, []string{action, "/a&b<c>"}},
		{"/v1/keys", 200, []string{"k<&>"}},
		{"/v1/uris", 200, []string{`["k<&>","/a&b<c>"]`}},
		{"/v1/dump?format=jsonl", 200, []string{action, note}},
		{"/v1/fetch?key=a%20<b>&uri=/", 400, []string{"a <b>"}},
		{"/v1/<&>", 404, []string{"/v1/<&>"}},
	} {
		r := s.get(tt.path)
		if r.status != tt.status {
			t.Errorf("%s: %d %s, want %d", tt.path, r.status, r.body, tt.status)
			continue
		}
		for _, want := range tt.want {
			if !strings.Contains(string(r.body), want) {
				t.Errorf("%s: %s lacks %s", tt.path, r.body, want)
			}
		}
		if bytes.Contains(r.body, []byte(`\u00`)) {
			t.Errorf("%s: escaped characters in %s", tt.path, r.body)
		}
	}
}
