package main

import (
	"go/ast"
	"go/constant"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"transdb/bench"
)

func TestParseSmapsAddsTheEntriesOfOneFile(t *testing.T) {
	smaps := `00400000-00500000 r-xp 00000000 fd:00 12 /usr/bin/transdbd
Rss:                 100 kB
Pss:                  50 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me
7f0000000000-7f0000100000 r--s 00000000 fd:00 34 /tmp/trans db.mmdb
Rss:                 400 kB
Pss:                 100 kB
Shared_Clean:        400 kB
Private_Clean:         0 kB
Private_Dirty:         0 kB
7f0000200000-7f0000300000 rw-p 00000000 00:00 0
Rss:                  80 kB
Anonymous:            80 kB
7f0000400000-7f0000500000 r--s 00000000 fd:00 35 /tmp/trans db.mmdb
Rss:                   8 kB
Pss:                   2 kB
Shared_Clean:          8 kB
`
	var m memory
	if err := parseSmaps(strings.NewReader(smaps), func(name string) bool { return name == "/tmp/trans db.mmdb" }, &m); err != nil {
		t.Fatal(err)
	}
	if want := (memory{Rss: 408, Pss: 102, SharedClean: 408}); m != want {
		t.Errorf("mapping %+v, want %+v", m, want)
	}
	var none memory
	if err := parseSmaps(strings.NewReader(smaps), func(name string) bool { return name == "/other" }, &none); err == nil {
		t.Error("no error for a file that is not mapped")
	}
}

func TestReadsThisProcess(t *testing.T) {
	m, err := readRollup(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.Rss <= 0 || m.Pss <= 0 || m.Anonymous <= 0 {
		t.Errorf("smaps_rollup of this process: %+v", m)
	}
	cpu, err := processCPU(0)
	if err != nil || cpu < 0 {
		t.Errorf("processCPU: %v, %v", cpu, err)
	}
	if other, err := processCPU(os.Getpid()); err != nil || other < cpu {
		t.Errorf("processCPU(pid): %v, %v; before %v", other, err, cpu)
	}
}

func TestFormats(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{count(0), "0"}, {count(999), "999"}, {count(1000), "1,000"}, {count(1234567), "1,234,567"},
		{ms(812 * time.Microsecond), "0.81 ms"}, {ms(12340 * time.Microsecond), "12.3 ms"}, {ms(207 * time.Millisecond), "207 ms"},
		{kib(1234, true), "+1,234 KiB"}, {kib(-12, true), "-12 KiB"}, {kib(5, false), "5 KiB"},
		{perRequest(3*time.Millisecond, 1000), "3.0 µs"}, {mib(3 << 20), "3.0 MiB"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestParseFlagsRejectsNonsense(t *testing.T) {
	for _, args := range [][]string{
		{"-parts", "throughput,speed"},
		{"-endpoints", "fetch,lookup"},
		{"-sizes", "10"},
		{"-conns", "0"},
		{"-switch-for", "1s", "-round", "5s"},
		{"extra"},
	} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
	o, err := parseFlags(nil)
	if err != nil || !o.parts["throughput"] || !o.parts["switch"] || !o.parts["memory"] || o.conns != 32 ||
		!o.endpoints["fetch"] || !o.endpoints["resolve"] || !o.endpoints["translate"] || !o.endpoints["auth"] {
		t.Errorf("defaults %+v, %v", o, err)
	}
}

// TestRunsEveryPartOnASmallTable runs the whole program on small tables
// with short rounds: transdbd and the bare handler serve, the committer
// commits, every answer is right, and the tables come out.
func TestRunsEveryPartOnASmallTable(t *testing.T) {
	if testing.Short() {
		t.Skip("builds transdbd and serves for some seconds")
	}
	bin := filepath.Join(t.TempDir(), "httpbench")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-sizes", "2000", "-switch-size", "2000", "-memory-size", "2000",
		"-rounds", "1", "-round", "300ms", "-warmup", "100ms", "-switch-every", "20ms", "-switch-for", "600ms",
		"-memory-warmup", "100", "-memory-lookups", "2000", "-proc-lookups", "500", "-procs", "2",
		"-probes", "200", "-conns", "4", "-rate", "500", "-max-load", "0", "-dir", t.TempDir())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("httpbench: %v\n%s\n%s", err, out, stderr.String())
	}
	for _, want := range []string{
		"| 2k | /v1/fetch | closed loop | transdbd |", "| 2k | /v1/fetch | 500 req/s | bare net/http |", "| 2k | /v1/resolve | closed loop | **transdbd / bare net/http** |",
		"| 2k | /v1/translate | closed loop | transdbd |", "| 2k | /v1/translate | closed loop | **transdbd / bare net/http** |",
		"Decisions of the 213 /v1/translate targets:",
		"| 2k | /v1/auth | closed loop | transdbd |", "| 2k | /v1/auth | closed loop | **transdbd / bare net/http** |",
		"/v1/auth: the same requests,",
		"| a commit every 20ms | 2 |", "| after the warm-up |", "| **all 2** |",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("no %q in the output:\n%s", want, out)
		}
	}
}

