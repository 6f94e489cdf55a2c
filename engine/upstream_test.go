package engine_test

import (
	"fmt"
	"reflect"
	"testing"

	"transdb/engine"
)

// The cases of Apache2::Translation's own test suite that the engine can
// reproduce outside Apache (EVALUATION.md section 3: those marked [EVAL]
// and [OUTCOME]), each with its table, its request and the decision
// fields the upstream test observes.

// appendNote is APPEND(x): the Do action that appends " x" to note t.
func appendNote(x string) string {
	return fmt.Sprintf(`Do: $r->notes->{t}=$r->notes->{t}." %s"`, x)
}

// states010 are the rows every case of t/010states.t has: init, the
// handler, then a switch to key k.
var states010 = []tableRow{
	tableRow(`default | :PRE: | 0 | 1 | ` + appendNote("init") + `;`),
	`default | :PRE: | 0 | 2 | PerlHandler: 'My::Handler'`,
	`default | :PRE: | 0 | 3 | Key: 'k'`,
}

// body010 is what My::Handler prints: note t without its first
// character.
func body010(d *engine.Decision) string {
	t := note(d, "t")
	if len(t) == 0 || t[0] == "" {
		return ""
	}
	return t[0][1:]
}

func row(key, uri string, block, order int, action string) tableRow {
	return tableRow(fmt.Sprintf("%s | %s | %d | %d | %s", key, uri, block, order, action))
}

func TestUpstream010States(t *testing.T) {
	uriRows := []tableRow{row("k", "/", 0, 0, appendNote("/")), row("k", "/uri", 0, 0, appendNote("/uri"))}
	stateRows := []tableRow{
		row("k", ":PRE:", 0, 0, appendNote("pre0")), row("k", ":PRE:", 0, 1, "State: 'DONE'"),
		row("k", ":PRE:", 0, 2, "Last"), row("k", ":PRE:", 1, 0, appendNote("pre1")),
		row("k", "/", 0, 0, appendNote("uri")), row("k", "/uri", 0, 0, appendNote("uri2")),
	}
	callRows := []tableRow{
		row("k", "/", 0, 0, appendNote("/:before")), row("k", "/", 0, 1, "Call: ':CALL:'"),
		row("k", "/", 0, 2, appendNote("/:after")),
		row("k", "/uri", 0, 0, appendNote("/uri:before")), row("k", "/uri", 0, 1, "Call: ':CALL:'"),
		row("k", "/uri", 0, 2, appendNote("/uri:after")),
		row("k", ":CALL:", 0, 0, appendNote("c1")), row("k", ":CALL:", 0, 1, "Cond: 0"),
		row("k", ":CALL:", 0, 2, appendNote("c2")), row("k", ":CALL:", 1, 0, appendNote("c3")),
		row("k", ":CALL:", 1, 1, appendNote("c4")),
	}
	redirect := `'http://'.join(':', $r->get_server_name, $r->get_server_port)`
	for _, tt := range []struct {
		name     string
		rows     []tableRow
		method   string
		uri      string
		body     string // note t without its first character
		status   int
		location string
	}{
		{"1 key change during :PRE:", []tableRow{row("k", ":PRE:", 0, 0, appendNote("pre"))}, "", "/", "init pre", 0, ""},
		{"2 normal processing", uriRows, "", "/", "init /", 0, ""},
		{"3 the walk", uriRows, "", "/uri", "init /uri /", 0, ""},
		{"4 the walk past a missing uri", uriRows, "", "/uri/klaus", "init /uri /", 0, ""},
		{"5 only /", uriRows, "", "/klaus", "init /", 0, ""},
		{"6 a false Cond skips the rest of its block only", []tableRow{
			row("k", ":PRE:", 0, 0, appendNote("0_0")), row("k", ":PRE:", 0, 1, "Cond: 0"),
			row("k", ":PRE:", 0, 2, appendNote("0_2")), row("k", ":PRE:", 1, 0, appendNote("1_0")),
		}, "", "/", "init 0_0 1_0", 0, ""},
		{"9 Done ends PREPROC early", []tableRow{
			row("k", ":PRE:", 0, 0, appendNote("pre0")), row("k", ":PRE:", 0, 1, "Done"),
			row("k", ":PRE:", 1, 0, appendNote("pre1")), row("k", "/", 0, 0, appendNote("uri")),
		}, "", "/", "init pre0 uri", 0, ""},
		{"10 State DONE and Last", stateRows, "", "/", "init pre0", 0, ""},
		{"11 State DONE and Last, longer uri", stateRows, "", "/uri", "init pre0", 0, ""},
		{"14 Done ends PROC", []tableRow{
			row("k", "/", 0, 0, appendNote("/")), row("k", "/uri", 0, 0, appendNote("/uri")),
			row("k", "/uri", 0, 1, "Done"),
		}, "", "/uri", "init /uri", 0, ""},
		{"15 Call", callRows, "", "/uri", "init /uri:before c1 c3 c4 /uri:after /:before c1 c3 c4 /:after", 0, ""},
		{"19 Redirect, default code", []tableRow{row("k", "/", 0, 0, "Redirect: "+redirect+".'/redirect1'")},
			"", "/", "init", 302, "http://www.example.org:80/redirect1"},
		{"20 Redirect with a code", []tableRow{row("k", "/uri", 0, 0, "Redirect: "+redirect+".'/redirect2', 303")},
			"", "/uri", "init", 303, "http://www.example.org:80/redirect2"},
		{"21 Redirect whose expression dies", []tableRow{row("k", "/error", 0, 0, `Redirect: die "ERROR"`)},
			"", "/error", "init", 500, ""},
		{"22 Error", []tableRow{row("k", "/404", 0, 0, "Error: 404, 'this appears in the error_log'")},
			"", "/404", "init", 404, ""},
		{"24 OPTIONS *", uriRows, "OPTIONS", "*", "init", 0, ""},
		{"25 OPTIONS /", uriRows, "OPTIONS", "/", "init /", 0, ""},
		{"26 bad request uri", uriRows, "OPTIONS", "hallo", "", 400, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := newTable(t, append(append([]tableRow{}, states010...), tt.rows...)...)
			e := engine.New(p, engine.Options{})
			req := get(tt.uri)
			req.Method = tt.method
			d := translate(t, e, req)
			if got := body010(d); got != tt.body {
				t.Errorf("body %q, want %q", got, tt.body)
			}
			if d.Status != tt.status || d.Location != tt.location {
				t.Errorf("status %d location %q, want %d %q", d.Status, d.Location, tt.status, tt.location)
			}
			if tt.status == 0 && d.Handler != "My::Handler" {
				t.Errorf("handler %q, want My::Handler", d.Handler)
			}
		})
	}
}

