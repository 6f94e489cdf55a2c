package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"transdb/bench"
)

// startTransdbd serves the database file db with transdbd, read-only,
// under the base key of the default configuration, with the engine
// settings translationKey and documentRoot, and with its decision cache
// unless noCache. With a profile directory, transdbd writes a CPU
// profile there, NAME.pprof, when it stops.
func startTransdbd(bin, dir, name, db, profiles string, noCache bool) (*bench.Server, error) {
	cfg := filepath.Join(dir, name+".conf")
	text := "Listen 127.0.0.1:0\n" +
		"TranslationKey " + translationKey + "\n" +
		"DocumentRoot " + documentRoot + "\n"
	if noCache {
		text += "DecisionCacheSize 0\n"
	}
	text += "<TranslationProvider MMapDB>\n" +
		"    FileName " + db + "\n" +
		"    ReadOnly 1\n" +
		"    BaseKey  [qw/trans db/]\n" +
		"</TranslationProvider>\n"
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		return nil, err
	}
	args := []string{"serve", "-config", cfg}
	if profiles != "" {
		args = append(args, "-cpuprofile", filepath.Join(profiles, name+".pprof"))
	}
	return bench.StartServer(name, exec.Command(bin, args...))
}

// memory is a process's memory, in KiB, from /proc/PID/smaps_rollup
// (all mappings) or from the entry of one mapping in /proc/PID/smaps.
type memory struct {
	Rss, Pss, Anonymous, PrivateDirty, SharedClean, PrivateClean int64
}

// memoryFields are the lines of smaps that fill a memory.
var memoryFields = map[string]func(m *memory) *int64{
	"Rss:":           func(m *memory) *int64 { return &m.Rss },
	"Pss:":           func(m *memory) *int64 { return &m.Pss },
	"Anonymous:":     func(m *memory) *int64 { return &m.Anonymous },
	"Private_Dirty:": func(m *memory) *int64 { return &m.PrivateDirty },
	"Shared_Clean:":  func(m *memory) *int64 { return &m.SharedClean },
	"Private_Clean:": func(m *memory) *int64 { return &m.PrivateClean },
}

// readRollup reads /proc/PID/smaps_rollup.
func readRollup(pid int) (memory, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	if err != nil {
		return memory{}, err
	}
	var m memory
	err = parseSmaps(bytes.NewReader(data), func(string) bool { return true }, &m)
	return m, err
}

// readMapping adds up the entries of /proc/PID/smaps that map the file
// path (a database version is one mapping, but a process that switched
// versions may map several files of that name, the older ones deleted).
func readMapping(pid int, path string) (memory, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/smaps")
	if err != nil {
		return memory{}, err
	}
	defer f.Close()
	var m memory
	err = parseSmaps(f, func(name string) bool { return name == path }, &m)
	return m, err
}

// parseSmaps adds to m the fields of the smaps entries whose mapped file
// name satisfies match; smaps_rollup has one entry whose "name" is
// [rollup].
func parseSmaps(r io.Reader, match func(name string) bool, m *memory) error {
	sc := bufio.NewScanner(r)
	in, seen := false, false
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if field, ok := memoryFields[f[0]]; ok {
			if !in {
				continue
			}
			if len(f) < 2 {
				return fmt.Errorf("smaps line %q", line)
			}
			v, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return fmt.Errorf("smaps line %q: %w", line, err)
			}
			*field(m) += v
			continue
		}
		if strings.HasSuffix(f[0], ":") && !strings.Contains(f[0], "-") {
			continue // another field of the current entry
		}
		// The header line of an entry: "START-END PERMS OFFSET DEV INODE [NAME]".
		name := ""
		if len(f) >= 6 {
			name = strings.Join(f[5:], " ")
		}
		in = match(name)
		seen = seen || in
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if !seen {
		return errors.New("smaps: no matching mapping")
	}
	return nil
}

// clockTick is the unit of the CPU times in /proc/PID/stat: USER_HZ,
// which is 100 on Linux.
const clockTick = 10 * time.Millisecond

// processCPU returns the CPU time (user and system) a process has used,
// from /proc/PID/stat; pid 0 is this process.
func processCPU(pid int) (time.Duration, error) {
	name := "/proc/self/stat"
	if pid != 0 {
		name = "/proc/" + strconv.Itoa(pid) + "/stat"
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return 0, err
	}
	// The command name, field 2, is in parentheses and may hold spaces:
	// count the fields after its closing parenthesis.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("%s: %q", name, b)
	}
	f := strings.Fields(string(b[i+1:]))
	// Fields 14 and 15 (utime, stime) are the 12th and 13th after it.
	if len(f) < 13 {
		return 0, fmt.Errorf("%s: %q", name, b)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%s: %q", name, b)
	}
	return time.Duration(utime+stime) * clockTick, nil
}
