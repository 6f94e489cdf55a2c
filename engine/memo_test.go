package engine_test

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"transdb/engine"
	"transdb/translation"
)

// cachedAndNot returns two engines on the table of p: one with the
// decision cache, one without.
func cachedAndNot(p *translation.Provider, opts engine.Options) (cached, plain *engine.Engine) {
	off := opts
	off.DecisionCacheBytes = -1
	return engine.New(p, opts), engine.New(p, off)
}

// sameDecision translates req with both engines, the cached one through
// DecideIn as a server does, and fails when their decisions differ; it
// returns the other engine's.
func sameDecision(t testing.TB, cached, plain *engine.Engine, req engine.Request) *engine.Decision {
	t.Helper()
	want := translate(t, plain, req)
	err := cached.Provider().View(func(s *translation.Snapshot) error {
		return cached.DecideIn(context.Background(), s, req, func(got *engine.Decision) error {
			if !sameDecisions(got, want) {
				return fmt.Errorf("cached     %s\nnot cached %s", got.AppendJSON(nil), want.AppendJSON(nil))
			}
			return nil
		})
	})
	if err != nil {
		t.Fatalf("request %+v:\n%v", req, err)
	}
	return want
}

// memoVariants are requests for one uri that differ in every property
// a table can read.
var memoVariants = []engine.Request{
	{URI: "/a/b", Host: "www.xyz.de", ClientIP: "127.0.0.1"},
	{URI: "/a/b", Host: "www.xyz.com", ClientIP: "127.0.0.1"},
	{URI: "/a/b", Host: "www.xyz.de:8080", ClientIP: "127.0.0.1"},
	{URI: "/a/b", Header: []engine.Header{{Name: "host", Value: "www.xyz.de"}}, ClientIP: "127.0.0.1"},
	{URI: "/a/b", Host: "www.xyz.de", ClientIP: "192.0.2.7"},
	{URI: "/a/b", Host: "www.xyz.de", ClientIP: "127.0.0.1", Method: "POST"},
	{URI: "/a/b", Host: "www.xyz.de", ClientIP: "127.0.0.1", Args: "q=1"},
	{URI: "/a/b", Host: "www.xyz.de", ClientIP: "127.0.0.1", Scheme: "https"},
	{URI: "/a/b", Host: "www.xyz.de", ClientIP: "127.0.0.1", Port: 8443},
	{URI: "/a/b", Host: "www.xyz.de", ClientIP: "127.0.0.1", Scheme: "https", Port: 443},
	{URI: "/a/b", Host: "www.xyz.de", ClientIP: "127.0.0.1", Scheme: "https", Port: 80},
	{URI: "/a/b", Host: "www.xyz.de", ClientIP: "127.0.0.1", Header: []engine.Header{{Name: "Cookie", Value: "s=1"}}},
	{URI: "/a/b", Host: "www.xyz.de", ClientIP: "127.0.0.1", Header: []engine.Header{{Name: "cookie", Value: "s=2"}}},
	{URI: "/a/b", Host: "www.xyz.de", ClientIP: "127.0.0.1", Header: []engine.Header{{Name: "Cookie", Value: ""}}},
	{URI: "/a/b", Host: "www.xyz.de", ClientIP: "127.0.0.1", Header: []engine.Header{{Name: "X-Other", Value: "1"}}},
	{URI: "/a/b", Host: "www.xyz.de", ClientIP: "127.0.0.1", Key: "other"},
	{URI: "/a//b", Host: "www.xyz.de", ClientIP: "127.0.0.1"},
}

