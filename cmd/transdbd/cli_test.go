package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"transdb/mmapdb"
	"transdb/translation"
)

func TestHelpPrintsUsageToStdoutAndExitsZero(t *testing.T) {
	type helpCase struct {
		args []string
		want string // the start of stdout
	}
	cases := []helpCase{
		{[]string{"-h"}, "Usage: transdbd [-listen ADDR]"},
		{[]string{"-help"}, "Usage: transdbd [-listen ADDR]"},
		{[]string{"help"}, "Usage: transdbd [-listen ADDR]"},
	}
	for _, c := range commands {
		want := "Usage: transdbd " + c.name + " "
		cases = append(cases,
			helpCase{[]string{c.name, "-h"}, want},
			helpCase{[]string{c.name, "-help"}, want},
			helpCase{[]string{"help", c.name}, want})
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := transdbd(t, "", c.args...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			if !strings.HasPrefix(r.stdout, c.want) {
				t.Errorf("stdout does not start with %q:\n%s", c.want, r.stdout)
			}
		})
	}
}

func TestOverviewListsEveryCommand(t *testing.T) {
	out := ok(t, "", "-h")
	for _, c := range commands {
		if !strings.Contains(out, "  "+c.name+" ") {
			t.Errorf("transdbd -h does not list %s:\n%s", c.name, out)
		}
	}
}

func TestUsageErrorsExitTwoWithOneLine(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "x.mmdb")
	cases := []struct {
		args    []string
		prefix  string
		pattern string
	}{
		{[]string{"frobnicate"}, "transdbd: ", `unknown command "frobnicate" \(see transdbd -h\)`},
		{[]string{"help", "frobnicate"}, "transdbd: ", `unknown command "frobnicate"`},
		{[]string{"-nosuchflag"}, "transdbd: ", `flag provided but not defined: -nosuchflag`},
		{[]string{"-listen", "x", "extra"}, "transdbd: ", `too many arguments`},
		{[]string{"fetch", "front", "/"}, "transdbd fetch: ", `-db FILE or -config FILE is required \(see transdbd fetch -h\)`},
		{[]string{"fetch", "-db", db, "-config", db, "front", "/"}, "transdbd fetch: ", `-db and -config exclude each other`},
		{[]string{"dump", "-config", db, "-db", db}, "transdbd dump: ", `-db and -config exclude each other`},
		{[]string{"backup", "-db", db, "-basekey", "x"}, "transdbd backup: ", `-basekey needs -config: the command works on the whole file`},
		{[]string{"fetch", "-db", db, "front"}, "transdbd fetch: ", `missing arguments: usage: transdbd fetch -db FILE`},
		{[]string{"fetch", "-db", db, "front", "/", "/x"}, "transdbd fetch: ", `too many arguments: \["/x"\]`},
		{[]string{"fetch", "-db", db, "-basekey", "[qw/a]", "front", "/"}, "transdbd fetch: ", `invalid value "\[qw/a\]" for flag -basekey: .*invalid base key`},
		{[]string{"dump", "-db", db, "-basekey", "[qw/trans db"}, "transdbd dump: ", `invalid value "\[qw/trans db" for flag -basekey: .*list without its closing \]: invalid base key`},
		{[]string{"stats", "-db", db, "-basekey", `["a","b"`}, "transdbd stats: ", `invalid value "\[\\"a\\",\\"b\\"" for flag -basekey: .*list without its closing \]`},
		{[]string{"load", "-db", db, "-basekey", "[my, trans]", "-"}, "transdbd load: ", `invalid value "\[my, trans\]" for flag -basekey: .*bare word "my"`},
		{[]string{"resolve", "-db", db}, "transdbd resolve: ", `missing arguments`},
		{[]string{"dump", "-db", db, "-format", "xml"}, "transdbd dump: ", `invalid value "xml" for flag -format: .*unknown format`},
		{[]string{"dump", "-db", db, "extra"}, "transdbd dump: ", `too many arguments`},
		{[]string{"load", "-db", db}, "transdbd load: ", `missing arguments`},
		{[]string{"load", "-db", db, "-generation", "x", "-"}, "transdbd load: ", `invalid value "x" for flag -generation: not a generation number`},
		{[]string{"diff", "-db", db}, "transdbd diff: ", `missing arguments`},
		{[]string{"backup", "-db", db, "a", "b"}, "transdbd backup: ", `too many arguments`},
		{[]string{"restore", "-db", db}, "transdbd restore: ", `missing arguments`},
		{[]string{"backups", "-db", db}, "transdbd backups: ", `-dir DIR is required with -db`},
		{[]string{"backups", "-db", db, "-dir", dir, "extra"}, "transdbd backups: ", `too many arguments`},
		{[]string{"verify"}, "transdbd verify: ", `-db FILE or -config FILE is required`},
		{[]string{"stats", "-db", db, "-notes"}, "transdbd stats: ", `flag provided but not defined: -notes`},
		{[]string{"serve"}, "transdbd serve: ", `-config is required`},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := transdbd(t, "", c.args...)
			wantError(t, r, 2, c.prefix, c.pattern)
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
		})
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("a usage error created the database file")
	}
}

