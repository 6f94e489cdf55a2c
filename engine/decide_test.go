package engine_test

import (
	"context"
	"reflect"
	"sync"
	"testing"

	"transdb/engine"
	"transdb/translation"
)

// TestDecideInReusesNothingVisible runs translations of different
// requests one after another and side by side through DecideIn, which
// reuses the memory of its decisions: each must equal the decision
// Translate gives, and a decision Translate returned must stay as it was.
func TestDecideInReusesNothingVisible(t *testing.T) {
	rows := append([]tableRow{
		`front | :PRE: | 2 | 0 | Do: $r->notes->{seen}.=$URI; $r->notes->add('all', $HOSTNAME)`,
		`front | /appl1 | 1 | 0 | Call: 'sub', $URI, 'x'`,
		// A list evaluated before @ARGV is read: the Call's parameters
		// must not share its memory.
		`front | sub | 0 | 0 | Config: 'Options -Indexes', 'Require all denied', 'Header set X-A b'`,
		`front | sub | 0 | 1 | Do: $CTX{arg}=$ARGV[0].$ARGV[1]`,
		`front | sub | 0 | 2 | Fixup: $r->notes->{fixed}='yes'`,
		`front | /bad | 0 | 0 | Do: $x = (`,
		`front | /bad | 0 | 1 | Config: ['Options None', '/bad'], 'Require all granted'`,
		`front | /doc | 0 | 0 | Doc: 'text/html', '<p>'.$URI.'</p>'`,
	}, exampleTable...)
	e := engine.New(newTable(t, rows...), engine.Options{TranslationKey: "front", DocumentRoot: "/var/www"})
	var reqs []engine.Request
	for _, host := range []string{"www.xyz.de", "www.xyz.com", "elsewhere.org"} {
		for _, uri := range []string{"/static/img.png", "/appl1/x", "/appl2/y", "/bad/z", "/doc/d", "/"} {
			reqs = append(reqs, engine.Request{URI: uri, Host: host, Trace: len(reqs)%2 == 0})
		}
	}
	reqs = append(reqs, engine.Request{URI: "/appl1/x", Key: "back", ClientIP: "192.0.2.1"},
		engine.Request{URI: "no-slash", Host: "www.xyz.de"})
	want := make([]*engine.Decision, len(reqs))
	for i, req := range reqs {
		want[i] = translate(t, e, req)
	}
	if got := want[1].CTX; len(got) != 2 || got[1] != (engine.Var{Name: "arg", Value: "/appl1/xx"}) {
		t.Errorf("the Call's parameters after a list: %%CTX %+v", got)
	}
	first := *want[0]
	first.Notes = append([]engine.Note(nil), first.Notes...)
	first.Trace = append([]engine.Step(nil), first.Trace...)

	p := e.Provider()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for n := range 200 {
				i := (n*7 + w*5) % len(reqs)
				err := p.View(func(s *translation.Snapshot) error {
					return e.DecideIn(context.Background(), s, reqs[i], func(d *engine.Decision) error {
						if !sameDecisions(d, want[i]) {
							t.Errorf("request %+v: DecideIn gave\n%+v\nwant\n%+v", reqs[i], d, want[i])
						}
						return nil
					})
				})
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if !reflect.DeepEqual(*want[0], first) {
		t.Errorf("a decision of Translate changed after later translations:\n%+v\nwas\n%+v", *want[0], first)
	}
}

// sameDecisions reports whether a and b are the same decision: the same
// JSON, which has every field but StartKey and Rows, and those two.
// (DecideIn's decisions may have the memory of earlier ones, empty, or
// come from the decision cache with their JSON.)
func sameDecisions(a, b *engine.Decision) bool {
	return string(a.AppendJSON(nil)) == string(b.AppendJSON(nil)) && a.StartKey == b.StartKey && a.Rows == b.Rows
}
