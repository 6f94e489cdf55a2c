package translation_test

import (
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"transdb/translation"
)

func ExampleNewReader() {
	table := `# transdb dump generation=4 records=2
######################################################################
front & :PRE: 0/0/1
action> Cond: $HOSTNAME !~ /^(?:www\.)xyz\.(?:com|de)$/
######################################################################
front & /static 0/0/6
action> File: $DOCROOT.'/'.$CTX{lang}.$MATCHED_PATH_INFO
note> serves the static files
`
	r, err := translation.NewReader(strings.NewReader(table), translation.FormatText)
	if err != nil {
		log.Fatal(err)
	}
	gen, _ := r.Generation()
	fmt.Println("generation", gen)
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s %s %d/%d %q note=%q\n", rec.Key, rec.URI, rec.Block, rec.Order, rec.Action, rec.Note)
	}
	// Output:
	// generation 4
	// front :PRE: 0/0 "Cond: $HOSTNAME !~ /^(?:www\\.)xyz\\.(?:com|de)$/" note=""
	// front /static 0/0 "File: $DOCROOT.'/'.$CTX{lang}.$MATCHED_PATH_INFO" note="serves the static files"
}

func ExampleNewWriter() {
	records := []translation.Record{
		{Key: "front", URI: "/appl1", Action: "Proxy: 'http://backend/'.$URI", ID: 7},
		{Key: "front", URI: "/appl2", Block: 1, Action: "Do: 1\n>>> not a header", Note: "two\nlines", ID: 8},
	}
	for _, f := range []translation.Format{translation.FormatText, translation.FormatFile, translation.FormatJSONL} {
		w, err := translation.NewWriter(os.Stdout, f, 12, len(records))
		if err != nil {
			log.Fatal(err)
		}
		for _, rec := range records {
			if err := w.Write(rec); err != nil {
				log.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			log.Fatal(err)
		}
	}
	// Output:
	// # transdb dump generation=12 records=2 end=1
	// ######################################################################
	// front & /appl1 0/0/7
	// action> Proxy: 'http://backend/'.$URI
	// ######################################################################
	// front & /appl2 1/0/8
	// action> Do: 1
	// action> >>> not a header
	// note> two
	// note> lines
	// # transdb dump end
	// # transdb dump generation=12 records=2
	// >>> 7 front /appl1 0 0
	// Proxy: 'http://backend/'.$URI
	// >>> 8 front /appl2 1 0
	// Do: 1
	// \>>> not a header
	// {"key":"front","uri":"/appl1","block":0,"order":0,"action":"Proxy: 'http://backend/'.$URI","id":7}
	// {"key":"front","uri":"/appl2","block":1,"order":0,"action":"Do: 1\n>>> not a header","note":"two\nlines","id":8}
}