func TestFailuresExitOneWithOneLine(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.mmdb")
	db, _ := exampleDB(t)
	notDB := writeFile(t, dir, "not.mmdb", "this is not a database file, but long enough to hold a header of one if it were one....................................................................................................................................")
	bad := writeFile(t, dir, "bad.txt", "######################################################################\nfront & /x 0/0\nnot an action line\n")
	cases := []struct {
		args    []string
		prefix  string
		pattern string
	}{
		{[]string{"fetch", "-db", missing, "front", "/"}, "transdbd fetch: ", `^transdbd fetch: open .*/missing.mmdb: no such file or directory\n$`},
		{[]string{"resolve", "-db", missing, "front", "/"}, "transdbd resolve: ", `open .*missing.mmdb: no such file`},
		{[]string{"dump", "-db", missing}, "transdbd dump: ", `open .*missing.mmdb: no such file`},
		{[]string{"stats", "-db", missing}, "transdbd stats: ", `open .*missing.mmdb: no such file`},
		{[]string{"fetch", "-db", notDB, "front", "/"}, "transdbd fetch: ", `not an mmapdb database file`},
		{[]string{"load", "-db", db, filepath.Join(dir, "nothing.txt")}, "transdbd load: ", `open .*nothing.txt: no such file`},
		{[]string{"load", "-db", db, bad}, "transdbd load: ", `line 3`},
		{[]string{"backup", "-db", missing}, "transdbd backup: ", `open .*missing.mmdb: no such file`},
		{[]string{"backup", "-db", db, filepath.Join(dir, "no", "such", "dir", "b")}, "transdbd backup: ", `no such file or directory`},
		{[]string{"backups", "-db", db, "-dir", filepath.Join(dir, "nothing")}, "transdbd backups: ", `open .*nothing: no such file`},
		{[]string{"restore", "-db", db, filepath.Join(dir, "nothing")}, "transdbd restore: ", `open .*nothing: no such file`},
		{[]string{"restore", "-db", db, notDB}, "transdbd restore: ", `not an mmapdb database file`},
		{[]string{"verify", "-db", missing}, "transdbd verify: ", `open .*missing.mmdb: no such file`},
		{[]string{"serve", "-config", filepath.Join(dir, "none.conf")}, "transdbd serve: ", `no such file`},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args[:1], " "), func(t *testing.T) {
			r := transdbd(t, "", c.args...)
			wantError(t, r, 1, c.prefix, c.pattern)
		})
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("a reading command created the database file")
	}
	// The failed load changed nothing.
	if out := ok(t, "", "stats", "-db", db); !strings.Contains(out, `"generation":1,`) {
		t.Errorf("after failed loads: %s", out)
	}
}

func TestLoadDumpRoundTripIsByteIdentical(t *testing.T) {
	for _, format := range []string{"text", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			db1, table := exampleDB(t)
			dump1 := ok(t, "", "dump", "-db", db1, "-format", format)
			// Loaded in dump order, the IDs of the second database are
			// those of its dump: from then on the dump is a fixed point.
			db2 := filepath.Join(dir, "two.mmdb")
			ok(t, dump1, "load", "-db", db2, "-format", format, "-")
			dump2 := ok(t, "", "dump", "-db", db2, "-format", format)
			db3 := filepath.Join(dir, "three.mmdb")
			in := writeFile(t, dir, "dump2", dump2)
			ok(t, "", "load", "-format", format, "-db", db3, in)
			dump3 := ok(t, "", "dump", "-db", db3, "-format", format)
			if dump3 != dump2 {
				t.Errorf("dump of a loaded dump differs:\n%s\nwant:\n%s", dump3, dump2)
			}
			// All three hold the example table.
			ok(t, "", "diff", "-db", db3, table)
			ok(t, "", "diff", "-db", db1, db3)
		})
	}
}

