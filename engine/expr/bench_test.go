package expr

import "testing"

// BenchmarkEval measures the evaluation of a compiled Program against a
// request, the per-request cost of an action.
func BenchmarkEval(b *testing.B) {
	for _, bc := range []struct{ name, src string }{
		{"concat", `$DOCROOT.'/'.$CTX{lang}.$MATCHED_PATH_INFO`},
		{"compare", `$HOSTNAME eq 'www.xyz.de'`},
		{"compare-vars", `$URI eq $MATCHED_URI`},
		{"regex", `$HOSTNAME =~ /de$/`},
		{"regex-re2", `$HOSTNAME !~ /^(?:www\.)xyz\.(?:com|de)$/`},
		{"hash", `$CTX{lang}`},
		{"captures", `$URI =~ m{^/(\w+)} ? $1 : ''`},
		{"assign", `$r->notes->{t} = $r->notes->{t} . " init"`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p, err := Compile(bc.src)
			if err != nil {
				b.Fatal(err)
			}
			env := newTestEnv()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Scalar(env); err != nil {
					b.Fatal(err)
				}
				if bc.name == "assign" {
					env.notes["t"] = nil
				}
			}
		})
	}
}

// BenchmarkCompile measures compiling a typical action, which the engine
// does once per record and database version.
func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(`'http://'.join(':', $r->get_server_name, $r->get_server_port).'/tstp'.$MATCHED_PATH_INFO`); err != nil {
			b.Fatal(err)
		}
	}
}
