package httpprovider_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"transdb/httpprovider"
	"transdb/translation"
)

// TestMalformedAndHostileRequests sends requests that are wrong in every
// way a client can make them wrong. Each gets a JSON error with a 4xx
// status (or, for the strange but valid ones, a proper answer); after
// each the server is healthy and the database unchanged.
func TestMalformedAndHostileRequests(t *testing.T) {
	const maxBody = 4096
	s := serve(t, httpprovider.Options{
		Providers:   []*translation.Provider{newProvider(t, dbPath(t), false, "trans", "db")},
		AdminToken:  token,
		MaxBodySize: maxBody,
	})
	s.loadExample()
	before, gen := s.dump()

	auth := []string{"Authorization", "Bearer " + token}
	insert := func(fields string) string {
		return `{"ops":[{"op":"insert",` + fields + `}]}`
	}
	valid := `"key":"k","uri":"/u","block":0,"order":0,"action":"a"`
	huge := strings.Repeat("x", 2*maxBody)
	// unsized hides the length of a body, so that it is sent chunked
	// and only the reading finds it too large.
	unsized := func(s string) io.Reader { return io.MultiReader(strings.NewReader(s)) }

	tests := []struct {
		name   string
		method string
		path   string
		body   io.Reader
		header []string
		status int
		inMsg  string // part of the error message
	}{
		{"fetch without uri", "GET", "/v1/fetch?key=front", nil, nil, 400, "uri"},
		{"fetch without key and no default", "GET", "/v1/fetch?uri=/", nil, nil, 400, "key"},
		{"fetch with repeated key", "GET", "/v1/fetch?key=front&key=back&uri=/", nil, nil, 400, "key"},
		{"fetch with repeated uri", "GET", "/v1/fetch?key=front&uri=/&uri=/x", nil, nil, 400, "uri"},
		{"fetch with space in key", "GET", "/v1/fetch?key=fr%20ont&uri=/", nil, nil, 400, "white space"},
		{"fetch with tab in uri", "GET", "/v1/fetch?key=front&uri=/%09x", nil, nil, 400, "white space"},
		{"fetch with plus in uri", "GET", "/v1/fetch?key=front&uri=/a+b", nil, nil, 400, "white space"},
		{"fetch with non-breaking space", "GET", "/v1/fetch?key=front&uri=/a%C2%A0b", nil, nil, 400, "white space"},
		{"fetch with non-UTF-8 key", "GET", "/v1/fetch?key=%ff&uri=/", nil, nil, 400, "UTF-8"},
		{"fetch with non-UTF-8 uri", "GET", "/v1/fetch?key=front&uri=/%c3%28", nil, nil, 400, "UTF-8"},
		{"fetch with empty key", "GET", "/v1/fetch?key=&uri=/", nil, nil, 400, `parameter key "": is empty`},
		{"fetch with bad notes value", "GET", "/v1/fetch?key=front&uri=/&notes=yes", nil, nil, 400, "notes"},
		{"fetch with repeated notes", "GET", "/v1/fetch?key=front&uri=/&notes=1&notes=1", nil, nil, 400, "notes"},
		{"fetch with note for notes", "GET", "/v1/fetch?key=front&uri=/&note=1", nil, nil, 400, `"note"`},
		{"fetch with unknown parameters", "GET", "/v1/fetch?key=front&uri=/&color=red", nil, nil, 400, `"color"`},
		{"fetch with NUL in key", "GET", "/v1/fetch?key=fr%00ont&uri=/", nil, nil, 400, "NUL"},
		{"fetch with NUL in uri", "GET", "/v1/fetch?key=front&uri=/%00", nil, nil, 400, "NUL"},
		{"resolve with NUL in uri", "GET", "/v1/resolve?key=front&uri=/a%00b", nil, nil, 400, "NUL"},
		{"uris of a key with NUL", "GET", "/v1/uris?key=%00", nil, nil, 400, "NUL"},
		{"insert with NUL in key", "POST", "/v1/txn", strings.NewReader(insert(`"key":"a\u0000b","uri":"/u","block":0,"order":0,"action":"a"`)), auth, 400, "ops[0].key"},
		{"insert with NUL in uri", "POST", "/v1/txn", strings.NewReader(insert(`"key":"k","uri":"/\u0000","block":0,"order":0,"action":"a"`)), auth, 400, "ops[0].uri"},
		{"malformed escape in query", "GET", "/v1/fetch?key=%zz&uri=/", nil, nil, 400, "query"},
		{"semicolon in query", "GET", "/v1/fetch?key=front;uri=/", nil, nil, 400, "query"},
		{"resolve of a uri without slash", "GET", "/v1/resolve?key=front&uri=static", nil, nil, 400, "uri"},
		{"resolve of an empty uri", "GET", "/v1/resolve?key=front&uri=", nil, nil, 400, "uri"},
		{"unknown basekey", "GET", "/v1/fetch?key=front&uri=/&basekey=nope", nil, nil, 404, "basekey"},
		{"basekey levels in the wrong order", "GET", "/v1/keys?basekey=db&basekey=trans", nil, nil, 404, "basekey"},
		{"dump in an unknown format", "GET", "/v1/dump?format=xml", nil, nil, 400, "format"},
		{"dump with repeated format", "GET", "/v1/dump?format=text&format=jsonl", nil, nil, 400, "format"},
		{"uris of a key with white space", "GET", "/v1/uris?key=a%0Ab", nil, nil, 400, "white space"},
		{"unknown path", "GET", "/v1/nothing", nil, nil, 404, "/v1/nothing"},
		{"path with trailing slash", "GET", "/v1/fetch/", nil, nil, 404, "endpoint"},
		{"path with encoded newline", "GET", "/v1/fe%0Atch?key=front&uri=/", nil, nil, 404, "endpoint"},
		{"DELETE of fetch", "DELETE", "/v1/fetch?key=front&uri=/", nil, nil, 405, "GET"},
		{"POST to fetch", "POST", "/v1/fetch?key=front&uri=/", strings.NewReader("{}"), auth, 405, "GET"},
		{"GET of txn", "GET", "/v1/txn", nil, auth, 405, "POST"},
		{"PUT of load", "PUT", "/v1/load", strings.NewReader(before), auth, 405, "POST"},
		{"txn without token", "POST", "/v1/txn", strings.NewReader(`{"ops":[{"op":"clear"}]}`), nil, 401, "token"},
		{"txn with wrong token", "POST", "/v1/txn", strings.NewReader(`{"ops":[{"op":"clear"}]}`), []string{"Authorization", "Bearer nope"}, 401, "token"},
		{"load without token", "POST", "/v1/load?clear=1", strings.NewReader(""), nil, 401, "token"},
		{"txn with empty body", "POST", "/v1/txn", nil, auth, 400, "empty"},
		{"txn of invalid JSON", "POST", "/v1/txn", strings.NewReader(`{"ops":[}`), auth, 400, "JSON"},
		{"txn of truncated JSON", "POST", "/v1/txn", strings.NewReader(`{"ops":[{"op":"insert","key":"k"`), auth, 400, "truncated"},
		{"txn that is an array", "POST", "/v1/txn", strings.NewReader(`[{"op":"clear"}]`), auth, 400, "object"},
		{"txn with an unknown field", "POST", "/v1/txn", strings.NewReader(`{"ops":[{"op":"clear"}],"dry_run":true}`), auth, 400, "dry_run"},
		{"txn without ops", "POST", "/v1/txn", strings.NewReader(`{"basekey":["trans","db"]}`), auth, 400, "ops"},
		{"txn with no ops", "POST", "/v1/txn", strings.NewReader(`{"ops":[]}`), auth, 400, "ops"},
		{"txn with null ops", "POST", "/v1/txn", strings.NewReader(`{"ops":null}`), auth, 400, "ops"},
		{"txn with data after the object", "POST", "/v1/txn", strings.NewReader(`{"ops":[{"op":"clear"}]} {}`), auth, 400, "after"},
		{"txn with a basekey string", "POST", "/v1/txn", strings.NewReader(`{"basekey":"trans","ops":[{"op":"clear"}]}`), auth, 400, "basekey"},
		{"txn with an unknown op", "POST", "/v1/txn", strings.NewReader(`{"ops":[{"op":"clear"},{"op":"drop"}]}`), auth, 400, "ops[1].op"},
		{"txn op without op", "POST", "/v1/txn", strings.NewReader(`{"ops":[{` + valid + `}]}`), auth, 400, "ops[0].op"},
		{"txn of deeply nested arrays", "POST", "/v1/txn", strings.NewReader(`{"ops":` + strings.Repeat("[", 2000) + strings.Repeat("]", 2000) + `}`), auth, 400, "ops[0]"},
		{"HEAD of txn", "HEAD", "/v1/txn", nil, auth, 405, ""},
		{"txn op that is a string", "POST", "/v1/txn", strings.NewReader(`{"ops":["clear"]}`), auth, 400, "ops[0]"},
		{"insert without action", "POST", "/v1/txn", strings.NewReader(insert(`"key":"k","uri":"/u","block":0,"order":0`)), auth, 400, "ops[0].action"},
		{"insert with null action", "POST", "/v1/txn", strings.NewReader(insert(valid[:len(valid)-3] + `null`)), auth, 400, "ops[0].action"},
		{"insert with negative block", "POST", "/v1/txn", strings.NewReader(insert(`"key":"k","uri":"/u","block":-1,"order":0,"action":"a"`)), auth, 400, "ops[0].block"},
		{"insert with huge block", "POST", "/v1/txn", strings.NewReader(insert(`"key":"k","uri":"/u","block":4294967296,"order":0,"action":"a"`)), auth, 400, "ops[0].block"},
		{"insert with fractional order", "POST", "/v1/txn", strings.NewReader(insert(`"key":"k","uri":"/u","block":0,"order":1.5,"action":"a"`)), auth, 400, "ops[0].order"},
		{"insert with exponent order", "POST", "/v1/txn", strings.NewReader(insert(`"key":"k","uri":"/u","block":0,"order":1e3,"action":"a"`)), auth, 400, "ops[0].order"},
		{"insert with block as string", "POST", "/v1/txn", strings.NewReader(insert(`"key":"k","uri":"/u","block":"1","order":0,"action":"a"`)), auth, 400, "ops[0].block"},
		{"insert with key as number", "POST", "/v1/txn", strings.NewReader(insert(`"key":1,"uri":"/u","block":0,"order":0,"action":"a"`)), auth, 400, "ops[0].key"},
		{"insert with space in key", "POST", "/v1/txn", strings.NewReader(insert(`"key":"a b","uri":"/u","block":0,"order":0,"action":"a"`)), auth, 400, "ops[0].key"},
		{"insert with newline in uri", "POST", "/v1/txn", strings.NewReader(insert(`"key":"k","uri":"/u\n","block":0,"order":0,"action":"a"`)), auth, 400, "ops[0].uri"},
		{"insert with empty key", "POST", "/v1/txn", strings.NewReader(insert(`"key":"","uri":"/u","block":0,"order":0,"action":"a"`)), auth, 400, "ops[0].key"},
		{"insert with an unknown field", "POST", "/v1/txn", strings.NewReader(insert(valid + `,"color":"red"`)), auth, 400, "ops[0].color"},
		{"insert with a repeated field", "POST", "/v1/txn", strings.NewReader(insert(valid + `,"action":"b"`)), auth, 400, "repeated"},
		{"insert with a field in upper case", "POST", "/v1/txn", strings.NewReader(insert(`"Key":"k","uri":"/u","block":0,"order":0,"action":"a"`)), auth, 400, "Key"},
		{"insert with an id", "POST", "/v1/txn", strings.NewReader(insert(valid + `,"id":5`)), auth, 400, "ops[0].id"},
		{"insert with old", "POST", "/v1/txn", strings.NewReader(insert(valid + `,"old":{}`)), auth, 400, "ops[0].old"},
		{"update without new", "POST", "/v1/txn", strings.NewReader(`{"ops":[{"op":"update","old":{"key":"front","uri":"/","block":0,"order":0,"id":9}}]}`), auth, 400, "ops[0].new"},
		{"delete with id 0", "POST", "/v1/txn", strings.NewReader(`{"ops":[{"op":"delete","old":{"key":"front","uri":"/","block":0,"order":0,"id":0}}]}`), auth, 400, "ops[0].old.id"},
		{"delete with negative id", "POST", "/v1/txn", strings.NewReader(`{"ops":[{"op":"delete","old":{"key":"front","uri":"/","block":0,"order":0,"id":-9}}]}`), auth, 400, "ops[0].old.id"},
		{"delete without id", "POST", "/v1/txn", strings.NewReader(`{"ops":[{"op":"delete","old":{"key":"front","uri":"/","block":0,"order":0}}]}`), auth, 400, "ops[0].old.id"},
		{"update with an id in new", "POST", "/v1/txn", strings.NewReader(`{"ops":[{"op":"update","old":{"key":"front","uri":"/","block":0,"order":0,"id":9},"new":{` + valid + `,"id":9}}]}`), auth, 400, "ops[0].new.id"},
		{"clear with a key", "POST", "/v1/txn", strings.NewReader(`{"ops":[{"op":"clear","key":"front"}]}`), auth, 400, "ops[0].key"},
		{"txn body that is not UTF-8", "POST", "/v1/txn", strings.NewReader(insert(`"key":"k","uri":"/u","block":0,"order":0,"action":"` + "\xff" + `"`)), auth, 400, "UTF-8"},
		{"txn of an unknown basekey", "POST", "/v1/txn", strings.NewReader(`{"basekey":["x"],"ops":[{"op":"clear"}]}`), auth, 404, "basekey"},
		{"txn beyond MaxBodySize", "POST", "/v1/txn", strings.NewReader(insert(`"key":"k","uri":"/u","block":0,"order":0,"action":"` + huge + `"`)), auth, 413, "larger"},
		{"chunked txn beyond MaxBodySize", "POST", "/v1/txn", unsized(insert(`"key":"k","uri":"/u","block":0,"order":0,"action":"` + huge + `"`)), auth, 413, "larger"},
		{"chunked load beyond MaxBodySize", "POST", "/v1/load?format=jsonl&clear=1", unsized(strings.Repeat(`{"key":"k","uri":"/u","block":0,"order":0,"action":"a"}`+"\n", 100)), auth, 413, "larger"},
		{"GET with a body beyond MaxBodySize", "GET", "/v1/keys", strings.NewReader(huge), nil, 413, "larger"},
		{"load of a malformed table", "POST", "/v1/load?clear=1", strings.NewReader("######################################################################\nk & /u\n"), auth, 400, "line 2"},
		{"load of a table with white space in a key", "POST", "/v1/load?format=jsonl&clear=1", strings.NewReader(`{"key":"a b","uri":"/u","block":0,"order":0,"action":"a"}`), auth, 400, "line 1"},
		{"load of truncated jsonl", "POST", "/v1/load?format=jsonl&clear=1", strings.NewReader(`{"key":"k","uri":"/u","block":0,`), auth, 400, "line 1"},
		{"load in an unknown format", "POST", "/v1/load?format=csv&clear=1", strings.NewReader(""), auth, 400, "format"},
		{"load with a bad generation", "POST", "/v1/load?generation=abc&clear=1", strings.NewReader(""), auth, 400, "generation"},
		{"load with a negative generation", "POST", "/v1/load?generation=-1&clear=1", strings.NewReader(""), auth, 400, "generation"},
		{"load with a bad clear value", "POST", "/v1/load?clear=maybe", strings.NewReader(""), auth, 400, "clear"},
		{"load against an old generation", "POST", "/v1/load?generation=0&clear=1", strings.NewReader(""), auth, 409, "generation"},
		{"load with block out of range", "POST", "/v1/load?format=file&clear=1", strings.NewReader(">>> 1 k /u 4294967296 0\na\n"), auth, 400, "line 1"},
		// Strange but valid: answered, not refused.
		{"fetch of a long key", "GET", "/v1/fetch?key=" + strings.Repeat("k", 3000) + "&uri=/", nil, nil, 200, ""},
		{"fetch of a uri with JSON specials", "GET", `/v1/fetch?key=front&uri=/%22%5C%3C%3E%26%01%1F%C3%A9`, nil, nil, 200, ""},
		{"rotate", "POST", "/v1/rotate", nil, auth, 200, ""},
	}
	if len(tests) < 30 {
		t.Fatalf("only %d cases", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, s.url+tt.path, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i+1 < len(tt.header); i += 2 {
				req.Header.Add(tt.header[i], tt.header[i+1])
			}
			r := s.send(req)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			r.generation(t)
			if tt.method == "HEAD" {
				if len(r.body) != 0 || r.header.Get("Allow") == "" {
					t.Errorf("HEAD: body %q, Allow %q", r.body, r.header.Get("Allow"))
				}
			} else if tt.status >= 400 {
				if msg := s.wantError(r, tt.status); !strings.Contains(msg, tt.inMsg) {
					t.Errorf("error %q does not mention %q", msg, tt.inMsg)
				}
			} else if tt.method == "GET" {
				var f fetchResult
				s.decode(r, tt.status, &f)
				if f.Generation != gen || f.Blocks == nil {
					t.Errorf("answer %s", r.body)
				}
				// The uri comes back as it was sent, whatever it holds.
				if strings.Contains(tt.path, "%22") && f.URI != "/\"\\<>&\x01\x1f\u00e9" {
					t.Errorf("uri echoed as %q", f.URI)
				}
			}
			if h := s.get("/healthz"); h.status != http.StatusOK {
				t.Fatalf("healthz after the request: %d", h.status)
			}
			if after, g := s.dump(); after != before || g != gen {
				t.Fatalf("the request changed the database (generation %d -> %d)", gen, g)
			}
		})
	}
	if r := s.do("DELETE", "/v1/fetch", nil); r.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("405 Allow header %q", r.header.Get("Allow"))
	}
	if r := s.do("GET", "/v1/txn", nil); r.header.Get("Allow") != "POST" {
		t.Errorf("405 Allow header %q", r.header.Get("Allow"))
	}
	// The JSON escaping of the echoed uri is that of encoding/json
	// without its HTML escaping.
	r := s.get(`/v1/fetch?key=front&uri=/%22%5C%3C%3E%26%01%1F%C3%A9`)
	var want strings.Builder
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	if err := enc.Encode("/\"\\<>&\x01\x1f\u00e9"); err != nil {
		t.Fatal(err)
	}
	if w := strings.TrimSuffix(want.String(), "\n"); !strings.Contains(string(r.body), `"uri":`+w+`,`) {
		t.Errorf("escaped uri in %s, want %s", r.body, w)
	}
}

