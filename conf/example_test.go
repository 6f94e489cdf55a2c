package conf_test

import (
	"errors"
	"fmt"
	"strings"

	"transdb/conf"
)

func ExampleParse() {
	const text = `
Listen          127.0.0.1:8080
TranslationKey  front
AdminToken      ${ADMIN_TOKEN}
CheckInterval   500ms

<TranslationProvider MMapDB>
    FileName    trans.mmdb
    Root        /var/lib/transdb
    BaseKey     [qw/trans db/]
</TranslationProvider>

# Shares trans.mmdb, under another base key.
TranslationProvider MMapDB basekey="[qw/trans archive/]" readonly=1
`
	env := map[string]string{"ADMIN_TOKEN": "s3cret"}
	lookup := func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}

	cfg, err := conf.Parse(strings.NewReader(text), "transdb.conf", lookup)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Listen, cfg.TranslationKey, cfg.AdminToken, cfg.CheckInterval)
	for _, p := range cfg.Providers {
		fmt.Printf("line %d: %s %s read-only=%v\n", p.Line, p.Path(), p.BaseKey, p.ReadOnly)
	}
	// Output:
	// 127.0.0.1:8080 front s3cret 500ms
	// line 7: /var/lib/transdb/trans.mmdb [qw/trans db/] read-only=false
	// line 14: /var/lib/transdb/trans.mmdb [qw/trans archive/] read-only=true
}

func ExampleParseError() {
	const text = `
<TranslationProvider MMapDB>
    FileName  trans.mmdb
    ReadOnly  sometimes
</TranslationProvider>
`
	_, err := conf.Parse(strings.NewReader(text), "transdb.conf", nil)
	fmt.Println(err)

	var pe *conf.ParseError
	if errors.As(err, &pe) {
		fmt.Println("line", pe.Line)
	}
	// Output:
	// transdb.conf:4: invalid ReadOnly value "sometimes": want 0 or 1 (or on/off, true/false, yes/no)
	// line 4
}

func ExampleProvider_Path() {
	p := conf.Provider{FileName: "trans.mmdb", Root: "/var/lib/transdb"}
	fmt.Println(p.Path())
	p.FileName = "/srv/other.mmdb"
	fmt.Println(p.Path())
	// Output:
	// /var/lib/transdb/trans.mmdb
	// /srv/other.mmdb
}
