package mmapdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// The crash test's database goes through generations whose content is a
// function of the generation number alone, so that a writer resumes from
// whatever generation it finds and the parent recomputes what any
// generation must hold, byte for byte.
//
// Generation g (g >= 1) inserts crashPerGen records (g, i), i < crashPerGen,
// and deletes the even records of generation g-3 and the odd ones of
// generation g-6. IDs are allocated upward and never reused, so record
// (g, i) has ID (g-1)*crashPerGen + i + 1. A generation holds about
// 4.5*crashPerGen records (2250), some 270 KB.
const crashPerGen = 500

// crashKills is how many times TestCommitSurvivesSIGKILL kills a writer.
const (
	crashKills      = 200
	crashKillsShort = 40
)

// crashRecord is one record of the crash test's content.
type crashRecord struct {
	keys       []string
	sort, data []byte
	id         uint64
}

// crashKeys are the keys of the two levels of the crash test's tree: 24
// indices of 16 leaves.
var crashKeys = [2][]string{crashKeyNames("k", 24), crashKeyNames("p", 16)}

func crashKeyNames(prefix string, n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s%02d", prefix, i)
	}
	return names
}

// crashRecordOf returns record i of generation g. Its sort field, unique,
// scatters the records of a generation over the leaves' order; its data
// says where it comes from and has a length of its own.
func crashRecordOf(g, i int) crashRecord {
	sort := binary.BigEndian.AppendUint32(nil, uint32(g*1_000_003+i)*2654435761)
	sort = binary.BigEndian.AppendUint32(sort, uint32(g))
	sort = binary.BigEndian.AppendUint16(sort, uint16(i))
	data := strconv.AppendInt([]byte("generation "), int64(g), 10)
	data = strconv.AppendInt(append(data, " record "...), int64(i), 10)
	data = append(data, ' ')
	for range 10 + (g*31+i)%50 {
		data = append(data, byte('a'+(g+i)%26))
	}
	return crashRecord{
		keys: []string{crashKeys[0][(i*7+g)%24], crashKeys[1][i%16]},
		sort: sort,
		data: data,
		id:   crashID(g, i),
	}
}

// crashID is the ID of record i of generation g.
func crashID(g, i int) uint64 { return uint64(g-1)*crashPerGen + uint64(i) + 1 }

// crashOfID is the inverse of crashID.
func crashOfID(id uint64) (g, i int) {
	return int((id-1)/crashPerGen) + 1, int((id - 1) % crashPerGen)
}

// crashAlive reports whether record i of generation h is in generation g.
func crashAlive(g, h, i int) bool {
	age := g - h
	return h >= 1 && i >= 0 && i < crashPerGen && age >= 0 && (age < 3 || (i%2 == 1 && age < 6))
}

// crashCount is the number of records of generation g.
func crashCount(g int) int {
	n := 0
	for h := max(g-5, 1); h <= g; h++ {
		if g-h < 3 {
			n += crashPerGen
		} else {
			n += crashPerGen / 2
		}
	}
	return n
}

// crashApply turns generation g-1, the base of tx, into generation g.
func crashApply(tx *Txn, g int) error {
	base := tx.Base()
	if want := uint64(crashCount(g - 1)); base.Len() != want {
		return fmt.Errorf("base generation %d has %d records, want %d", g-1, base.Len(), want)
	}
	for i := range crashPerGen {
		r := crashRecordOf(g, i)
		id, err := tx.Insert(r.keys, r.sort, r.data)
		if err != nil {
			return err
		}
		if id != r.id {
			return fmt.Errorf("record %d of generation %d got id %d, want %d", i, g, id, r.id)
		}
	}
	for _, d := range []struct{ h, parity int }{{g - 3, 0}, {g - 6, 1}} {
		if d.h < 1 {
			continue
		}
		for i := d.parity; i < crashPerGen; i += 2 {
			if _, found, err := tx.Delete(crashID(d.h, i)); err != nil || !found {
				return fmt.Errorf("delete record %d of generation %d: found %v, %v", i, d.h, found, err)
			}
		}
	}
	return nil
}

