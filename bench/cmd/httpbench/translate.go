package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/url"
	"slices"

	"transdb/engine"
	"transdb/httpprovider"
	"transdb/translation"
)

// exampleRequest is the request of the example table that the
// /v1/translate load makes every exampleEvery-th target: the :PRE: list
// of key front, then /static and / of the walk, with File, Config and
// %CTX; its decision names exampleFile.
var exampleRequest = engine.Request{URI: "/static/img.png", Host: "www.xyz.de", Key: "front"}

const (
	exampleEvery = 16
	exampleFile  = documentRoot + "/de/img.png"
)

// addTranslate adds a /v1/translate target of req, which names key, uri
// and host only.
func (d *dataset) addTranslate(req engine.Request) {
	d.translateReq = append(d.translateReq, req)
	d.addAuth(req)
	d.translate = append(d.translate, "/v1/translate?key="+url.QueryEscape(req.Key)+
		"&uri="+url.QueryEscape(req.URI)+"&host="+url.QueryEscape(req.Host))
}

// isExample reports whether req is the exampleRequest.
func isExample(req engine.Request) bool {
	return req.URI == exampleRequest.URI && req.Host == exampleRequest.Host && req.Key == exampleRequest.Key
}

// decisionCounts counts the decisions of the translate targets: by
// status, and those with rows that could not be evaluated.
type decisionCounts struct {
	status     map[int]int
	withErrors int
}

// String describes the counts: "60,000 status 0, 4,000 status 403, ...;
// N with rows that could not be evaluated".
func (c decisionCounts) String() string {
	s := ""
	for i, code := range slices.Sorted(maps.Keys(c.status)) {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s status %d", count(int64(c.status[code])), code)
	}
	return fmt.Sprintf("%s; %s with rows that could not be evaluated", s, count(int64(c.withErrors)))
}

// translateAnswers computes the answer to every translate target in
// this process: the decision of an engine set up as every transdbd is,
// on the newest version of the file, in the JSON form of the body of
// /v1/translate (httpprovider.WriteDecision). It returns them with their
// generation, and checks that the example request gives exampleFile.
func (d *dataset) translateAnswers() (bodies [][]byte, gen uint64, err error) {
	p, err := translation.New(translation.Options{FileName: d.path, BaseKey: baseKey, ReadOnly: true})
	if err != nil {
		return nil, 0, err
	}
	defer p.Stop()
	e := engine.New(p, engine.Options{TranslationKey: translationKey, DocumentRoot: documentRoot})
	d.decisions = decisionCounts{status: map[int]int{}}
	err = p.View(func(s *translation.Snapshot) error {
		gen = s.Generation()
		bodies = make([][]byte, len(d.translateReq))
		for i, req := range d.translateReq {
			dec, err := e.TranslateIn(context.Background(), s, req)
			if err != nil {
				return fmt.Errorf("translating %+v: %w", req, err)
			}
			if isExample(req) && (dec.Status != 0 || dec.File != exampleFile) {
				return fmt.Errorf("the example request %+v: status %d, file %q; want 0 and %q", req, dec.Status, dec.File, exampleFile)
			}
			d.decisions.status[dec.Status]++
			if len(dec.Errors) > 0 {
				d.decisions.withErrors++
			}
			var b bytes.Buffer
			if err = httpprovider.WriteDecision(&b, dec); err != nil {
				return err
			}
			bodies[i] = b.Bytes()
		}
		return nil
	})
	return bodies, gen, err
}
