package translation_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"transdb/translation"
)

// exampleDir returns a temporary directory for an example and a
// function that removes it.
func exampleDir() (string, func()) {
	dir, err := os.MkdirTemp("", "translation-example")
	if err != nil {
		log.Fatal(err)
	}
	return dir, func() { os.RemoveAll(dir) }
}

// exampleProvider returns a started provider on a new file holding the
// example table of the Apache2::Translation documentation.
func exampleProvider(dir string) *translation.Provider {
	baseKey, err := translation.ParseBaseKey("[qw/trans db/]")
	if err != nil {
		log.Fatal(err)
	}
	p, err := translation.New(translation.Options{FileName: "trans.mmdb", Root: dir, BaseKey: baseKey})
	if err != nil {
		log.Fatal(err)
	}
	if err := p.Start(); err != nil {
		log.Fatal(err)
	}
	table, err := os.Open(filepath.Join("..", "testdata", "example.txt"))
	if err != nil {
		log.Fatal(err)
	}
	defer table.Close()
	if _, _, err := p.Load(table, translation.LoadOptions{Format: translation.FormatText}); err != nil {
		log.Fatal(err)
	}
	return p
}

// A read-only provider, as a proxy's resolver uses it, fetches the block
// list of a key and uri.
func Example() {
	dir, cleanup := exampleDir()
	defer cleanup()
	exampleProvider(dir).Stop() // writes the example table

	p, err := translation.New(translation.Options{
		FileName: "trans.mmdb",
		Root:     dir,
		ReadOnly: true,
		BaseKey:  []string{"trans", "db"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Stop()
	if err := p.Start(); err != nil {
		log.Fatal(err)
	}

	list, err := p.Fetch("front", ":PRE:", false)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range list {
		fmt.Printf("%d/%d #%d %s\n", r.Block, r.Order, r.ID, r.Action)
	}
	// Output:
	// 0/0 #1 Cond: $HOSTNAME !~ /^(?:www\.)xyz\.(?:com|de)$/
	// 0/1 #2 Redirect: 'http://xyz.com'.$URI, 301
	// 1/0 #3 Do: $CTX{lang}='en'
	// 1/1 #4 Cond: $HOSTNAME =~ /de$/
	// 1/2 #5 Do: $CTX{lang}='de'
}

// A write transaction belongs to the caller that begins it: changes
// become visible, to every provider of every process, with Commit.
func ExampleProvider_Begin() {
	dir, cleanup := exampleDir()
	defer cleanup()
	p := exampleProvider(dir)
	defer p.Stop()

	list, err := p.Fetch("front", "/static", true)
	if err != nil {
		log.Fatal(err)
	}
	static := list[0]

	tx, err := p.Begin()
	if err != nil {
		log.Fatal(err)
	}
	defer tx.Rollback() // does nothing after Commit
	// Update names the record by ID, key, uri, block and order; it
	// replaces nothing when another writer has changed it meanwhile.
	n, _, err := tx.Update(static, translation.Record{
		Key: "front", URI: "/static", Block: 0, Order: 0,
		Action: "File: $DOCROOT.$MATCHED_PATH_INFO",
		Note:   "one language only",
	})
	if err != nil || n != 1 {
		log.Fatal(n, err)
	}
	if _, err := tx.Insert(translation.Record{
		Key: "front", URI: "/static", Block: 1, Order: 0,
		Action: "Do: $r->headers_out->{'Cache-Control'}='max-age=3600'",
	}); err != nil {
		log.Fatal(err)
	}
	gen, err := tx.Commit()
	if err != nil {
		log.Fatal(err)
	}

	list, err = p.Fetch("front", "/static", true)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("generation", gen)
	for _, r := range list {
		fmt.Printf("%d/%d %s note=%q\n", r.Block, r.Order, r.Action, r.Note)
	}
	// Output:
	// generation 2
	// 0/0 File: $DOCROOT.$MATCHED_PATH_INFO note="one language only"
	// 1/0 Do: $r->headers_out->{'Cache-Control'}='max-age=3600' note=""
}

// Resolve makes all the lookups of one request: the :PRE: blocks, then
// every prefix of the uri that has blocks, longest first.
func ExampleProvider_Resolve() {
	dir, cleanup := exampleDir()
	defer cleanup()
	p := exampleProvider(dir)
	defer p.Stop()

	res, err := p.Resolve("front", "/static//img.png")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("pre:", len(res.Pre), "blocks")
	for _, m := range res.Matches {
		fmt.Printf("%s path_info=%s: %s\n", m.URI, m.PathInfo, m.Blocks[0].Action)
	}
	// Output:
	// pre: 5 blocks
	// /static path_info=/img.png: File: $DOCROOT.'/'.$CTX{lang}.$MATCHED_PATH_INFO
	// / path_info=/static/img.png: Config: ['AuthName "secret"'], ['AuthType Basic']
}

// Dump writes the table in a text format; Load reads it back, and can
// refuse input edited against a version that is no longer current.
func ExampleProvider_Dump() {
	dir, cleanup := exampleDir()
	defer cleanup()
	p := exampleProvider(dir)
	defer p.Stop()

	var out strings.Builder
	if err := p.Dump(&out, translation.FormatJSONL); err != nil {
		log.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	fmt.Println(lines[0])

	gen, err := p.Generation()
	if err != nil {
		log.Fatal(err)
	}
	gen, n, err := p.Load(strings.NewReader(out.String()), translation.LoadOptions{
		Format:           translation.FormatJSONL,
		Clear:            true,
		ExpectGeneration: &gen,
	})
	fmt.Println(gen, n, err)
	// Output:
	// {"key":"back","uri":"/appl1","block":0,"order":0,"action":"PerlHandler: 'My::Application1'","id":12}
	// 2 13 <nil>
}
