package httpprovider

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"transdb/perlmmapdb"
)

// Following Perl MMapDB files. During a migration from
// Apache2::Translation::MMapDB, a database file may follow the Perl
// provider's file, which Perl writers go on changing: the server imports
// it at start and again within ImportInterval of every commit of the
// Perl module (perlmmapdb.Follow), each import one transaction, so that
// lookups see the previous version until the new one is committed.

// Import is a Perl MMapDB file that a database file follows; see
// Options.ImportFrom.
type Import struct {
	// From is the Perl file, as Apache2::Translation::MMapDB writes it.
	From string
	// NoLock imports without the database's lock file, as the
	// providers of the file do with their NoLock.
	NoLock bool
}

// checkImports checks the imports of opts: each of a file served by
// read-only providers only, since an import replaces the whole file.
func checkImports(imports map[string]Import, files map[string]*dbFile, providers []*provider) error {
	for _, path := range slices.Sorted(maps.Keys(imports)) {
		if files[path] == nil {
			return fmt.Errorf("httpprovider: import into %s: no provider serves that file", path)
		}
		if imports[path].From == "" {
			return fmt.Errorf("httpprovider: import into %s: no Perl file to import", path)
		}
		for _, pr := range providers {
			if pr.file.path == path && !pr.p.ReadOnly() {
				return fmt.Errorf("httpprovider: import into %s: the provider of base key %s is writable; "+
					"its writes would be undone by the next import", path, pr.name)
			}
		}
	}
	return nil
}

// startImports starts following the Perl files of opts.
func (s *Server) startImports(opts Options) {
	for _, f := range s.files {
		imp, ok := opts.ImportFrom[f.path]
		if !ok {
			continue
		}
		f.follower = perlmmapdb.Follow(f.path, imp.From, perlmmapdb.FollowOptions{
			Interval: opts.ImportInterval,
			NoLock:   imp.NoLock,
			Logger:   s.log,
		})
	}
}

// importReadiness returns why the file f is not ready for its imports:
// it follows a Perl file that has not been imported yet since the server
// started. "" means ready.
func importReadiness(f *dbFile) string {
	if f.follower == nil {
		return ""
	}
	st := f.follower.Status()
	if st.Imports > 0 {
		return ""
	}
	msg := fmt.Sprintf("not ready: %s: waiting for the first import from %s", f.path, st.Source)
	if st.Err != nil {
		msg += ": " + st.Err.Error()
	}
	return msg
}

// importFields writes the import state of a /readyz file entry.
func (j *jsonWriter) importFields(st *perlmmapdb.FollowStatus) {
	j.raw(`,"import_from":`)
	j.str(st.Source)
	j.raw(`,"imports":`)
	j.uint(st.Imports)
	if st.Imports > 0 {
		j.raw(`,"imported_generation":`)
		j.uint(st.Last.Generation)
	}
	if st.Err != nil {
		j.raw(`,"import_error":`)
		j.str(st.Err.Error())
	}
}

// The metrics of the imports.
var (
	descImports = prometheus.NewDesc("transdb_imports_total",
		"Imports of the Perl MMapDB file that the database file follows (ImportFrom), committed by this process.", []string{"file"}, nil)
	descImportFailures = prometheus.NewDesc("transdb_import_failures_total",
		"Imports of the Perl MMapDB file that the database file follows that failed in this process.", []string{"file"}, nil)
	descImportFailing = prometheus.NewDesc("transdb_import_failing",
		"1 while the last import of the Perl MMapDB file that the database file follows failed, 0 otherwise.", []string{"file"}, nil)
	descImportAge = prometheus.NewDesc("transdb_import_age_seconds",
		"Time since the last import of the Perl MMapDB file that the database file follows; absent before the first.", []string{"file"}, nil)
)

// imports reports the imports into f, when it follows a Perl file.
func (c dbCollector) imports(ch chan<- prometheus.Metric, f *dbFile) {
	if f.follower == nil {
		return
	}
	st := f.follower.Status()
	failing := 0.0
	if st.Err != nil {
		failing = 1
	}
	ch <- prometheus.MustNewConstMetric(descImports, prometheus.CounterValue, float64(st.Imports), f.path)
	ch <- prometheus.MustNewConstMetric(descImportFailures, prometheus.CounterValue, float64(st.Failures), f.path)
	ch <- prometheus.MustNewConstMetric(descImportFailing, prometheus.GaugeValue, failing, f.path)
	if !st.LastTime.IsZero() {
		ch <- prometheus.MustNewConstMetric(descImportAge, prometheus.GaugeValue, time.Since(st.LastTime).Seconds(), f.path)
	}
}
