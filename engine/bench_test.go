package engine_test

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"

	"transdb/engine"
	"transdb/internal/httpload"
	"transdb/translation"
	"transdb/translation/transgen"
)

// benchSizes are the table sizes of the benchmarks; 1M is skipped in
// -short mode.
var benchSizes = []struct {
	name string
	n    int
}{{"10k", 10_000}, {"100k", 100_000}, {"1M", 1_000_000}}

// benchEngine returns an engine on a file of n generated rows and the
// example table of DESIGN section 10, with the generated rows too. Its
// decision cache is off unless cached: the benchmarks measure
// translations, and what the cache saves beside them.
func benchEngine(b *testing.B, n int, cached bool) (*engine.Engine, []transgen.Row) {
	if n >= 1_000_000 && testing.Short() {
		b.Skip("1M records: skipped in -short mode")
	}
	p, err := translation.New(translation.Options{FileName: filepath.Join(b.TempDir(), "bench.mmdb")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Stop() })
	rows := transgen.Generate(n, 1)
	if err := httpload.InsertRows(p, rows); err != nil {
		b.Fatal(err)
	}
	insertRows(b, p, exampleTable...)
	opts := engine.Options{TranslationKey: "front", DocumentRoot: "/var/www", DecisionCacheBytes: -1}
	if cached {
		opts.DecisionCacheBytes = 0
	}
	return engine.New(p, opts), rows
}

// BenchmarkTranslate measures the decision for GET /static/img.png on
// host www.xyz.de with the example table of DESIGN section 10 inside a
// file of generated rows: the :PRE: list, three prefixes of the walk
// and the evaluation of their actions. The "cached" runs take it from
// the decision cache instead.
func BenchmarkTranslate(b *testing.B) {
	for _, size := range benchSizes {
		for _, cached := range []bool{false, true} {
			name := size.name
			if cached {
				name += "/cached"
			}
			b.Run(name, func(b *testing.B) {
				e, _ := benchEngine(b, size.n, cached)
				req := engine.Request{URI: "/static/img.png", Host: "www.xyz.de"}
				ctx := context.Background()
				for range 2 {
					d, err := e.Translate(ctx, req)
					if err != nil || d.File != "/var/www/de/img.png" {
						b.Fatalf("decision %+v, %v", d, err)
					}
				}
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if _, err := e.Translate(ctx, req); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkTranslateMix measures the requests of the /v1/translate load
// of bench/cmd/httpbench, in process: a file below each of 65,536 random
// existing (key, uri) pairs of the generated rows, on the host www.KEY
// and with the key KEY, and the example request every 16th. Every
// request is made twice before the timer starts, as in a daemon that has
// served a while; live-objects is the number of heap objects live then
// (the compiled actions and the requests, mostly), which the garbage
// collector marks in every cycle. The "cached" runs take the decisions
// from the decision cache.
func BenchmarkTranslateMix(b *testing.B) {
	for _, size := range benchSizes {
		for _, cached := range []bool{false, true} {
			name := size.name
			if cached {
				name += "/cached"
			}
			b.Run(name, func(b *testing.B) { benchMix(b, size.n, cached) })
		}
	}
}

func benchMix(b *testing.B, n int, cached bool) {
	e, rows := benchEngine(b, n, cached)
	hits, _ := transgen.Probes(rows, 65536, 1)
	var reqs []engine.Request
	for i, pr := range hits {
		if i%16 == 15 {
			reqs = append(reqs, engine.Request{URI: "/static/img.png", Host: "www.xyz.de", Key: "front"})
		}
		uri := pr[1] + "/index.html"
		if pr[1] == translation.PreURI || pr[1] == "/" {
			uri = "/index.html"
		}
		reqs = append(reqs, engine.Request{URI: uri, Host: "www." + pr[0], Key: pr[0]})
	}
	ctx := context.Background()
	for range 2 {
		for _, req := range reqs {
			if _, err := e.Translate(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	live := ms.HeapObjects
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, err := e.Translate(ctx, reqs[i]); err != nil {
			b.Fatal(err)
		}
		if i++; i == len(reqs) {
			i = 0
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(live), "live-objects")
}