func TestDumpFormats(t *testing.T) {
	db, _ := exampleDB(t)
	text := ok(t, "", "dump", "-db", db)
	if !strings.HasPrefix(text, "# transdb dump generation=1 records=13 end=1\n"+strings.Repeat("#", 70)+"\nback & /appl1 0/0/12\naction> PerlHandler: 'My::Application1'\n") {
		t.Errorf("text dump:\n%s", text)
	}
	file := ok(t, "", "dump", "-db", db, "-format", "file")
	if !strings.HasPrefix(file, "# transdb dump generation=1 records=13\n>>> 12 back /appl1 0 0\nPerlHandler: 'My::Application1'\n") {
		t.Errorf("file dump:\n%s", file)
	}
	jsonl := ok(t, "", "dump", "-db", db, "-format", "JSONL")
	if first, _, _ := strings.Cut(jsonl, "\n"); first != `{"key":"back","uri":"/appl1","block":0,"order":0,"action":"PerlHandler: 'My::Application1'","id":12}` {
		t.Errorf("jsonl dump: %s", first)
	}
	if n := strings.Count(jsonl, "\n"); n != 13 {
		t.Errorf("jsonl dump has %d lines, want 13", n)
	}
}

func TestLoadAddsClearReplacesAndGenerationGuards(t *testing.T) {
	db, table := exampleDB(t)
	if out := ok(t, "", "load", "-db", db, table); out != "loaded records=13 generation=2\n" {
		t.Errorf("second load: %q", out)
	}
	if out := ok(t, "", "stats", "-db", db); !strings.Contains(out, `"records":26`) {
		t.Errorf("after adding the table twice: %s", out)
	}
	// A dump edited while the database moved on is refused.
	r := transdbd(t, "", "load", "-db", db, "-clear", "-generation", "1", table)
	wantError(t, r, 1, "transdbd load: ", `generation 1, the database is at 2: generation mismatch`)
	// Flags after the input work too.
	if out := ok(t, "", "load", "-db", db, table, "-clear", "-generation", "2"); out != "loaded records=13 generation=3\n" {
		t.Errorf("load -clear: %q", out)
	}
	if out := ok(t, "", "stats", "-db", db); !strings.Contains(out, `"records":13`) {
		t.Errorf("after load -clear: %s", out)
	}
	// The file format has no notes; its records load all the same.
	file := ok(t, "", "dump", "-db", db, "-format", "file")
	if out := ok(t, file, "load", "-db", db, "-format", "file", "-clear", "-"); out != "loaded records=13 generation=4\n" {
		t.Errorf("load -format file: %q", out)
	}
	ok(t, "", "diff", "-db", db, table)
}

func TestBaseKeyForms(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "trans.mmdb")
	table := writeFile(t, dir, "t.txt", string(exampleTable))
	ok(t, "", "load", "-db", db, "-basekey", "[qw/trans db/]", table)
	one := `{"key":"k","uri":"/u","block":0,"order":0,"action":"a"}` + "\n"
	ok(t, one+one, "load", "-db", db, "-basekey", "other", "-format", "jsonl", "-")
	ok(t, one, "load", "-db", db, "-format", "jsonl", "-")
	for _, c := range []struct {
		basekey []string
		records string
	}{
		{nil, `"records":1`}, // no -basekey: the top of the file
		{[]string{""}, `"records":1`},
		{[]string{"[]"}, `"records":1`},
		{[]string{"[qw//]"}, `"records":1`},
		{[]string{"trans", "db"}, `"records":13`},
		{[]string{"[qw/trans db/]"}, `"records":13`},
		{[]string{`["trans","db"]`}, `"records":13`},
		{[]string{" [ 'trans', qw(db) ] "}, `"records":13`},
		{[]string{"other"}, `"records":2`},
		{[]string{`["other"]`}, `"records":2`},
	} {
		args := []string{"stats", "-db", db}
		for _, b := range c.basekey {
			args = append(args, "-basekey", b)
		}
		r := transdbd(t, "", args...)
		if r.code != 0 || !strings.Contains(r.stdout, c.records) {
			t.Errorf("%q: exit %d, stdout %s, stderr %s; want %s", args, r.code, r.stdout, r.stderr, c.records)
		}
	}
}