// memoReaders are actions that each read one property of the request,
// or build something from it.
var memoReaders = []string{
	`Do: $CTX{v}=$HOSTNAME`,
	`Do: $CTX{v}=$r->get_server_name`,
	`Cond: $HOSTNAME =~ /de$/`,
	`Do: $CTX{v}=$CLIENTIP`,
	`Cond: $r->connection->remote_ip ne '127.0.0.1'`,
	`Do: $CTX{v}=$METHOD`,
	`Do: $CTX{v}=$r->method`,
	`Do: $CTX{v}=$QUERY_STRING`,
	`Do: $CTX{v}=$r->args`,
	`Do: $CTX{v}=$REAL_URI`,
	`Do: $CTX{v}=$r->unparsed_uri`,
	`Do: $CTX{v}=$REQUEST`,
	`Do: $CTX{v}=$r->the_request`,
	`Do: $CTX{v}=$r->get_server_port`,
	`Do: $CTX{v}=$HEADERS->{Cookie}`,
	`Cond: defined $HEADERS->{cookie}`,
	`Do: $CTX{v}=$r->headers_in->{Host}`,
	`Do: $CTX{v}=$r->headers_in->get('COOKIE')`,
	`Redirect: 'x', 302`,
	`Redirect: '/x', 301`,
	`Do: $CTX{v}=$URI.$MATCHED_URI`,
	`Do: $CTX{v}=$KEY`,
	`Do: $CTX{v}=$r->hostname`,
}

// TestDecisionCacheAnswersAsTranslation translates every pair of
// requests that differ in one property, with tables that read each
// property, with and without the decision cache: the cached decision is
// the one the translation makes, whatever the table read.
func TestDecisionCacheAnswersAsTranslation(t *testing.T) {
	for _, action := range memoReaders {
		t.Run(action, func(t *testing.T) {
			rows := []tableRow{tableRow("front | :PRE: | 0 | 0 | " + action),
				`front | :PRE: | 0 | 1 | Do: $CTX{ran}=1`,
				`front | /a | 0 | 0 | Proxy: 'http://b/'.$CTX{v}`,
				tableRow("other | :PRE: | 0 | 0 | " + action)}
			cached, plain := cachedAndNot(newTable(t, rows...), engine.Options{TranslationKey: "front"})
			if findings, err := plain.Check(); err != nil || len(findings) != 0 {
				t.Fatalf("check: %v %+v", err, findings)
			}
			for _, first := range memoVariants {
				for range 3 { // the third is kept
					sameDecision(t, cached, plain, first)
				}
				for _, then := range memoVariants {
					sameDecision(t, cached, plain, then)
				}
			}
			if hits, _ := cached.DecisionCacheStats(); hits == 0 {
				t.Errorf("no decision came from the cache")
			}
		})
	}
}

// TestDecisionCacheKeepsRepeatedRequests checks what is kept and when:
// a request's decision at its second translation, answered from the
// third on; requests that differ in what the table did not read share
// it; traced ones are neither answered nor kept.
func TestDecisionCacheKeepsRepeatedRequests(t *testing.T) {
	e := exampleEngine(t)
	req := engine.Request{URI: "/static/img.png", Host: "www.xyz.de", ClientIP: "192.0.2.1",
		Header: []engine.Header{{Name: "Cookie", Value: "a=1"}}}
	stats := func(wantHits, wantMisses uint64) {
		t.Helper()
		if hits, misses := e.DecisionCacheStats(); hits != wantHits || misses != wantMisses {
			t.Fatalf("hits %d, misses %d; want %d, %d", hits, misses, wantHits, wantMisses)
		}
	}
	first := translate(t, e, req)
	translate(t, e, req)
	stats(0, 2)
	for i := range 3 {
		d := translate(t, e, req)
		if !reflect.DeepEqual(d, first) {
			t.Fatalf("cached %+v, want %+v", d, first)
		}
		stats(uint64(i+1), 2)
	}
	// The example table reads the host, not the cookie nor the client.
	other := req
	other.ClientIP, other.Header = "198.51.100.9", []engine.Header{{Name: "Cookie", Value: "b=2"}}
	translate(t, e, other)
	stats(4, 2)
	de := req
	de.Host = "www.xyz.com"
	if d := translate(t, e, de); d.File != "/var/www/en/img.png" {
		t.Fatalf("file %q for www.xyz.com", d.File)
	}
	stats(4, 3)
	traced := req
	traced.Trace = true
	for range 3 {
		if d := translate(t, e, traced); len(d.Trace) == 0 {
			t.Fatal("a traced request got no trace")
		}
	}
	stats(4, 3)
}

