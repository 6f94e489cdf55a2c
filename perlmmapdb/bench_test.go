package perlmmapdb

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"transdb/mmapdb"
	"transdb/translation/transgen"
)

// benchSizes are the record counts of the benchmarks: the migration of a
// large Apache2::Translation table is the case that matters.
var benchSizes = []int{100_000, 1_000_000}

// genA2T fills db with exactly n records in the layout of
// Apache2::Translation::MMapDB: generated rows, with a note for every
// seventh one (7/8 of the records are actions).
func genA2T(b *testing.B, db *mmapdb.DB, n int) {
	b.Helper()
	rows := transgen.Generate(n*7/8, 1)
	err := db.Update(func(tx *mmapdb.Txn) error {
		var sort [8]byte
		left := n
		for i, r := range rows {
			binary.BigEndian.PutUint32(sort[:], r.Block)
			binary.BigEndian.PutUint32(sort[4:], r.Order)
			if _, err := tx.Insert([]string{"trans", "db", "actn", r.Key, r.URI}, sort[:], []byte(r.Action)); err != nil {
				return err
			}
			left--
			if i%7 == 0 && left > len(rows)-i-1 {
				if _, err := tx.Insert([]string{"trans", "db", "note", r.Key, r.URI}, sort[:], []byte("a note on "+r.URI)); err != nil {
					return err
				}
				left--
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// benchFixture returns a database of n records and its export, a Perl
// file in format N; both are made once per size and test binary.
func benchFixture(b *testing.B, n int) (db *mmapdb.DB, perlFile string) {
	b.Helper()
	if f, ok := fixtures[n]; ok {
		return f.db, f.perl
	}
	dir, err := os.MkdirTemp("", "perlmmapdb-bench-")
	if err != nil {
		b.Fatal(err)
	}
	db, err = mmapdb.Open(filepath.Join(dir, "trans.mmdb"), &mmapdb.Options{CheckInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	genA2T(b, db, n)
	perlFile = filepath.Join(dir, "perl.mmdb")
	err = db.View(func(s *mmapdb.Snapshot) error {
		if s.Len() != uint64(n) {
			return fmt.Errorf("generated %d records, want %d", s.Len(), n)
		}
		_, err := Export(s, perlFile, ExportOptions{})
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	fixtures[n] = fixture{db, perlFile, dir}
	return db, perlFile
}

type fixture struct {
	db        *mmapdb.DB
	perl, dir string
}

var fixtures = map[int]fixture{}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, f := range fixtures {
		f.db.Close()
		os.RemoveAll(f.dir)
	}
	os.Exit(code)
}

// heapPeak samples the bytes of live and unswept heap objects every
// millisecond until stopped, and keeps the highest value: the heap an
// operation needs at its peak.
type heapPeak struct {
	peak atomic.Uint64
	stop chan struct{}
	done chan struct{}
}

func startHeapPeak() *heapPeak {
	runtime.GC()
	h := &heapPeak{stop: make(chan struct{}), done: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() {
		metrics.Read(sample)
		if v := sample[0].Value.Uint64(); v > h.peak.Load() {
			h.peak.Store(v)
		}
	}
	read()
	go func() {
		defer close(h.done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				read()
				return
			case <-t.C:
				read()
			}
		}
	}()
	return h
}

// cpuTime returns the CPU time the process has used, user and system:
// on a machine shared with other work, it says more than the wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// end stops the sampling and returns the peak in MiB.
func (h *heapPeak) end() float64 {
	close(h.stop)
	<-h.done
	return float64(h.peak.Load()) / (1 << 20)
}

// BenchmarkImport imports a Perl file of n records (format N, made by
// Export) into a database: open, Check, the transaction, the commit with
// its fsync and the verification of the new version. It reports the
// peak of the heap during the import and the sizes of the input and the
// output.
func BenchmarkImport(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			_, perl := benchFixture(b, n)
			out, err := mmapdb.Open(filepath.Join(b.TempDir(), "imported.mmdb"), &mmapdb.Options{CheckInterval: -1})
			if err != nil {
				b.Fatal(err)
			}
			defer out.Close()
			var peak float64
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime()
			for range b.N {
				h := startHeapPeak()
				f, err := Open(perl)
				if err != nil {
					b.Fatal(err)
				}
				res, err := Import(out, f)
				if err != nil {
					b.Fatal(err)
				}
				f.Close()
				peak = max(peak, h.end())
				if res.Records != n {
					b.Fatalf("imported %d records, want %d", res.Records, n)
				}
			}
			b.StopTimer()
			b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
			fi, _ := os.Stat(perl)
			fo, _ := os.Stat(out.Path())
			b.ReportMetric(peak, "peak-heap-MiB")
			b.ReportMetric(float64(fi.Size())/(1<<20), "input-MiB")
			b.ReportMetric(float64(fo.Size())/(1<<20), "output-MiB")
		})
	}
}

// BenchmarkExport exports a database of n records as a Perl file in
// format N: the walk, the write, the fsync and the rename.
func BenchmarkExport(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			db, _ := benchFixture(b, n)
			path := filepath.Join(b.TempDir(), "export.mmdb")
			var peak float64
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime()
			for range b.N {
				h := startHeapPeak()
				err := db.View(func(s *mmapdb.Snapshot) error {
					_, err := Export(s, path, ExportOptions{})
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
				peak = max(peak, h.end())
			}
			b.StopTimer()
			b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
			fi, _ := os.Stat(path)
			b.ReportMetric(peak, "peak-heap-MiB")
			b.ReportMetric(float64(fi.Size())/(1<<20), "output-MiB")
		})
	}
}

// BenchmarkCheck reads a Perl file of n records completely, as Import
// does before its transaction.
func BenchmarkCheck(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			_, perl := benchFixture(b, n)
			f, err := Open(perl)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := f.Check(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