func TestDiffExitStatusAndLines(t *testing.T) {
	db, table := exampleDB(t)
	dir := t.TempDir()
	// The same table as a database and as text: no difference.
	r := transdbd(t, "", "diff", "-db", db, table)
	if r.code != 0 || r.stdout != "" || r.stderr != "" {
		t.Fatalf("diff of the same table: exit %d, %q, %q", r.code, r.stdout, r.stderr)
	}
	// An edited dump: one action changed, one record removed (and the
	// count of the dump comment corrected), a note added.
	dump := ok(t, "", "dump", "-db", db)
	edited := strings.Replace(dump, " records=13 ", " records=12 ", 1)
	edited = strings.Replace(edited, "action> PerlHandler: 'My::Application2'\n", "action> PerlHandler: 'My::Application3'\n", 1)
	edited = strings.Replace(edited, strings.Repeat("#", 70)+"\nfront & /appl2 0/0/8\naction> Proxy: 'http://backend/'.$URI.'?l='.$CTX{lang}\n", "", 1)
	edited = strings.Replace(edited, "action> File: $DOCROOT.'/'.$CTX{lang}.$MATCHED_PATH_INFO\n", "action> File: $DOCROOT.'/'.$CTX{lang}.$MATCHED_PATH_INFO\nnote> static files\n", 1)
	other := writeFile(t, dir, "edited.txt", edited)
	want := `- {"key":"back","uri":"/appl2","block":0,"order":0,"action":"PerlHandler: 'My::Application2'"}
+ {"key":"back","uri":"/appl2","block":0,"order":0,"action":"PerlHandler: 'My::Application3'"}
- {"key":"front","uri":"/appl2","block":0,"order":0,"action":"Proxy: 'http://backend/'.$URI.'?l='.$CTX{lang}"}
- {"key":"front","uri":"/static","block":0,"order":0,"action":"File: $DOCROOT.'/'.$CTX{lang}.$MATCHED_PATH_INFO"}
+ {"key":"front","uri":"/static","block":0,"order":0,"action":"File: $DOCROOT.'/'.$CTX{lang}.$MATCHED_PATH_INFO","note":"static files"}
`
	r = transdbd(t, "", "diff", "-db", db, other)
	if r.code != 1 || r.stdout != want || r.stderr != "" {
		t.Errorf("diff: exit %d, stderr %q, stdout:\n%s\nwant:\n%s", r.code, r.stderr, r.stdout, want)
	}
	// Filters, given after OTHER; and the edited table as a database.
	db2 := filepath.Join(dir, "edited.mmdb")
	ok(t, "", "load", "-db", db2, other)
	r = transdbd(t, "", "diff", "-db", db, db2, "-key", "back")
	if r.code != 1 || r.stdout != strings.Join(strings.SplitAfter(want, "\n")[:2], "") {
		t.Errorf("diff -key back: exit %d, stdout:\n%s", r.code, r.stdout)
	}
	r = transdbd(t, "", "diff", "-db", db, "-uri", "/appl1", db2)
	if r.code != 0 || r.stdout != "" {
		t.Errorf("diff -uri /appl1: exit %d, stdout:\n%s", r.code, r.stdout)
	}
	r = transdbd(t, edited, "diff", "-db", db, "-key", "front", "-uri", "/appl2", "-")
	if r.code != 1 || r.stdout != strings.SplitAfter(want, "\n")[2] {
		t.Errorf("diff -key front -uri /appl2 -: exit %d, stdout:\n%s", r.code, r.stdout)
	}
	// Every error is exit status 2.
	wantError(t, transdbd(t, "", "diff", "-db", db, filepath.Join(dir, "nothing")), 2, "transdbd diff: ", `no such file`)
	wantError(t, transdbd(t, "{not json\n", "diff", "-db", db, "-format", "jsonl", "-"), 2, "transdbd diff: ", `line 1`)
	wantError(t, transdbd(t, "", "diff", "-db", filepath.Join(dir, "nothing"), table), 2, "transdbd diff: ", `no such file`)
}

func TestBackupAndRestore(t *testing.T) {
	db, table := exampleDB(t)
	original := ok(t, "", "dump", "-db", db, "-format", "jsonl")

	if out := ok(t, "", "backup", "-db", db); out != "backup "+db+".BACKUP generation=1\n" {
		t.Errorf("backup: %q", out)
	}
	named := filepath.Join(t.TempDir(), "named.mmdb")
	if out := ok(t, "", "backup", "-db", db, named); out != "backup "+named+" generation=1\n" {
		t.Errorf("backup PATH: %q", out)
	}
	ok(t, "", "verify", "-db", named)

	ok(t, "", "load", "-db", db, "-clear", table)
	ok(t, "", "load", "-db", db, table)
	if out := ok(t, "", "restore", "-db", db, db+".BACKUP"); out != "restored "+db+" generation=4\n" {
		t.Errorf("restore: %q", out)
	}
	if got := ok(t, "", "dump", "-db", db, "-format", "jsonl"); got != original {
		t.Errorf("restored table:\n%s\nwant:\n%s", got, original)
	}
	// A restore into a database that does not exist yet creates it.
	fresh := filepath.Join(t.TempDir(), "fresh.mmdb")
	ok(t, "", "restore", "-db", fresh, named)
	if got := ok(t, "", "dump", "-db", fresh, "-format", "jsonl"); got != original {
		t.Errorf("restored into a new file:\n%s\nwant:\n%s", got, original)
	}
}

