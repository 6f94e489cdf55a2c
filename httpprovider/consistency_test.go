package httpprovider_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"transdb/httpprovider"
	"transdb/translation"
)

// The block list of key k, uri /u at generation g is recognisable: it
// has g%5+1 records (none at generation 0), the i-th with block i and
// the action "g=<g>". A response whose blocks do not fit its generation
// mixes versions.

func blocksOfGeneration(g uint64) int {
	if g == 0 {
		return 0
	}
	return int(g%5) + 1
}

// generationOps returns the txn ops that turn the table into that of
// generation g.
func generationOps(g uint64) string {
	ops := []string{`{"op":"clear"}`}
	for i := range blocksOfGeneration(g) {
		ops = append(ops, fmt.Sprintf(`{"op":"insert","key":"k","uri":"/u","block":%d,"order":0,"action":"g=%d"}`, i, g))
	}
	return `{"ops":[` + strings.Join(ops, ",") + `]}`
}

// checkBlocks reports blocks that do not belong to generation g.
func checkBlocks(g uint64, blocks []block) error {
	if len(blocks) != blocksOfGeneration(g) {
		return fmt.Errorf("generation %d with %d blocks, want %d", g, len(blocks), blocksOfGeneration(g))
	}
	for i, b := range blocks {
		if b.Block != uint32(i) || b.Action != fmt.Sprintf("g=%d", g) {
			return fmt.Errorf("generation %d: block %d is %+v", g, i, b)
		}
	}
	return nil
}

// getJSON gets url and decodes its JSON body into v; it returns the
// generation header.
func getJSON(client *http.Client, url string, v any) (uint64, error) {
	resp, err := client.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return 0, fmt.Errorf("%v: %s", err, body)
	}
	return strconv.ParseUint(resp.Header.Get(httpprovider.HeaderGeneration), 10, 64)
}

// TestLookupsDuringCommitsSeeWholeVersions runs fetches and resolves
// from several goroutines while 50 commits replace the block list; every
// response must be one version, the one its header names.
func TestLookupsDuringCommitsSeeWholeVersions(t *testing.T) {
	s := serveNew(t)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()

	const commits, readers, minReads, maxReads = 50, 8, 30, 3000
	var done atomic.Bool
	var served, failed atomic.Int64
	var wg sync.WaitGroup
	for w := range readers {
		wg.Go(func() {
			for i := 0; i < maxReads && (i < minReads || !done.Load()); i++ {
				var g uint64
				var err error
				if (w+i)%2 == 0 {
					var f fetchResult
					if g, err = getJSON(client, s.url+"/v1/fetch?key=k&uri=/u", &f); err == nil {
						if g != f.Generation {
							err = fmt.Errorf("header generation %d, body %d", g, f.Generation)
						} else {
							err = checkBlocks(g, f.Blocks)
						}
					}
				} else {
					var r resolveResult
					if g, err = getJSON(client, s.url+"/v1/resolve?key=k&uri=/u/x", &r); err == nil {
						var blocks []block
						if len(r.Matches) > 0 {
							blocks = r.Matches[0].Blocks
						}
						if g != r.Generation {
							err = fmt.Errorf("header generation %d, body %d", g, r.Generation)
						} else {
							err = checkBlocks(g, blocks)
						}
					}
				}
				served.Add(1)
				if err != nil {
					failed.Add(1)
					t.Errorf("reader %d, request %d: %v", w, i, err)
					return
				}
			}
		})
	}
	for g := uint64(1); g <= commits; g++ {
		r := s.post("/v1/txn", generationOps(g))
		if r.status != http.StatusOK || r.generation(t) != g {
			t.Errorf("commit %d: %d %s", g, r.status, r.body)
			break
		}
	}
	done.Store(true)
	wg.Wait()
	if failed.Load() != 0 || served.Load() < readers*minReads {
		t.Errorf("%d of %d lookups failed", failed.Load(), served.Load())
	}
	t.Logf("%d lookups during %d commits", served.Load(), commits)
}

