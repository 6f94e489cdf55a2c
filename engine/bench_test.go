package engine_test

import (
	"context"
	"path/filepath"
	"testing"

	"transdb/engine"
	"transdb/internal/httpload"
	"transdb/translation"
	"transdb/translation/transgen"
)

// BenchmarkTranslate measures the decision for GET /static/img.png on
// host www.xyz.de with the example table of DESIGN section 10 inside a
// file of generated rows: the :PRE: list, three prefixes of the walk
// and the evaluation of their actions.
func BenchmarkTranslate(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"10k", 10_000}, {"1M", 1_000_000}} {
		b.Run(size.name, func(b *testing.B) {
			if size.n >= 1_000_000 && testing.Short() {
				b.Skip("1M records: skipped in -short mode")
			}
			p, err := translation.New(translation.Options{FileName: filepath.Join(b.TempDir(), "bench.mmdb")})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Stop()
			if err := httpload.InsertRows(p, transgen.Generate(size.n, 1)); err != nil {
				b.Fatal(err)
			}
			if _, err := p.Update(func(tx *translation.Txn) error {
				for _, r := range exampleTable {
					if _, err := tx.Insert(parseRow(b, r)); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			e := engine.New(p, engine.Options{TranslationKey: "front", DocumentRoot: "/var/www"})
			req := engine.Request{URI: "/static/img.png", Host: "www.xyz.de"}
			ctx := context.Background()
			d, err := e.Translate(ctx, req)
			if err != nil || d.File != "/var/www/de/img.png" {
				b.Fatalf("decision %+v, %v", d, err)
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