func TestParseWrkReadsRateLatencyAndErrors(t *testing.T) {
	out := `Running 5s test @ http://127.0.0.1:40000
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   520.11us    1.02ms  30.49ms   95.12%
    Req/Sec    33.07k     2.11k   37.30k    71.00%
  Latency Distribution
     50%  380.00us
     75%  510.00us
     90%  700.00us
     99%    4.21ms
  329012 requests in 5.00s, 229.45MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  65790.12
Transfer/sec:     45.88MB
`
	r, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	want := wrkResult{rate: 65790.12, p50: 380 * time.Microsecond, p99: 4210 * time.Microsecond, requests: 329012, errors: 7}
	if r != want {
		t.Errorf("parsed %+v, want %+v", r, want)
	}
	if _, err := parseWrk("wrk: connection refused\n"); err == nil {
		t.Error("no error for output without figures")
	}
}

// TestBareServerHasTheLimitsOfTransdbd holds the timeouts and limits of
// the bare server to the constants of the same names in
// cmd/transdbd/serve.go: every constant of the block there must have
// its value here.
func TestBareServerHasTheLimitsOfTransdbd(t *testing.T) {
	mod, err := bench.ModuleDir()
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(mod, "cmd/transdbd/serve.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Type-check the constant block of readHeaderTimeout alone, in a
	// file that imports time only.
	var block *ast.GenDecl
	for _, decl := range f.Decls {
		if g, ok := decl.(*ast.GenDecl); ok && g.Tok == token.CONST {
			for _, spec := range g.Specs {
				for _, name := range spec.(*ast.ValueSpec).Names {
					if name.Name == "readHeaderTimeout" {
						block = g
					}
				}
			}
		}
	}
	if block == nil {
		t.Fatal("serve.go has no constant readHeaderTimeout")
	}
	file := &ast.File{Name: ast.NewIdent("limits"), Decls: []ast.Decl{
		&ast.GenDecl{Tok: token.IMPORT, Specs: []ast.Spec{&ast.ImportSpec{Path: &ast.BasicLit{Kind: token.STRING, Value: `"time"`}}}},
		block,
	}}
	pkg, err := (&types.Config{Importer: importer.ForCompiler(fset, "source", nil)}).Check("limits", fset, []*ast.File{file}, nil)
	if err != nil {
		t.Fatal(err)
	}
	bare := map[string]int64{
		"readHeaderTimeout": int64(readHeaderTimeout),
		"readTimeout":       int64(readTimeout),
		"writeTimeout":      int64(writeTimeout),
		"idleTimeout":       int64(idleTimeout),
		"maxHeaderBytes":    maxHeaderBytes,
	}
	names := pkg.Scope().Names()
	for _, name := range names {
		v, exact := constant.Int64Val(pkg.Scope().Lookup(name).(*types.Const).Val())
		if got, ok := bare[name]; !ok || !exact || got != v {
			t.Errorf("transdbd's %s is %d, the bare server's %d (known: %t)", name, v, got, ok)
		}
	}
	if len(names) != len(bare) {
		t.Errorf("transdbd has the limits %q, the bare server %d", names, len(bare))
	}
	s := newBareServer(bareBodies{})
	if s.ReadHeaderTimeout != readHeaderTimeout || s.ReadTimeout != readTimeout || s.WriteTimeout != writeTimeout ||
		s.IdleTimeout != idleTimeout || s.MaxHeaderBytes != maxHeaderBytes {
		t.Errorf("bare server %+v", s)
	}
}