func TestVerify(t *testing.T) {
	db, _ := exampleDB(t)
	out := ok(t, "", "verify", "-db", db)
	if !strings.HasPrefix(out, db+fmt.Sprintf(": ok, format=%d generation=1 stored_records=13 bytes=", mmapdb.FormatVersion)) {
		t.Errorf("verify: %q", out)
	}
	// One byte flipped in the body: the checksum catches it.
	data, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(data, []byte("My::Application1"))
	if i < 0 {
		t.Fatal("no action text in the file")
	}
	data[i] ^= 0x20
	corrupt := writeFile(t, t.TempDir(), "corrupt.mmdb", string(data))
	r := transdbd(t, "", "verify", "-db", corrupt)
	wantError(t, r, 1, "transdbd verify: "+corrupt+": ", `corrupt database file.*checksum|checksum.*corrupt database file`)
	if r.stdout != "" {
		t.Errorf("stdout %q", r.stdout)
	}
	// A truncated file is refused on open.
	trunc := writeFile(t, t.TempDir(), "trunc.mmdb", string(data[:len(data)/2]))
	wantError(t, transdbd(t, "", "verify", "-db", trunc), 1, "transdbd verify: ", `corrupt database file`)
}

func TestProgressRewritesOneLineAndClearsIt(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, what: "loading", interval: 0}
	c := &countingReader{r: strings.NewReader(strings.Repeat("x", 3000)), total: 3000, p: p}
	b := make([]byte, 1024)
	for {
		if _, err := c.Read(b); err != nil {
			break
		}
	}
	p.count(5, 10, "records")
	p.done()
	want := "\rloading 1.0 KiB of 2.9 KiB (34%)" +
		"\rloading 2.0 KiB of 2.9 KiB (68%)" +
		"\rloading 2.9 KiB of 2.9 KiB (100%)" +
		"\rloading 2.9 KiB of 2.9 KiB (100%)" + // the read that gives EOF
		"\rloading 5 of 10 records (50%)    " +
		"\r" + strings.Repeat(" ", len("loading 5 of 10 records (50%)")) + "\r"
	if buf.String() != want {
		t.Errorf("progress output %q\nwant %q", buf.String(), want)
	}
	// Not on a terminal: nothing at all.
	quiet := newProgress(&env{stderr: &buf}, "loading")
	buf.Reset()
	quiet.bytes(1, 2)
	quiet.done()
	if buf.Len() != 0 {
		t.Errorf("progress without a terminal wrote %q", buf.String())
	}
	// And it is throttled.
	slow := &progress{w: &buf, what: "x", interval: time.Hour}
	slow.count(1, 0, "records")
	slow.count(2, 0, "records")
	if buf.String() != "\rx 1 records" {
		t.Errorf("throttled progress wrote %q", buf.String())
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB",
		20 << 20: "20.0 MiB", 3 << 30: "3.0 GiB",
	} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestFlagsMayFollowArgumentsUntilDoubleDash(t *testing.T) {
	db, _ := exampleDB(t)
	before := ok(t, "", "fetch", "-db", db, "-notes", "front", "/static")
	if after := ok(t, "", "fetch", "front", "/static", "-notes", "-db", db); after != before {
		t.Errorf("flags after the arguments: %s, want %s", after, before)
	}
	if mixed := ok(t, "", "fetch", "front", "-db", db, "/static", "-notes"); mixed != before {
		t.Errorf("flags between the arguments: %s, want %s", mixed, before)
	}
	// After --, everything is an argument: here the uri "-notes".
	out := ok(t, "", "fetch", "-db", db, "--", "front", "-notes")
	if out != `{"key":"front","uri":"-notes","generation":1,"blocks":[]}`+"\n" {
		t.Errorf("fetch -- front -notes: %s", out)
	}
}

