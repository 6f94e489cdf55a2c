package httpprovider_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"transdb/httpprovider"
	"transdb/translation"
)

// Serve a new translation table, insert a record with a txn and resolve
// a request uri.
func Example() {
	dir, err := os.MkdirTemp("", "transdb-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	p, err := translation.New(translation.Options{FileName: filepath.Join(dir, "trans.mmdb"), BaseKey: []string{"trans", "db"}})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Stop()
	srv, err := httpprovider.New(httpprovider.Options{
		Providers:      []*translation.Provider{p},
		AdminToken:     "secret",
		TranslationKey: "front",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()

	show := func(req *http.Request) {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d generation=%s %s", resp.StatusCode, resp.Header.Get(httpprovider.HeaderGeneration), body)
	}

	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/v1/txn", strings.NewReader(
		`{"ops":[{"op":"insert","key":"front","uri":"/static","block":0,"order":0,"action":"File: $DOCROOT.$MATCHED_PATH_INFO"}]}`))
	req.Header.Set("Authorization", "Bearer secret")
	show(req)

	// No key parameter: TranslationKey applies.
	req, _ = http.NewRequest(http.MethodGet, ts.URL+"/v1/resolve?uri=/static/img.png", nil)
	show(req)

	req, _ = http.NewRequest(http.MethodGet, ts.URL+"/v1/fetch?key=front", nil)
	show(req)
	// Output:
	// 200 generation=1 {"generation":1,"results":[{"id":1}]}
	// 200 generation=1 {"key":"front","uri":"/static/img.png","generation":1,"pre":[],"matches":[{"uri":"/static","path_info":"/img.png","blocks":[{"block":0,"order":0,"action":"File: $DOCROOT.$MATCHED_PATH_INFO","id":1}]}]}
	// 400 generation=1 {"error":"missing parameter uri"}
}