// runCrashWriter is the child of TestCommitSurvivesSIGKILL: it commits
// generation after generation until it is killed, reporting each commit
// and how long it took.
func runCrashWriter(path string, _ *childInput) error {
	db, err := Open(path, &Options{LockTimeout: childWait, CheckInterval: -1})
	if err != nil {
		return err
	}
	tellParent("ready")
	for {
		start := time.Now()
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		g := int(tx.Base().Generation()) + 1
		if err := crashApply(tx, g); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		tellParent("committed %d %d", g, time.Since(start).Microseconds())
	}
}

// checkCrashGeneration checks that the file at path is a sound database
// holding exactly the content of its generation, and returns that
// generation.
func checkCrashGeneration(path string) (int, error) {
	if err := VerifyFile(path, nil); err != nil {
		return 0, err
	}
	db, err := Open(path, &Options{ReadOnly: true, CheckInterval: -1})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	s, err := db.Snapshot()
	if err != nil {
		return 0, err
	}
	defer s.Release()
	g := int(s.Generation())
	if s.Superseded() {
		return g, fmt.Errorf("generation %d at the path has its valid flag cleared", g)
	}
	if want := uint64(g)*crashPerGen + 1; s.NextID() != want {
		return g, fmt.Errorf("generation %d: next id %d, want %d", g, s.NextID(), want)
	}
	want := crashCount(g)
	if s.Len() != uint64(want) {
		return g, fmt.Errorf("generation %d: %d records, want %d", g, s.Len(), want)
	}
	// Every record read must be one of generation g, byte for byte, in
	// strictly ascending (key path, sort) order, which also rules out
	// duplicates; with the count, that is exactly generation g.
	n := 0
	var prev crashRecord
	for r, err := range s.All() {
		if err != nil {
			return g, err
		}
		h, i := crashOfID(r.ID)
		if r.ID == 0 || !crashAlive(g, h, i) {
			return g, fmt.Errorf("generation %d, record %d: id %d (record %d of generation %d) does not belong to it", g, n, r.ID, i, h)
		}
		keys, err := r.Keys()
		if err != nil {
			return g, err
		}
		w := crashRecordOf(h, i)
		if !slices.Equal(keys, w.keys) || !bytes.Equal(r.Sort, w.sort) || !bytes.Equal(r.Data, w.data) {
			return g, fmt.Errorf("generation %d, record %d: got %q %x %q #%d, want %q %x %q",
				g, n, keys, r.Sort, r.Data, r.ID, w.keys, w.sort, w.data)
		}
		if n > 0 {
			c := slices.Compare(prev.keys, w.keys)
			if c == 0 {
				c = bytes.Compare(prev.sort, w.sort)
			}
			if c >= 0 {
				return g, fmt.Errorf("generation %d, record %d: #%d %q %x does not come after #%d %q %x",
					g, n, w.id, w.keys, w.sort, prev.id, prev.keys, prev.sort)
			}
		}
		prev = w
		n++
	}
	if n != want {
		return g, fmt.Errorf("generation %d: %d records, want %d", g, n, want)
	}
	return g, nil
}