func TestNoBaseKeyMeansTheTopOfTheFileAsInTheGoAPI(t *testing.T) {
	db, _ := exampleDB(t)
	p, err := translation.New(translation.Options{FileName: db, ReadOnly: true, CheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	blocks, err := p.Fetch("front", "/static", false)
	if err != nil || len(blocks) != 1 {
		t.Fatalf("the Go API without BaseKey fetched %v, %v from what the CLI loaded without -basekey", blocks, err)
	}
	// A configuration without BaseKey serves the same table.
	cfg := writeFile(t, t.TempDir(), "transdb.conf", "TranslationProvider MMapDB filename="+db+"\n")
	if out := ok(t, "", "fetch", "-config", cfg, "front", "/static"); out != ok(t, "", "fetch", "-db", db, "front", "/static") {
		t.Errorf("fetch -config %s", out)
	}
}

func TestConfigFlagWorksOnWhatTheDaemonServes(t *testing.T) {
	dir := t.TempDir()
	table := writeFile(t, dir, "example.txt", string(exampleTable))
	db := filepath.Join(dir, "t.mmdb")
	other := filepath.Join(dir, "other.mmdb")
	cfg := writeFile(t, t.TempDir(), "transdb.conf", `Listen 127.0.0.1:0
TranslationKey front
<TranslationProvider MMapDB>
    FileName t.mmdb
    Root     `+dir+`
</TranslationProvider>
TranslationProvider MMapDB basekey="[qw/trans archive/]" readonly=1
TranslationProvider MMapDB basekey=empty
TranslationProvider MMapDB filename=`+other+` basekey=x
`)
	// load goes to the configured table, read-only for the daemon or not.
	ok(t, "", "load", "-config", cfg, table)
	ok(t, "", "load", "-config", cfg, "-basekey", "[qw/trans archive/]", table)
	ok(t, "", "load", table, "-basekey", "[qw/trans archive/]", "-config", cfg)
	ok(t, "", "load", "-config", cfg, "-basekey", "x", table)
	for _, c := range []struct {
		args    []string
		records string
	}{
		{[]string{"-db", db}, `"records":13,`},
		{[]string{"-db", db, "-basekey", "trans", "-basekey", "archive"}, `"records":26,`},
		{[]string{"-db", other, "-basekey", "x"}, `"records":13,`},
		{[]string{"-config", cfg}, `"records":13,`},
		{[]string{"-config", cfg, "-basekey", `["trans","archive"]`}, `"records":26,`},
		{[]string{"-config", cfg, "-basekey", "x"}, `"records":13,`},
		// A configured table without records is an empty table.
		{[]string{"-config", cfg, "-basekey", "empty"}, `"records":0,`},
	} {
		if out := ok(t, "", append([]string{"stats"}, c.args...)...); !strings.Contains(out, c.records) {
			t.Errorf("stats %q: %s, want %s", c.args, out, c.records)
		}
	}
	if out := ok(t, "", "verify", "-config", cfg, "-basekey", "x"); !strings.HasPrefix(out, other+": ok,") {
		t.Errorf("verify -config -basekey x: %s", out)
	}
	if out := ok(t, "", "backup", "-config", cfg); out != "backup "+db+".BACKUP generation=3\n" {
		t.Errorf("backup -config: %q", out)
	}
	if out := ok(t, "", "diff", "-config", cfg, "-basekey", "x", table); out != "" {
		t.Errorf("diff -config -basekey x: %q", out)
	}

	wantError(t, transdbd(t, "", "dump", "-config", cfg, "-basekey", "nope"), 1, "transdbd dump: ",
		`^transdbd dump: -basekey \["nope"\] matches no provider of .*transdb.conf; its providers have the base keys \[\] \(line 3\), \["trans","archive"\] \(line 7\), \["empty"\] \(line 8\), \["x"\] \(line 9\)\n$`)
	wantError(t, transdbd(t, "", "verify", "-config", cfg, "-basekey", "nope"), 1, "transdbd verify: ", `-basekey \["nope"\] matches no provider`)
	bad := writeFile(t, dir, "bad.conf", "TranslationProvider MMapDB filename=x basekey=[qw/a\n")
	wantError(t, transdbd(t, "", "dump", "-config", bad), 1, "transdbd dump: ", `bad\.conf:1: BaseKey: .*list without its closing \]`)
	wantError(t, transdbd(t, "", "dump", "-config", filepath.Join(dir, "none.conf")), 1, "transdbd dump: ", `none\.conf: no such file`)

	// The daemon serves what the commands see.
	d := startDaemon(t, nil, "serve", "-config", cfg)
	for _, c := range []struct {
		path string
		args []string
	}{
		{"/v1/dump", []string{"dump", "-config", cfg}},
		{"/v1/dump?format=jsonl&basekey=trans&basekey=archive", []string{"dump", "-config", cfg, "-format", "jsonl", "-basekey", "trans", "-basekey", "archive"}},
		{"/v1/fetch?key=front&uri=/static&basekey=x", []string{"fetch", "-config", cfg, "-basekey", "x", "front", "/static"}},
	} {
		code, body := d.get(t, c.path)
		if want := ok(t, "", c.args...); code != 200 || body != want {
			t.Errorf("GET %s: %d\n%s\ntransdbd %q:\n%s", c.path, code, body, c.args, want)
		}
	}
}

func TestMissingBaseKeyFailsNamingTheFilesBaseKeys(t *testing.T) {
	dir := t.TempDir()
	table := writeFile(t, dir, "example.txt", string(exampleTable))
	db := filepath.Join(dir, "trans.mmdb")
	ok(t, "", "load", "-db", db, "-basekey", "[qw/trans db/]", table)
	ok(t, "", "load", "-db", db, "-basekey", "other", table)
	// A database without any table, and one where a table was cleared.
	empty := filepath.Join(dir, "empty.mmdb")
	ok(t, "", "load", "-db", empty, "-")
	cleared := filepath.Join(dir, "cleared.mmdb")
	ok(t, "", "load", "-db", cleared, table)
	ok(t, "", "load", "-db", cleared, "-clear", "-empty", "-")

	const keys = `it has tables under the base keys \["other"\], \["trans","db"\] \(select one with -basekey\)\n$`
	for _, c := range []struct {
		args    []string
		pattern string
	}{
		{[]string{"stats", "-db", db, "-basekey", "nope"}, `^transdbd stats: .*/trans\.mmdb has no table under base key \["nope"\]; ` + keys},
		{[]string{"dump", "-db", db, "-basekey", "nope"}, `^transdbd dump: .*/trans\.mmdb has no table under base key \["nope"\]; ` + keys},
		{[]string{"fetch", "-db", db, "-basekey", "trans", "front", "/"}, `has no table under base key \["trans"\]; ` + keys},
		{[]string{"resolve", "-db", db, "-basekey", "trans", "-basekey", "dbx", "front", "/"}, `has no table under base key \["trans","dbx"\]; ` + keys},
		{[]string{"diff", "-db", db, "-basekey", "nope", table}, `has no table under base key \["nope"\]; ` + keys},
		{[]string{"stats", "-db", db}, `has no table at the top of the file \(base key \[\]\); ` + keys},
		{[]string{"stats", "-db", empty, "-basekey", "nope"}, `empty\.mmdb has no table under base key \["nope"\]; it holds no table at all\n$`},
		{[]string{"stats", "-db", cleared, "-basekey", "trans"}, `cleared\.mmdb has no table under base key \["trans"\]; it holds no table at all\n$`},
	} {
		r := transdbd(t, "", c.args...)
		code := 1
		if c.args[0] == "diff" {
			code = 2
		}
		wantError(t, r, code, "transdbd "+c.args[0]+": ", c.pattern)
		if r.stdout != "" {
			t.Errorf("%q printed %q", c.args, r.stdout)
		}
	}
	// Diff refuses another database without the table too.
	wantError(t, transdbd(t, "", "diff", "-db", db, "-basekey", "other", cleared), 2, "transdbd diff: ", `cleared\.mmdb has no table under base key \["other"\]`)

	// The top of a database without tables is an empty table, as is a
	// new table a load creates.
	for _, args := range [][]string{
		{"stats", "-db", empty},
		{"dump", "-db", cleared},
		{"fetch", "-db", empty, "-basekey", "", "front", "/"},
		{"diff", "-db", empty, cleared},
	} {
		ok(t, "", args...)
	}
	if out := ok(t, "", "load", "-db", db, "-basekey", "new", table); out != "loaded records=13 generation=3\n" {
		t.Errorf("load into a new base key: %q", out)
	}
	if out := ok(t, "", "stats", "-db", db, "-basekey", "new"); !strings.Contains(out, `"records":13,`) {
		t.Errorf("stats of the new base key: %s", out)
	}
}

func TestKeysAndURIsTheHTTPAPIRefusesAreUsageErrors(t *testing.T) {
	db, _ := exampleDB(t)
	for _, c := range []struct {
		args    []string
		pattern string
	}{
		{[]string{"fetch", "-db", db, "", "/"}, `empty key`},
		{[]string{"fetch", "-db", db, "front", ""}, `empty uri`},
		{[]string{"fetch", "-db", db, "fr ont", "/"}, `key "fr ont" contains white space`},
		{[]string{"fetch", "-db", db, "front", "/a\tb"}, `uri "/a\\tb" contains white space`},
		{[]string{"fetch", "-db", db, "front", "/a\n"}, `uri "/a\\n" contains white space`},
		{[]string{"fetch", "-db", db, "front", "/\u00a0"}, `contains white space`},
		{[]string{"fetch", "-db", db, "front", "/\xff"}, `uri "/\\xff" is not valid UTF-8`},
		{[]string{"resolve", "-db", db, "", "/"}, `empty key`},
		{[]string{"resolve", "-db", db, "front", "/a b"}, `uri "/a b" contains white space`},
		{[]string{"resolve", "-db", db, "front", "static"}, `uri "static" must start with / or be \*`},
		{[]string{"resolve", "-db", db, "front", ":PRE:"}, `uri ":PRE:" must start with / or be \*`},
	} {
		r := transdbd(t, "", c.args...)
		wantError(t, r, 2, "transdbd "+c.args[0]+": ", c.pattern+`.* \(see transdbd `+c.args[0]+` -h\)\n$`)
		if r.stdout != "" {
			t.Errorf("%q printed %q", c.args, r.stdout)
		}
	}
	// A NUL byte cannot be passed in a process's arguments; run's callers
	// could pass one.
	for _, name := range []string{"fetch", "resolve"} {
		var stdout, stderr bytes.Buffer
		code := run(&env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}, []string{name, "-db", db, "front", "/a\x00b"})
		if code != 2 || stdout.Len() != 0 || !strings.Contains(stderr.String(), `uri "/a\x00b" contains a NUL byte`) {
			t.Errorf("%s with a NUL byte: exit %d, stdout %q, stderr %q", name, code, stdout.String(), stderr.String())
		}
	}
	// Valid ones still work.
	ok(t, "", "resolve", "-db", db, "front", "*")
	ok(t, "", "fetch", "-db", db, "front", ":PRE:")
}

func TestJSONOutputKeepsHTMLCharacters(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "trans.mmdb")
	const action = `Do: $r->connection && <b>'1'</b>`
	rec := `{"key":"front","uri":"/x","block":0,"order":0,"action":"` + action + `","note":"a<b>&c"}`
	ok(t, rec+"\n", "load", "-db", db, "-format", "jsonl", "-")
	if out := ok(t, "", "dump", "-db", db, "-format", "jsonl"); out != strings.TrimSuffix(rec, "}")+`,"id":1}`+"\n" {
		t.Errorf("dump -format jsonl: %s", out)
	}
	r := transdbd(t, "", "diff", "-db", db, "-format", "jsonl", "-")
	if want := "- " + rec + "\n"; r.code != 1 || r.stdout != want {
		t.Errorf("diff: exit %d, %s, want %s", r.code, r.stdout, want)
	}
}