// TestUnknownParametersAreRefusedOnEveryEndpoint checks that a query
// parameter an endpoint does not take, such as note=1 for notes=1, is a
// 400 naming it instead of being ignored.
func TestUnknownParametersAreRefusedOnEveryEndpoint(t *testing.T) {
	s := serveNew(t)
	s.loadExample()
	for _, ep := range []struct {
		method, path, known string // known: a query the endpoint takes
	}{
		{"GET", "/v1/fetch", "key=front&uri=/&notes=1&basekey=trans&basekey=db"},
		{"GET", "/v1/resolve", "key=front&uri=/&basekey=trans&basekey=db"},
		{"GET", "/v1/keys", "basekey=trans&basekey=db"},
		{"GET", "/v1/uris", "key=front&basekey=trans&basekey=db"},
		{"GET", "/v1/dump", "format=jsonl&basekey=trans&basekey=db"},
		{"GET", "/v1/snapshot", "basekey=trans&basekey=db"},
		{"GET", "/v1/stats", "basekey=trans&basekey=db"},
		{"GET", "/healthz", ""},
		{"GET", "/readyz", ""},
		{"GET", "/metrics", ""},
		{"HEAD", "/v1/fetch", "key=front&uri=/"},
		{"POST", "/v1/txn", "basekey=trans&basekey=db"},
		{"POST", "/v1/load", "format=jsonl&clear=0&generation=1&basekey=trans&basekey=db"},
		{"POST", "/v1/rotate", ""},
	} {
		if ep.method == "GET" {
			if r := s.get(ep.path + "?" + ep.known); r.status != http.StatusOK {
				t.Errorf("GET %s?%s: %d %s", ep.path, ep.known, r.status, r.body)
			}
		}
		// A plain query, and one that url.ParseQuery parses (an escaped
		// name): both are checked.
		for _, bad := range []struct{ query, name string }{{"note=1", "note"}, {"b%61d=1", "bad"}, {"x", "x"}} {
			q := bad.query
			if ep.known != "" {
				q = ep.known + "&" + q
			}
			r := s.do(ep.method, ep.path+"?"+q, nil, "Authorization", "Bearer "+token)
			if ep.method == "HEAD" {
				if r.status != http.StatusBadRequest {
					t.Errorf("HEAD %s?%s: %d, want 400", ep.path, q, r.status)
				}
				continue
			}
			if msg := s.wantError(r, http.StatusBadRequest); !strings.Contains(msg, `"`+bad.name+`"`) {
				t.Errorf("%s %s?%s: %q does not name %s", ep.method, ep.path, q, msg, bad.name)
			}
		}
	}
	if after, g := s.dump(); g != 1 {
		t.Errorf("a refused request committed: generation %d\n%s", g, after)
	}
}