// TestDecisionCacheKeepsTheNewestVariants keeps the decisions of twelve
// cookie values for one uri: the eight newest are answered, the older
// ones gave way, and every answer is the translation's.
func TestDecisionCacheKeepsTheNewestVariants(t *testing.T) {
	cached, plain := cachedAndNot(newTable(t,
		`front | /a | 0 | 0 | Proxy: 'http://b/'.$HEADERS->{Cookie}`,
	), engine.Options{TranslationKey: "front"})
	req := func(i int) engine.Request {
		return engine.Request{URI: "/a", Header: []engine.Header{{Name: "Cookie", Value: "s=" + strconv.Itoa(i)}}}
	}
	for i := range 12 {
		for range 3 { // missed, kept at the second, answered at the third
			sameDecision(t, cached, plain, req(i))
		}
	}
	count := func(what string, from, to int, wantHits, wantMisses uint64) {
		t.Helper()
		h0, m0 := cached.DecisionCacheStats()
		for i := from; i < to; i++ {
			sameDecision(t, cached, plain, req(i))
		}
		h, m := cached.DecisionCacheStats()
		if h-h0 != wantHits || m-m0 != wantMisses {
			t.Errorf("%s: %d hits, %d misses; want %d and %d", what, h-h0, m-m0, wantHits, wantMisses)
		}
	}
	count("the eight newest", 4, 12, 8, 0)
	count("the four oldest", 0, 4, 0, 4)
}

// TestDecisionCacheKeepsWhatRepeats: a decision is kept when the values
// its translation read repeat, not when only its uri does.
func TestDecisionCacheKeepsWhatRepeats(t *testing.T) {
	e := engine.New(newTable(t, `default | / | 0 | 0 | Proxy: 'http://b/'.$CLIENTIP`), engine.Options{})
	for i := range 20 {
		req := get("/x")
		req.ClientIP = fmt.Sprintf("192.0.2.%d", i)
		if d := translate(t, e, req); d.Proxy != "http://b/"+req.ClientIP {
			t.Fatalf("proxy %q for %s", d.Proxy, req.ClientIP)
		}
	}
	if hits, misses := e.DecisionCacheStats(); hits != 0 || misses != 20 {
		t.Fatalf("hits %d, misses %d after 20 clients once", hits, misses)
	}
	req := get("/x")
	req.ClientIP = "192.0.2.7"
	for range 3 {
		translate(t, e, req)
	}
	if hits, misses := e.DecisionCacheStats(); hits != 2 || misses != 21 {
		t.Fatalf("hits %d, misses %d, want 2 and 21: a client seen before is kept at its next miss", hits, misses)
	}
}

// TestDecisionCacheStartsOverPastItsBound keeps decisions in a cache
// with room for two or three: every decision is still the translation's,
// and requests repeated at once are still answered from it.
func TestDecisionCacheStartsOverPastItsBound(t *testing.T) {
	cached, plain := cachedAndNot(newTable(t, exampleTable...),
		engine.Options{TranslationKey: "front", DocumentRoot: "/var/www", DecisionCacheBytes: 4000})
	for round := range 3 {
		for i := range 30 {
			req := engine.Request{URI: fmt.Sprintf("/static/%d.png", i), Host: "www.xyz.de"}
			if i%3 == 0 {
				req.Host = "www.xyz.com"
			}
			for range 3 {
				if d := sameDecision(t, cached, plain, req); round == 0 && d.File == "" {
					t.Fatalf("no file for %+v", req)
				}
			}
		}
	}
	if hits, misses := cached.DecisionCacheStats(); hits < 90 || misses < 90 {
		t.Fatalf("hits %d, misses %d: want requests repeated at once answered, and the others made again", hits, misses)
	}
}

