package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"transdb/internal/httpload"
	"transdb/mmapdb"
	"transdb/perlmmapdb"
	"transdb/translation"
	"transdb/translation/transgen"
)

// perlWriter stands for Apache2::Translation::MMapDB writing its table:
// a table under the base key trans, db in a scratch database, written as
// a Perl MMapDB file and put in place as the Perl module commits.
type perlWriter struct {
	p    *translation.Provider // the scratch table
	path string                // the Perl file
}

// setMarker makes the switch marker of the scratch table name generation
// g: the generation the daemon's database reaches by importing the
// version of the Perl file that holds it.
func (w *perlWriter) setMarker(g uint64) error {
	_, err := w.p.Update(func(t *translation.Txn) error {
		old, err := w.p.Fetch(httpload.SwitchKey, httpload.SwitchURI, false)
		if err != nil {
			return err
		}
		for _, r := range old {
			if _, err := t.Delete(r); err != nil {
				return err
			}
		}
		_, err = t.Insert(translation.Record{Key: httpload.SwitchKey, URI: httpload.SwitchURI, Action: httpload.SwitchAction(g)})
		return err
	})
	return err
}

// commit writes the scratch table to the Perl file as the module's
// commit does: a new file beside it, renamed over it, and byte 4 of the
// old one zeroed, in that order.
func (w *perlWriter) commit() error {
	old, err := os.OpenFile(w.path, os.O_WRONLY, 0)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	if old != nil {
		defer old.Close()
	}
	db, err := mmapdb.Open(w.p.Path(), &mmapdb.Options{ReadOnly: true, CheckInterval: -1})
	if err != nil {
		return err
	}
	defer db.Close()
	tmp := fmt.Sprintf("%s.%d", w.path, os.Getpid())
	err = db.View(func(s *mmapdb.Snapshot) error {
		_, err := perlmmapdb.Export(s, tmp, perlmmapdb.ExportOptions{})
		return err
	})
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, w.path); err != nil {
		return err
	}
	if old != nil {
		if _, err := old.WriteAt([]byte{0}, 4); err != nil {
			return err
		}
	}
	return nil
}

// TestImportFromFollowsThePerlFileUnderLoad serves, with ImportFrom, a
// table that a stand-in for the Perl module replaces 20 times, the way
// the module commits, while 8 connections fetch without pause. Every
// answer must be a 200 made from exactly one imported version: the
// generated table's block lists, and the switch marker naming the
// generation of the answer, which each import raises by one.
func TestImportFromFollowsThePerlFileUnderLoad(t *testing.T) {
	const replacements, conns, probes = 20, 8, 512
	dir := t.TempDir()
	rows := transgen.Generate(5000, 1)
	scratch, err := translation.New(translation.Options{FileName: filepath.Join(dir, "scratch.mmdb"), BaseKey: []string{"trans", "db"}})
	if err != nil {
		t.Fatal(err)
	}
	defer scratch.Stop()
	if err := httpload.InsertRows(scratch, rows); err != nil {
		t.Fatal(err)
	}
	w := &perlWriter{p: scratch, path: filepath.Join(dir, "perl.mmdb")}
	const first = 1 // the generation of the first import into a new file
	if err := w.setMarker(first); err != nil {
		t.Fatal(err)
	}
	if err := w.commit(); err != nil {
		t.Fatal(err)
	}

	mirror := filepath.Join(dir, "mirror.mmdb")
	cfg := writeFile(t, dir, "transdbd.conf", fmt.Sprintf(`Listen 127.0.0.1:0
TranslationKey front
CheckInterval 50ms
<TranslationProvider MMapDB>
    FileName   %s
    ImportFrom %s
    BaseKey    [qw/trans db/]
</TranslationProvider>
`, mirror, w.path))
	d := startDaemon(t, nil, "serve", "-config", cfg)
	eventually(t, "the first import", func() (bool, string) {
		code, body := d.get(t, "/readyz")
		return code == 200, body
	})

	addr := d.base[len("http://"):]
	c, err := httpload.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	targets, check := checkedTargets(t, c, rows, probes, first)

	load := startLoad(addr, conns, targets, check)
	last := uint64(first)
	for range replacements {
		g := last + 1
		if err := w.setMarker(g); err != nil {
			t.Fatal(err)
		}
		if err := w.commit(); err != nil {
			t.Fatal(err)
		}
		waitServes(t, c, g, "the Perl commit")
		last = g
	}
	total := load.finish(t, "the load")
	lo, hi, n := total.GenerationRange()
	if lo < first || hi != last || n < 2 {
		t.Errorf("the load saw %d generations, %d..%d; the imports made %d..%d", n, lo, hi, first, last)
	}
	t.Logf("%d answers during %d Perl commits, %d generations seen, %.0f req/s", total.Requests, replacements, n, total.Rate())
}
