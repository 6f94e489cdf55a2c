package engine_test

import (
	"slices"
	"strings"
	"testing"

	"transdb/engine"
)

// Details of upstream's Perl that decisions keep, each against the line
// of Apache2::Translation it comes from.
func TestUpstreamDetails(t *testing.T) {
	t.Run("Restart with an empty key keeps it", func(t *testing.T) {
		// $l[1]=$cf->{key} unless defined $l[1]: only undef falls back.
		e := engine.New(newTable(t, `default | /a | 0 | 0 | Restart: '/b', ''`), engine.Options{})
		if d := translate(t, e, get("/a")); d.Key != "" {
			t.Errorf("key %q, want \"\"", d.Key)
		}
		e = engine.New(newTable(t, `default | /a | 0 | 0 | Restart: '/b', undef`), engine.Options{})
		if d := translate(t, e, get("/a")); d.Key != "default" {
			t.Errorf("key %q after undef, want the configured key", d.Key)
		}
	})
	t.Run("a false Error message is unspecified", func(t *testing.T) {
		// msg=>$msg||'unspecified error'; the message loses \s* at its end.
		for action, want := range map[string]string{
			`Error: 403, ''`:            "unspecified error",
			`Error: 403, 0`:             "unspecified error",
			`Error: 403, "gone\f\x0b "`: "gone",
			`Error: 403, '00'`:          "00",
		} {
			e := engine.New(newTable(t, tableRow("default | / | 0 | 0 | "+action)), engine.Options{})
			if d := translate(t, e, get("/")); d.Status != 403 || d.Message != want {
				t.Errorf("%s: %d %q, want 403 %q", action, d.Status, d.Message, want)
			}
		}
	})
	t.Run("PerlHandler keeps perl-script", func(t *testing.T) {
		e := engine.New(newTable(t,
			`default | / | 0 | 0 | PerlScript`,
			`default | / | 0 | 1 | PerlHandler: 'X'`,
			`default | / | 0 | 2 | Do: $r->notes->{h}=$r->handler`,
			`default | /cgi | 0 | 0 | CgiScript`,
			`default | /cgi | 0 | 1 | PerlHandler: 'X'`,
			`default | /cgi | 0 | 2 | Do: $r->notes->{h}=$r->handler`,
			`default | /cgi | 0 | 3 | Done`,
		), engine.Options{})
		for uri, want := range map[string]string{"/": "perl-script", "/cgi": "modperl"} {
			if h := note(translate(t, e, get(uri)), "h"); !slices.Equal(h, []string{want}) {
				t.Errorf("%s: $r->handler %q, want %s", uri, h, want)
			}
		}
	})
	t.Run("what Fixup code changes is the decision's", func(t *testing.T) {
		e := engine.New(newTable(t,
			`default | / | 0 | 0 | File: '/srv/a'`,
			`default | / | 0 | 1 | Fixup: $FILENAME='/srv/x'; $URI='/y'; $r->handler('cgi-script')`,
		), engine.Options{})
		d := translate(t, e, get("/"))
		if d.File != "/srv/x" || d.URI != "/y" || d.Handler != "cgi-script" {
			t.Errorf("file %q, uri %q, handler %q; want /srv/x, /y, cgi-script", d.File, d.URI, d.Handler)
		}
	})
	t.Run("$RC of the Fixup phase is no status", func(t *testing.T) {
		e := engine.New(newTable(t,
			`default | / | 0 | 0 | File: '/srv/x'`,
			`default | / | 0 | 1 | Fixup: $RC=403`,
			`default | /h | 0 | 0 | PerlHandler: $RC=404; 'My::H'`,
			`default | /rc | 0 | 0 | Do: $RC=410`,
			`default | /rc | 0 | 1 | Fixup: $RC=200`,
		), engine.Options{})
		for uri, want := range map[string]int{"/": 0, "/h": 0, "/rc": 410} {
			if d := translate(t, e, get(uri)); d.Status != want {
				t.Errorf("%s: status %d, want %d", uri, d.Status, want)
			}
		}
	})
	t.Run("MapToStorage gives Fixup the path_info of the first PerlHandler", func(t *testing.T) {
		// EVALUATION.md 3.3, case 1: "[/subr/pi /pi]" at Fixup time.
		e := engine.New(newTable(t,
			`default | :PRE: | 0 | 0 | Fixup: $r->notes->{f}="[$URI $PATH_INFO]"`,
			`default | :PRE: | 0 | 1 | Do: $r->notes->{t}="[$URI $PATH_INFO]"`,
			`default | /subr | 0 | 0 | PerlHandler: 'X'`,
			`default | /doc/x | 0 | 0 | Doc: 'text'`,
			`default | /doc | 0 | 0 | PerlHandler: 'Y'`,
			`default | /set | 0 | 0 | Do: $PATH_INFO='/mine'`,
			`default | /set | 0 | 1 | PerlHandler: 'Z'`,
			`default | /none | 0 | 0 | File: '/srv/x'`,
		), engine.Options{})
		for uri, want := range map[string][2]string{
			"/subr/pi":  {"[/subr/pi ]", "[/subr/pi /pi]"},
			"/doc/x/y":  {"[/doc/x/y ]", "[/doc/x/y /y]"}, // the first of Doc and PerlHandler
			"/set/more": {"[/set/more ]", "[/set/more /mine]"},
			"/none/x":   {"[/none/x ]", "[/none/x ]"},
		} {
			d := translate(t, e, get(uri))
			if got := [2]string{strings.Join(note(d, "t"), ","), strings.Join(note(d, "f"), ",")}; got != want {
				t.Errorf("%s: notes t, f %q, want %q", uri, got, want)
			}
		}
	})
	t.Run("a PerlHandler of no name is a 500", func(t *testing.T) {
		e := engine.New(newTable(t,
			`default | /none | 0 | 0 | PerlHandler: undef`,
			`default | /empty | 0 | 0 | PerlHandler: ''`,
			`default | /rc | 0 | 0 | PerlHandler: ''`,
			`default | /rc | 0 | 1 | Do: $RC=403`,
			`default | /named | 0 | 0 | PerlHandler: 'My::H'`,
			// The response is not modperl's: mod_proxy's, or the CGI's.
			`default | /proxy | 0 | 0 | PerlHandler: ''`,
			`default | /proxy | 0 | 1 | Proxy: 'http://backend/'`,
			`default | /cgi | 0 | 0 | PerlHandler: ''`,
			`default | /cgi | 0 | 1 | CgiScript`,
		), engine.Options{})
		for uri, want := range map[string]int{"/none": 500, "/empty": 500, "/rc": 403, "/named": 0, "/proxy": 0, "/cgi": 0} {
			if d := translate(t, e, get(uri)); d.Status != want {
				t.Errorf("%s: status %d %q, want %d", uri, d.Status, d.Message, want)
			}
		}
	})
	t.Run("a relative Location from a uri without a slash", func(t *testing.T) {
		// $uri=~s![^/]*$!!; $loc=$uri.$loc: nothing of "*" is kept.
		e := engine.New(newTable(t, `default | * | 0 | 0 | Redirect: 'y'`), engine.Options{})
		req := get("*")
		req.Method = "OPTIONS"
		if d := translate(t, e, req); d.Location != "http://www.example.orgy" {
			t.Errorf("location %q, want upstream's http://www.example.orgy", d.Location)
		}
	})
	t.Run("the walk ends at a slash and a newline", func(t *testing.T) {
		// m!^[/*]$! matches "/\n" too: the list of "/" never runs.
		e := engine.New(newTable(t, `default | / | 0 | 0 | Do: $r->notes->{slash}=1`), engine.Options{})
		if d := translate(t, e, get("/\n")); note(d, "slash") != nil {
			t.Errorf("the list of / ran for /\\n")
		}
		if d := translate(t, e, get("/x\n")); note(d, "slash") == nil {
			t.Errorf("the list of / did not run for /x\\n")
		}
	})
	t.Run("a Config location is cut at a TAB", func(t *testing.T) {
		e := engine.New(newTable(t, "default | / | 0 | 0 | Config: ['AuthName x', \"/a\\tb\"], 'Plain y'"), engine.Options{})
		want := [][2]string{{"/a", "b\tAuthName x"}, {"/", "Plain y"}}
		if d := translate(t, e, get("/")); !slices.Equal(d.Config, want) {
			t.Errorf("config %q, want %q", d.Config, want)
		}
	})
	t.Run("State names are lower-cased as lc does", func(t *testing.T) {
		// lc keeps U+017F, which case folding would take for an 's'.
		e := engine.New(newTable(t,
			"default | :PRE: | 0 | 0 | State: '\u017ftart'",
			"default | :PRE: | 0 | 1 | Do: $r->notes->add(s => $STATE)",
			"default | :PRE: | 0 | 2 | State: 'Proc'",
			"default | :PRE: | 0 | 3 | Do: $r->notes->add(s => $STATE)",
			"default | :PRE: | 0 | 4 | Last",
		), engine.Options{})
		d := translate(t, e, get("/"))
		if s := note(d, "s"); !slices.Equal(s, []string{"1", "2"}) {
			t.Errorf("$STATE %q, want 1 (the invalid state left it) then 2", s)
		}
		if len(d.Errors) != 1 || !strings.Contains(d.Errors[0].Error, "invalid state") {
			t.Errorf("errors %+v, want the invalid state", d.Errors)
		}
	})
	t.Run("a walk over a long uri fits the limits", func(t *testing.T) {
		// 800 segments: 800 fetches and 800 transitions, each under 1,000.
		e := engine.New(newTable(t, `default | / | 0 | 0 | Do: $r->notes->{slash}=1`), engine.Options{})
		d := translate(t, e, get(strings.Repeat("/a", 800)))
		if d.Status != 0 || note(d, "slash") == nil {
			t.Errorf("status %d, errors %+v, want the walk to reach /", d.Status, d.Errors)
		}
	})
}