// TestCommitSurvivesSIGKILL kills a committing writer process at random
// instants, hundreds of times, and checks after each kill that the file
// is the old or the new generation exactly, never a mix, and that the
// next writer removes the temporary files the dead one left.
func TestCommitSurvivesSIGKILL(t *testing.T) {
	kills := crashKills
	if testing.Short() {
		kills = crashKillsShort
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("MMAPDB_CRASH_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("seed %d (rerun with MMAPDB_CRASH_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	path := filepath.Join(t.TempDir(), "crash.mmdb")

	// A reader that stays open across kills, to see through its mapping
	// whether a killed commit got as far as invalidating the old version.
	watcher, err := Open(path, &Options{ReadOnly: true, CheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close()

	var (
		lastGen    = -1                   // generation found after the previous kill; -1: no file yet
		commitTime = 2 * time.Millisecond // running estimate of one commit
		stale      []string               // temporary files left by killed writers
		phases     = map[string]int{}
		commits    int
	)
	for kill := range kills {
		c := startChild(t, "crash-writer", path)
		c.expect("ready")

		// Now and then kill during the first Begin (lock, stale-file
		// cleanup, creation of the file); otherwise let one commit through
		// and kill at a random point of the next, so that kills land in
		// every phase: building, writing, fsync, rename, invalidation.
		var before *Snapshot
		haveBefore := rng.IntN(5) > 0
		if haveBefore {
			line := c.expect("committed ")
			var g, us int
			if _, err := fmt.Sscanf(line, "committed %d %d", &g, &us); err != nil {
				t.Fatalf("child said %q: %v", line, err)
			}
			commits++
			commitTime = (commitTime*7 + time.Duration(us)*time.Microsecond) / 8
			// That commit's Begin held the lock: stale files are gone.
			for _, name := range stale {
				if _, err := os.Stat(name); !errors.Is(err, fs.ErrNotExist) {
					t.Fatalf("kill %d: temporary file %s of a killed writer survives a commit: %v", kill, name, err)
				}
			}
			stale = nil
			if err := watcher.Reload(); err != nil {
				t.Fatal(err)
			}
			if before, err = watcher.Snapshot(); err != nil {
				t.Fatal(err)
			}
		}
		// Half the kills anywhere in the next commit, half near its end,
		// where the rename, the directory fsync and the invalidation are.
		var delay time.Duration
		if rng.IntN(2) == 0 {
			delay = time.Duration(rng.Int64N(int64(commitTime)*3/2 + 1))
		} else {
			delay = commitTime*3/4 + time.Duration(rng.Int64N(int64(commitTime)/2+1))
		}
		time.Sleep(delay) // the random instant of the kill, not synchronisation
		c.kill()
		if err := c.wait(); !killedBySIGKILL(err) {
			t.Fatalf("kill %d: %v did not die of SIGKILL: %v", kill, c, err)
		}

		var left []string // temporary files the killed writer left
		for _, name := range writerTempFiles(t, path) {
			if !slices.Contains(stale, name) {
				left = append(left, name)
			}
		}
		stale = append(stale, left...)
		g, err := checkCrashGeneration(path)
		switch {
		case errors.Is(err, fs.ErrNotExist) && lastGen < 0:
			phases["before the file existed"]++
		case err != nil:
			t.Fatalf("kill %d after %v: %v", kill, delay, err)
		case g < lastGen:
			t.Fatalf("kill %d after %v: generation went back from %d to %d", kill, delay, lastGen, g)
		case len(left) > 0:
			phases["writing the temporary file"]++
		case haveBefore && g == int(before.Generation())+1 && !before.Superseded():
			phases["renamed, old version not yet invalidated"]++
		case haveBefore && g == int(before.Generation())+1:
			phases["after invalidating the old version"]++
		default:
			phases["between commits: Begin, inserts in memory"]++
		}
		if haveBefore {
			before.Release()
		}
		if err == nil {
			lastGen = g
		}
	}
	t.Logf("%d kills, %d commits reported, final generation %d, commit time ~%v; where the kills found the writer: %v",
		kills, commits, lastGen, commitTime, phases)
	if lastGen < 1 {
		t.Fatalf("no generation was ever committed in %d runs", kills)
	}

	// A clean writer removes whatever the last killed one left.
	beginRollback(t, path, &Options{CheckInterval: -1, LockTimeout: childWait})
	if left := writerTempFiles(t, path); len(left) > 0 {
		t.Errorf("temporary files left after a clean Begin/Rollback: %q", left)
	}
	if g, err := checkCrashGeneration(path); err != nil || g != lastGen {
		t.Errorf("after Begin/Rollback: generation %d, %v; want %d", g, err, lastGen)
	}
}

// TestCrashGenerationsAreRecomputable checks the crash test's own bookkeeping:
// applying generation after generation in process gives exactly the
// content checkCrashGeneration expects.
func TestCrashGenerationsAreRecomputable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crash.mmdb")
	db, err := Open(path, &Options{CheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for g := 1; g <= 8; g++ {
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if err := crashApply(tx, g); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if got, err := checkCrashGeneration(path); err != nil || got != g {
			t.Fatalf("after committing generation %d: generation %d, %v", g, got, err)
		}
	}
	if n := crashCount(8); n != crashPerGen*9/2 {
		t.Errorf("generation 8 has %d records, want %d", n, crashPerGen*9/2)
	}
}