// TestDecisionCacheKeepsNoLargeDecision: a decision of 20 KB is kept;
// one of a megabyte is not, and is not copied in vain either, at each
// miss.
func TestDecisionCacheKeepsNoLargeDecision(t *testing.T) {
	cached, plain := cachedAndNot(newTable(t, `default | /s | 0 | 0 | Do: $CTX{big}='x' x 20000`,
		`default | /b | 0 | 0 | Do: $CTX{big}='x' x 1000000`, `default | / | 0 | 1 | Proxy: 'http://b/'`), engine.Options{})
	for range 4 {
		sameDecision(t, cached, plain, get("/s"))
	}
	if hits, _ := cached.DecisionCacheStats(); hits != 2 {
		t.Fatalf("%d hits for a decision of 20 KB, want 2", hits)
	}
	alloc := func(e *engine.Engine) uint64 {
		for range 3 {
			translate(t, e, get("/b"))
		}
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		for range 10 {
			translate(t, e, get("/b"))
		}
		runtime.ReadMemStats(&m1)
		return (m1.TotalAlloc - m0.TotalAlloc) / 10
	}
	off, on := alloc(plain), alloc(cached)
	if hits, _ := cached.DecisionCacheStats(); hits != 2 {
		t.Fatalf("%d hits: a decision of a megabyte was kept", hits)
	}
	if on > off*3/2 {
		t.Errorf("a translation allocates %d bytes with the cache, %d without: the large decision was copied", on, off)
	}
}

// TestDecisionCacheKeepsNoManyHeaderReads: a translation that read 16
// headers is kept, one that read 17 is not (nor are their names
// searched any longer as they are read).
func TestDecisionCacheKeepsNoManyHeaderReads(t *testing.T) {
	for _, n := range []int{16, 17} {
		var do strings.Builder
		for i := range n {
			fmt.Fprintf(&do, "$HEADERS->{'X-%d'};", i)
		}
		cached, plain := cachedAndNot(newTable(t, tableRow("default | / | 0 | 0 | Do: "+do.String()+"$CTX{a}=$HEADERS->{'x-3'}")), engine.Options{})
		req := get("/")
		req.Header = []engine.Header{{Name: "X-3", Value: "three"}, {Name: "X-16", Value: "sixteen"}}
		for range 4 {
			if d := sameDecision(t, cached, plain, req); len(d.CTX) != 1 || d.CTX[0].Value != "three" {
				t.Fatalf("%%CTX %+v", d.CTX)
			}
		}
		hits, _ := cached.DecisionCacheStats()
		if want := map[int]uint64{16: 2, 17: 0}[n]; hits != want {
			t.Errorf("%d header names read: %d hits, want %d", n, hits, want)
		}
	}
}