// TestHelperWriterProcess is the writer process of
// TestReadOnlyServerFollowsAnotherProcess: it commits the tables of the
// generations HTTPPROVIDER_HELPER_FROM..HTTPPROVIDER_HELPER_TO to the
// database file HTTPPROVIDER_HELPER_DB.
func TestHelperWriterProcess(t *testing.T) {
	path := os.Getenv("HTTPPROVIDER_HELPER_DB")
	if path == "" {
		t.Skip("run by TestReadOnlyServerFollowsAnotherProcess")
	}
	from, err1 := strconv.ParseUint(os.Getenv("HTTPPROVIDER_HELPER_FROM"), 10, 64)
	to, err2 := strconv.ParseUint(os.Getenv("HTTPPROVIDER_HELPER_TO"), 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	p := newProvider(t, path, false, "trans", "db")
	for g := from; g <= to; g++ {
		got, err := p.Update(func(tx *translation.Txn) error {
			if _, err := tx.Clear(); err != nil {
				return err
			}
			for i := range blocksOfGeneration(g) {
				rec := translation.Record{Key: "k", URI: "/u", Block: uint32(i), Action: fmt.Sprintf("g=%d", g)}
				if _, err := tx.Insert(rec); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || got != g {
			t.Fatalf("commit: generation %d, %v; want %d", got, err, g)
		}
	}
}

// runWriter runs TestHelperWriterProcess in a child process.
func runWriter(t *testing.T, path string, from, to uint64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriterProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "HTTPPROVIDER_HELPER_DB="+path,
		fmt.Sprintf("HTTPPROVIDER_HELPER_FROM=%d", from), fmt.Sprintf("HTTPPROVIDER_HELPER_TO=%d", to))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("writer process: %v\n%s", err, out)
	}
}

// TestReadOnlyServerFollowsAnotherProcess serves a read-only provider
// whose file another process creates and commits to.
func TestReadOnlyServerFollowsAnotherProcess(t *testing.T) {
	path := dbPath(t)
	s := serve(t, httpprovider.Options{
		Providers:  []*translation.Provider{newProvider(t, path, true, "trans", "db")},
		AdminToken: token,
	})
	s.wantError(s.get("/readyz"), http.StatusServiceUnavailable)
	s.wantError(s.get("/v1/fetch?key=k&uri=/u"), http.StatusServiceUnavailable)

	runWriter(t, path, 1, 1)
	// The file has appeared: the server maps it on its own (Recheck
	// would make it happen at once; without it, within moments).
	deadline := time.Now().Add(5 * time.Second)
	for s.get("/readyz").status != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("the server does not serve the file the other process created")
		}
		time.Sleep(10 * time.Millisecond)
	}
	f := s.fetch("key=k&uri=/u")
	if err := checkBlocks(f.Generation, f.Blocks); err != nil || f.Generation != 1 {
		t.Fatalf("generation %d: %v", f.Generation, err)
	}

	// Commits of the other process are seen with the next request.
	for _, to := range []uint64{3, 7} {
		runWriter(t, path, f.Generation+1, to)
		f = s.fetch("key=k&uri=/u")
		if err := checkBlocks(f.Generation, f.Blocks); err != nil || f.Generation != to {
			t.Fatalf("after the commits up to %d: generation %d, %v", to, f.Generation, err)
		}
	}
	var st map[string]uint64
	s.decode(s.get("/v1/stats"), http.StatusOK, &st)
	if st["generation"] != 7 || st["reloads"] < 2 || st["writes"] != 0 || st["reads"] != 3 {
		t.Errorf("stats %v: want generation 7, at least 2 reloads, no writes, 3 reads", st)
	}
	// Writes are refused on the read-only provider.
	s.wantError(s.post("/v1/txn", `{"ops":[{"op":"clear"}]}`), http.StatusForbidden)
}
