package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// decision is the part of the translate JSON the tests look at.
type decision struct {
	Generation uint64
	Key        string
	Status     int
	Location   string
	Message    string
	Proxy      string
	File       string
	Handler    string
	CTX        map[string]string
	Errors     []struct {
		ID    uint64
		Error string
	}
	Trace []struct{ ID uint64 }
}

func translateJSON(t *testing.T, args ...string) decision {
	t.Helper()
	out := ok(t, "", append([]string{"translate"}, args...)...)
	var d decision
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("translate %q: %v: %s", args, err, out)
	}
	return d
}

func TestTranslatePrintsTheDecision(t *testing.T) {
	db, _ := exampleDB(t)
	for _, tt := range []struct {
		args []string
		want decision
	}{
		{[]string{"-key", "front", "-docroot", "/var/www", "-host", "www.xyz.de", "/static/img.png"},
			decision{Key: "front", File: "/var/www/de/img.png", CTX: map[string]string{"lang": "de"}}},
		{[]string{"-key", "front", "-host", "www.example.org:8080", "-port", "8080", "/x"},
			decision{Key: "front", Status: 301, Location: "http://xyz.com/x"}},
		{[]string{"-key", "front", "-host", "www.xyz.com", "/appl1/x"},
			decision{Key: "front", Proxy: "http://backend/en/appl1/x", CTX: map[string]string{"lang": "en"}}},
		{[]string{"-key", "back", "-client-ip", "192.0.2.1", "/appl2"},
			decision{Key: "back", Status: 403, Message: "Forbidden by Apache2::Translation(11)"}},
		{[]string{"-key", "back", "-client-ip", "127.0.0.1", "-header", "Host: www.xyz.de", "/appl2/z"},
			decision{Key: "back", Handler: "My::Application2"}},
		{[]string{"-key", "front", "-host", "www.xyz.de", "static"},
			decision{Key: "front", Status: 400, Message: "BAD REQUEST: static"}},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			d := translateJSON(t, append([]string{"-db", db}, tt.args...)...)
			if d.Generation != 1 {
				t.Errorf("generation %d", d.Generation)
			}
			d.Generation, d.Errors, d.Trace = 0, nil, nil
			if len(d.CTX) == 0 {
				d.CTX = nil
			}
			if !equalDecision(d, tt.want) {
				t.Errorf("decision %+v, want %+v", d, tt.want)
			}
		})
	}
}

func equalDecision(a, b decision) bool {
	if len(a.CTX) != len(b.CTX) {
		return false
	}
	for k, v := range a.CTX {
		if b.CTX[k] != v {
			return false
		}
	}
	a.CTX, b.CTX = nil, nil
	return a.Key == b.Key && a.Status == b.Status && a.Location == b.Location && a.Message == b.Message &&
		a.Proxy == b.Proxy && a.File == b.File && a.Handler == b.Handler
}

func TestTranslateTakesKeyDocumentRootAndLimitsFromTheConfiguration(t *testing.T) {
	dir := t.TempDir()
	table := writeFile(t, dir, "example.txt", string(exampleTable))
	cfgText := `TranslationKey front
DocumentRoot /srv/www
<TranslationProvider MMapDB>
    FileName t.mmdb
    Root     ` + dir + `
</TranslationProvider>
`
	cfg := writeFile(t, dir, "transdb.conf", cfgText)
	ok(t, "", "load", "-config", cfg, table)
	d := translateJSON(t, "-config", cfg, "-host", "www.xyz.com", "/static/a.css")
	if d.File != "/srv/www/en/a.css" || d.Key != "front" {
		t.Errorf("decision %+v, want the file under /srv/www from the key front", d)
	}
	d = translateJSON(t, "-config", cfg, "-docroot", "/elsewhere", "-host", "www.xyz.com", "-trace", "/static/a.css")
	if d.File != "/elsewhere/en/a.css" || len(d.Trace) != 7 {
		t.Errorf("decision %+v, want -docroot to win and a trace of 7 steps", d)
	}
	// The limits too: the daemon would answer 500 past them.
	limited := writeFile(t, dir, "limited.conf", "MaxRows 2\n"+cfgText)
	d = translateJSON(t, "-config", limited, "-host", "www.xyz.com", "/static/a.css")
	if d.Status != 500 || len(d.Errors) != 1 || !strings.Contains(d.Errors[0].Error, "more than 2 rows walked") {
		t.Errorf("decision %+v, want the configuration's MaxRows to end it", d)
	}
}

func TestTranslateUsageErrors(t *testing.T) {
	db, _ := exampleDB(t)
	for _, args := range [][]string{
		{"translate", "-db", db},
		{"translate", "-db", db, "/a", "/b"},
		{"translate", "-db", db, "-port", "70000", "/a"},
		{"translate", "-db", db, "-scheme", "ftp", "/a"},
		{"translate", "-db", db, "-header", "NoColon", "/a"},
		{"translate", "-db", db, ""},
		// What GET /v1/translate refuses with 400.
		{"translate", "-db", db, "-key", "a b", "/a"},
		{"translate", "-db", db, "-key", "", "/a"},
		{"translate", "-db", db, "-port", "0", "/a"},
		{"translate", "-db", db, "-port", "+80", "/a"},
		{"translate", "-db", db, "-client-ip", "bogus", "/a"},
		{"translate", "-db", db, "-method", "G T", "/a"},
		{"translate", "-db", db, "-header", "Host : h.example", "/a"},
		{"translate", "-db", db, "-header", "X A: v", "/a"},
		{"translate", "-db", db, "-host", "a\nb", "/a"},
		{"translate", "-db", db, "/a\x01b"},
	} {
		wantError(t, transdbd(t, "", args...), 2, "transdbd translate: ", ".")
	}
	// The flag and what is wrong with it, in the words of the parameter's
	// 400 answer.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-key", ""}, `for flag -key: key "": is empty`},
		{[]string{"-key", "a b"}, `for flag -key: key "a b": contains white space`},
		{[]string{"-port", "0"}, `for flag -port: port "0": not a port number 1..65535`},
	} {
		r := transdbd(t, "", append(append([]string{"translate", "-db", db}, c.args...), "/a")...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", c.args, r.code, r.stderr, c.want)
		}
	}
}

func TestCheckListsRowsTheEngineCannotEvaluate(t *testing.T) {
	db, _ := exampleDB(t)
	if out := ok(t, "", "check", "-db", db); out != "" {
		t.Errorf("check of the example table: %q, want nothing", out)
	}
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.txt", `######################################################################
k & / 0/0
action> Do: require Foo
######################################################################
k & / 0/1
action> Do: $CTX{a}='fine'
######################################################################
k & / 0/2
action> Cond: (1 eq
######################################################################
k & / 0/3
action> Frobnicate: 1
`)
	other := filepath.Join(dir, "bad.mmdb")
	ok(t, "", "load", "-db", other, bad)
	r := transdbd(t, "", "check", "-db", other)
	wantError(t, r, 1, "transdbd check: ", "3 rows the engine cannot evaluate")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("check printed %q, want three lines", r.stdout)
	}
	var f struct {
		Order       uint32
		Action      string
		Error       string
		Unsupported bool
	}
	for i, want := range []struct {
		order       uint32
		unsupported bool
	}{{0, true}, {2, false}, {3, false}} {
		if err := json.Unmarshal([]byte(lines[i]), &f); err != nil {
			t.Fatal(err)
		}
		if f.Order != want.order || f.Unsupported != want.unsupported || f.Error == "" {
			t.Errorf("line %d: %+v, want order %d, unsupported %v", i, f, want.order, want.unsupported)
		}
	}
}