func TestUpstream010ErrorMessages(t *testing.T) {
	p := newTable(t, append(append([]tableRow{}, states010...),
		row("k", "/404", 0, 0, "Error: 404, 'this appears in the error_log'"),
		row("k", "/error", 0, 0, `Redirect: die "ERROR"`))...)
	e := engine.New(p, engine.Options{})
	d := translate(t, e, get("/404"))
	if d.Message != "this appears in the error_log" {
		t.Errorf("Error message %q", d.Message)
	}
	// 21: the eval error and "location not set", both reported.
	d = translate(t, e, get("/error"))
	if len(d.Errors) != 2 {
		t.Fatalf("errors %+v, want the die and the missing location", d.Errors)
	}
	if d.Errors[1].Error != "Action REDIRECT: location not set" {
		t.Errorf("second error %q", d.Errors[1].Error)
	}
}

// The rows of t/011directives.t that the reproducible cases use, after
// the header rows G1 and G2.
var directives011 = []tableRow{
	`default | :PRE: | 0 | 1 | Config: 'ErrorDocument 404 /error'`,
	`default | :PRE: | 0 | 2 | Key: 'k'`,
	`k | /alias | 0 | 0 | Uri: '/ALIAS'.$MATCHED_PATH_INFO`,
	`k | /cgi | 0 | 0 | Cgiscript`,
	`k | /cgi | 0 | 1 | File: $r->document_root.$MATCHED_PATH_INFO`,
	`k | /cgi4 | 0 | 0 | Cgiscript: $r->document_root.$MATCHED_PATH_INFO`,
	`k | /perl | 0 | 0 | Perlscript`,
	`k | /perl | 0 | 1 | File: $r->document_root.$MATCHED_PATH_INFO`,
	`k | /perl4 | 0 | 0 | Perlscript: $r->document_root.$MATCHED_PATH_INFO`,
	`k | /tsthnd | 0 | 0 | Perlhandler: 'TestHandler'`,
	`k | /tstm | 0 | 0 | Perlhandler: 'TestModule'`,
	`k | /tstp | 0 | 0 | Perlhandler: 'TestHandler::pathinfo'`,
	`k | /proxy | 0 | 0 | Proxy: 'http://'.join(':', $r->get_server_name, $r->get_server_port).'/tstp'.$MATCHED_PATH_INFO`,
	`k | /cgi2 | 0 | 0 | Config: 'AllowOverride AuthConfig', 'Options FollowSymLinks'`,
	`k | /cgi2 | 0 | 1 | Config: 'SetHandler cgi-script'`,
	`k | /cgi2 | 0 | 2 | File: $r->document_root.$MATCHED_PATH_INFO`,
	`k | /error | 0 | 0 | Redirect: '/tsthnd'`,
	`k | /call | 0 | 0 | Call: qw!sub 1!`,
	`k | sub | 0 | 0 | Do: $r->notes->{n1}=$ARGV[0]`,
	`k | sub | 0 | 1 | Perlhandler: sub { my $r=shift; $r->print($r->notes->{n1}."/".$r->notes->{n2}); 0 }`,
	`* | sub | 0 | 0 | Do: $r->notes->{n2}=$ARGV[0]`,
	`* | sub | 0 | 1 | Perlhandler: sub { my $r=shift; $r->print($r->notes->{n1}."/".$r->notes->{n2}); 0 }`,
	`k | /fixup | 0 | 0 | Perlhandler: sub { my $r=shift; $r->print(join " ", $r->notes->get("fixup_add")); 0 }`,
	`k | /fixup | 0 | 1 | Fixup: $r->notes->add("fixup_add", "1")`,
	`k | /fixup | 0 | 2 | Fixup: $r->notes->add("fixup_add", "2")`,
	`k | /fixup | 0 | 3 | Fixup: $r->notes->add("fixup_add", "3")`,
	`k | /html | 0 | 0 | Doc: 'text/html', 'HTML'`,
}