// TestDecisionCacheFollowsVersions commits a change between translations
// of one request: the decision is the new version's at once.
func TestDecisionCacheFollowsVersions(t *testing.T) {
	p := newTable(t, `default | / | 0 | 0 | Proxy: 'http://one/'`)
	cached, plain := cachedAndNot(p, engine.Options{})
	req := get("/x")
	for i := range 5 {
		for range 3 {
			d := sameDecision(t, cached, plain, req)
			if want := fmt.Sprintf("http://one/%s", strings.Repeat("x", i)); d.Proxy != want {
				t.Fatalf("proxy %q, want %q", d.Proxy, want)
			}
		}
		if _, err := p.Update(func(tx *translation.Txn) error {
			if _, err := tx.Clear(); err != nil {
				return err
			}
			_, err := tx.Insert(translation.Record{Key: "default", URI: "/", Action: fmt.Sprintf("Proxy: 'http://one/%s'", strings.Repeat("x", i+1))})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDecisionCacheKeepsLimitsButWork: a translation that a loop of the
// table ended is kept like any other; one that MaxWork ended is made
// again, and a request whose headers would take a kept translation past
// MaxWork gets the 500 its translation gives.
func TestDecisionCacheKeepsLimitsButWork(t *testing.T) {
	cached, plain := cachedAndNot(newTable(t, `default | :PRE: | 0 | 0 | Key: 'k'`, `k | :PRE: | 0 | 0 | Key: 'default'`), engine.Options{})
	for range 4 {
		if d := sameDecision(t, cached, plain, get("/")); d.Status != 500 {
			t.Fatalf("status %d, want 500 for a key ping-pong", d.Status)
		}
	}
	if hits, _ := cached.DecisionCacheStats(); hits != 2 {
		t.Fatalf("%d hits, want 2: the third and fourth key ping-pong", hits)
	}

	// Each row reads a header 64 times: 1,000 rows read it 64,000
	// times, which counts 8 bytes of work per header of the request
	// each, beside the 64 a byte of the rows' 57 MB in all: 200 headers
	// pass MaxWork (64 MiB), one does not.
	reads := "Do: " + strings.Repeat("$HEADERS->{A};", 64)
	rows := make([]tableRow, 1000)
	for i := range rows {
		rows[i] = tableRow(fmt.Sprintf("default | :PRE: | %d | 0 | %s", i, reads))
	}
	rows = append(rows, `default | / | 0 | 0 | Proxy: 'http://b/'`)
	cached, plain = cachedAndNot(newTable(t, rows...), engine.Options{})
	few := get("/")
	for range 3 {
		if d := sameDecision(t, cached, plain, few); d.Status != 0 || d.Proxy != "http://b/" {
			t.Fatalf("status %d, proxy %q with one header: %s", d.Status, d.Proxy, d.Message)
		}
	}
	many := few
	for i := range 200 {
		many.Header = append(many.Header, engine.Header{Name: fmt.Sprintf("X-%d", i), Value: "v"})
	}
	for range 3 {
		if d := sameDecision(t, cached, plain, many); d.Status != 500 {
			t.Fatalf("status %d with 200 headers, want 500", d.Status)
		}
	}
	if hits, _ := cached.DecisionCacheStats(); hits != 1 {
		t.Fatalf("%d hits, want 1: the third request with one header", hits)
	}
}

// TestDecisionCacheSharesNothingWithCallers changes a decision
// Translate returned: the next one is as it was.
func TestDecisionCacheSharesNothingWithCallers(t *testing.T) {
	e := exampleEngine(t)
	req := engine.Request{URI: "/static/img.png", Host: "www.xyz.de"}
	var want *engine.Decision
	for i := range 6 {
		d := translate(t, e, req)
		if want == nil {
			want = translate(t, engine.New(e.Provider(), engine.Options{TranslationKey: "front",
				DocumentRoot: "/var/www", DecisionCacheBytes: -1}), req)
		}
		if !reflect.DeepEqual(d, want) {
			t.Fatalf("translation %d: %+v, want %+v", i, d, want)
		}
		d.Config[0][1], d.CTX[0].Value, d.File = "changed", "changed", "changed"
	}
	if hits, _ := e.DecisionCacheStats(); hits == 0 {
		t.Fatal("no hits")
	}
}

// TestDecisionCacheUnderConcurrentCommits translates from several goroutines, on
// snapshots held across commits, with a tiny cache that starts over
// often: every decision is the uncached engine's on the same snapshot.
func TestDecisionCacheUnderConcurrentCommits(t *testing.T) {
	p := newTable(t, exampleTable...)
	cached, plain := cachedAndNot(p, engine.Options{TranslationKey: "front", DocumentRoot: "/var/www", DecisionCacheBytes: 6000})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for i := range 20 {
			insertRows(t, p, tableRow(fmt.Sprintf("front | /v%d | 0 | 0 | Proxy: 'http://v%d/'.$HOSTNAME", i, i)))
		}
		close(stop)
	})
	for w := range 4 {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				req := engine.Request{URI: fmt.Sprintf("/v%d/x", (n+w)%20), Host: []string{"www.xyz.de", "www.xyz.com", "a.org"}[n%3]}
				err := p.View(func(s *translation.Snapshot) error {
					want, err := plain.TranslateIn(context.Background(), s, req)
					if err != nil {
						return err
					}
					for range 3 {
						err := cached.DecideIn(context.Background(), s, req, func(got *engine.Decision) error {
							if !sameDecisions(got, want) {
								return fmt.Errorf("cached %s\nplain %s", got.AppendJSON(nil), want.AppendJSON(nil))
							}
							return nil
						})
						if err != nil {
							return err
						}
						got, err := cached.TranslateIn(context.Background(), s, req)
						if err != nil {
							return err
						}
						if !sameDecisions(got, want) {
							return fmt.Errorf("TranslateIn: cached %s\nplain %s", got.AppendJSON(nil), want.AppendJSON(nil))
						}
					}
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
