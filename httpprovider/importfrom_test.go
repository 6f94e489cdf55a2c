package httpprovider_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"transdb/httpprovider"
	"transdb/mmapdb"
	"transdb/perlmmapdb"
	"transdb/translation"
)

// writePerlFile writes a Perl MMapDB file at path holding one action of
// key front, uri /, in the layout of Apache2::Translation::MMapDB.
func writePerlFile(t *testing.T, path, action string) {
	t.Helper()
	db, err := mmapdb.Open(filepath.Join(t.TempDir(), "scratch.mmdb"), &mmapdb.Options{CheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *mmapdb.Txn) error {
		return tx.InsertID(41, []string{"trans", "db", "actn", "front", "/"}, make([]byte, 8), []byte(action))
	})
	if err != nil {
		t.Fatal(err)
	}
	tmp := path + ".tmp"
	err = db.View(func(s *mmapdb.Snapshot) error {
		_, err := perlmmapdb.Export(s, tmp, perlmmapdb.ExportOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestImportFromServesThePerlFileOnceImported(t *testing.T) {
	dir := t.TempDir()
	perl, mirror := filepath.Join(dir, "perl.mmdb"), filepath.Join(dir, "mirror.mmdb")
	s := serve(t, httpprovider.Options{
		Providers:      []*translation.Provider{newProvider(t, mirror, true, "trans", "db")},
		TranslationKey: "front",
		ImportFrom:     map[string]httpprovider.Import{mirror: {From: perl}},
		ImportInterval: 10 * time.Millisecond,
	})
	// The Perl file does not exist yet: not ready.
	msg := s.wantError(s.get("/readyz"), 503)
	if !strings.Contains(msg, "waiting for the first import from "+perl) {
		t.Errorf("/readyz before the first import: %s", msg)
	}
	writePerlFile(t, perl, "Done: 1")
	s.srv.Recheck()
	waitReady(t, s)
	r := s.get("/readyz")
	if !strings.Contains(string(r.body), `"import_from":"`+perl+`","imports":1,"imported_generation":1`) {
		t.Errorf("/readyz after the import: %s", r.body)
	}
	if f := s.fetch("uri=/"); len(f.Blocks) != 1 || f.Blocks[0].Action != "Done: 1" || f.Blocks[0].ID != 41 {
		t.Errorf("fetch after the import: %+v", f)
	}
	writePerlFile(t, perl, "Done: 2")
	deadline := time.Now().Add(30 * time.Second)
	for s.fetch("uri=/").Blocks[0].Action != "Done: 2" {
		if time.Now().After(deadline) {
			t.Fatal("the second version of the Perl file is not served")
		}
		time.Sleep(5 * time.Millisecond)
	}
	m := s.get("/metrics")
	for _, want := range []string{"transdb_imports_total{file=\"" + mirror + "\"} 2", "transdb_import_failing{"} {
		if !strings.Contains(string(m.body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// waitReady waits until /readyz is 200.
func waitReady(t *testing.T, s *testServer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := s.get("/readyz")
		if r.status == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz: %d %s", r.status, r.body)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestImportFromRefusesAWritableProvider(t *testing.T) {
	path := dbPath(t)
	_, err := httpprovider.New(httpprovider.Options{
		Providers:  []*translation.Provider{newProvider(t, path, false)},
		ImportFrom: map[string]httpprovider.Import{path: {From: "/perl.mmdb"}},
	})
	if err == nil || !strings.Contains(err.Error(), "writable") {
		t.Errorf("New with ImportFrom into a writable provider's file: %v", err)
	}
}