func TestUpstream011Directives(t *testing.T) {
	p := newTable(t, directives011...)
	e := engine.New(p, engine.Options{DocumentRoot: "/srv/www"})
	type want struct {
		status              int
		location, file, uri string
		handler, proxy      string
		pathInfo            string
		config, fixupConfig [][2]string
		doc                 *engine.Doc
	}
	errorDoc := func(uri string) [2]string { return [2]string{uri, "ErrorDocument 404 /error"} }
	for _, tt := range []struct {
		name string
		uri  string
		want want
	}{
		{"1 nothing matches: declined", "/ok.html", want{uri: "/ok.html", pathInfo: "/ok.html",
			config: [][2]string{errorDoc("/ok.html")}}},
		{"2 Uri", "/alias/ok.html", want{uri: "/ALIAS/ok.html", pathInfo: "/alias/ok.html",
			config: [][2]string{errorDoc("/alias/ok.html")}}},
		{"4 Cgiscript then File", "/cgi/script.pl", want{uri: "/cgi/script.pl", file: "/srv/www/script.pl",
			handler: "cgi-script", pathInfo: "/script.pl",
			config: [][2]string{errorDoc("/cgi/script.pl")}, fixupConfig: [][2]string{{"", "Options +ExecCGI"}}}},
		{"5 Cgiscript with a file", "/cgi4/script.pl", want{uri: "/cgi4/script.pl", file: "/srv/www/script.pl",
			handler: "cgi-script", pathInfo: "/script.pl",
			config: [][2]string{errorDoc("/cgi4/script.pl")}, fixupConfig: [][2]string{{"", "Options +ExecCGI"}}}},
		{"6 Perlscript then File", "/perl/script.pl", want{uri: "/perl/script.pl", file: "/srv/www/script.pl",
			handler: "perl-script", pathInfo: "/script.pl", config: [][2]string{errorDoc("/perl/script.pl")},
			fixupConfig: [][2]string{{"", "Options ExecCGI"}, {"", "PerlOptions +ParseHeaders"}}}},
		{"7 Perlscript with a file", "/perl4/script.pl", want{uri: "/perl4/script.pl", file: "/srv/www/script.pl",
			handler: "perl-script", pathInfo: "/script.pl", config: [][2]string{errorDoc("/perl4/script.pl")},
			fixupConfig: [][2]string{{"", "Options ExecCGI"}, {"", "PerlOptions +ParseHeaders"}}}},
		{"8 Perlhandler", "/tsthnd", want{uri: "/tsthnd", handler: "TestHandler",
			config: [][2]string{errorDoc("/tsthnd")}}},
		{"9 Perlhandler of a module", "/tstm", want{uri: "/tstm", handler: "TestModule",
			config: [][2]string{errorDoc("/tstm")}}},
		{"11 path_info from the Perlhandler's row", "/tstp/path/info", want{uri: "/tstp/path/info",
			handler: "TestHandler::pathinfo", pathInfo: "/path/info", config: [][2]string{errorDoc("/tstp/path/info")}}},
		{"15 Proxy", "/proxy/path/info", want{uri: "/proxy/path/info", proxy: "http://www.example.org:80/tstp/path/info",
			pathInfo: "/path/info", config: [][2]string{errorDoc("/proxy/path/info")}}},
		{"16 Config at the matched uri", "/cgi2/script.pl", want{uri: "/cgi2/script.pl", file: "/srv/www/script.pl",
			pathInfo: "/script.pl", config: [][2]string{errorDoc("/cgi2/script.pl"),
				{"/cgi2", "AllowOverride AuthConfig"}, {"/cgi2", "Options FollowSymLinks"}, {"/cgi2", "SetHandler cgi-script"}}}},
		{"18 Redirect to a path", "/error", want{status: 302, location: "http://www.example.org/tsthnd", uri: "/error",
			pathInfo: "", config: [][2]string{errorDoc("/error")}}},
		{"25 Doc", "/html", want{uri: "/html", doc: &engine.Doc{ContentType: "text/html", Body: "HTML"},
			config: [][2]string{errorDoc("/html")}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := translate(t, e, get(tt.uri))
			got := want{status: d.Status, location: d.Location, file: d.File, uri: d.URI, handler: d.Handler,
				proxy: d.Proxy, pathInfo: d.PathInfo, config: d.Config, fixupConfig: d.FixupConfig, doc: d.Doc}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decision\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

func TestUpstream011CallFallsBackToStarKey(t *testing.T) {
	// 22: Call: qw!sub 1! finds the list "sub" of key k: n1 is set from
	// $ARGV[0], n2 (the "*" fallback's) is not. The printing handler is
	// an anonymous sub: reported as unsupported.
	e := engine.New(newTable(t, directives011...), engine.Options{})
	d := translate(t, e, get("/call"))
	if got := note(d, "n1"); !reflect.DeepEqual(got, []string{"1"}) {
		t.Errorf("n1 = %q, want [1]", got)
	}
	if got := note(d, "n2"); got != nil {
		t.Errorf("n2 = %q, want unset", got)
	}
	if len(d.Errors) != 1 || d.Errors[0].Action == "" {
		t.Errorf("errors %+v, want the anonymous sub reported", d.Errors)
	}
	// Without a list "sub" under key k, the "*" key's is taken.
	e = engine.New(newTable(t,
		`default | :PRE: | 0 | 0 | Key: 'k'`,
		`k | /call | 0 | 0 | Call: qw!sub 1!`,
		`* | sub | 0 | 0 | Do: $r->notes->{n2}=$ARGV[0]`), engine.Options{})
	d = translate(t, e, get("/call"))
	if got := note(d, "n2"); !reflect.DeepEqual(got, []string{"1"}) {
		t.Errorf("n2 = %q, want [1] from the * key's list", got)
	}
}

func TestUpstream011FixupsRunInOrderAfterTheTranslation(t *testing.T) {
	// 24: the Fixup codes run in order, after the translation.
	e := engine.New(newTable(t, directives011...), engine.Options{})
	d := translate(t, e, get("/fixup"))
	if got := note(d, "fixup_add"); !reflect.DeepEqual(got, []string{"1", "2", "3"}) {
		t.Errorf("fixup_add = %q, want [1 2 3]", got)
	}
}