func TestFileErrorsSayWhatIsWrongNamingThePathOnce(t *testing.T) {
	dir := t.TempDir()
	db, table := exampleDB(t)
	notDB := writeFile(t, dir, "not.mmdb", "this is not a database file, but long enough to hold a header of one if it were one....................................................................................................................................")
	missing := filepath.Join(dir, "no", "such", "dir", "x.mmdb")
	isDir := regexp.QuoteMeta(dir) + ` is a directory, not a database file\n$`
	for _, c := range []struct {
		args    []string
		code    int
		path    string
		pattern string
	}{
		{[]string{"fetch", "-db", dir, "front", "/"}, 1, dir, isDir},
		{[]string{"dump", "-db", dir}, 1, dir, isDir},
		{[]string{"stats", "-db", dir}, 1, dir, isDir},
		{[]string{"load", "-db", dir, table}, 1, dir, isDir},
		{[]string{"diff", "-db", dir, table}, 2, dir, isDir},
		{[]string{"verify", "-db", dir}, 1, dir, isDir},
		{[]string{"backup", "-db", dir}, 1, dir, isDir},
		{[]string{"restore", "-db", dir, db}, 1, dir, isDir},
		{[]string{"restore", "-db", db, dir}, 1, dir, isDir},
		{[]string{"diff", "-db", db, dir}, 2, dir, `read .*: is a directory\n$`},
		{[]string{"stats", "-config", dir}, 1, dir, `is a directory, not a configuration file\n$`},
		{[]string{"fetch", "-db", notDB, "front", "/"}, 1, notDB, `not an mmapdb database file`},
		{[]string{"verify", "-db", notDB}, 1, notDB, `not an mmapdb database file`},
		{[]string{"dump", "-db", missing}, 1, missing, `no such file or directory\n$`},
		{[]string{"load", "-db", missing, table}, 1, missing, `cannot create .*x\.mmdb: .*no such file or directory\n$`},
	} {
		r := transdbd(t, "", c.args...)
		wantError(t, r, c.code, "transdbd "+c.args[0]+": ", c.pattern)
		if n := strings.Count(r.stderr, c.path); n != 1 {
			t.Errorf("%q: the error names %s %d times: %s", c.args, c.path, n, r.stderr)
		}
	}
}
