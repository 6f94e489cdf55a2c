package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"

	"transdb/engine"
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
// /v1/translate (appendDecision). It returns them with their
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
			if bodies[i], err = appendDecision(nil, dec); err != nil {
				return err
			}
		}
		return nil
	})
	return bodies, gen, err
}

// appendDecision appends the body of /v1/translate for a decision
// without trace, as the README and httpprovider.WriteDecision document
// it: the fields in their order, those without a value left out,
// strings escaped by encoding/json without its HTML escaping, and a
// newline. It is written here rather than taken from httpprovider, whose
// metrics would bring their modules into this one; transdbd's answers
// are compared with it byte for byte.
func appendDecision(b []byte, d *engine.Decision) ([]byte, error) {
	if d.Trace != nil {
		return nil, errors.New("appendDecision: a decision with a trace")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	str := func(s string) {
		buf.Reset()
		enc.Encode(s) // cannot fail for a string
		b = append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
	}
	optional := func(name, value string) {
		if value != "" {
			b = append(b, `,"`+name+`":`...)
			str(value)
		}
	}
	pairs := func(ps [][2]string) {
		b = append(b, '[')
		for i, p := range ps {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			str(p[0])
			b = append(b, ',')
			str(p[1])
			b = append(b, ']')
		}
		b = append(b, ']')
	}
	b = append(b, `{"generation":`...)
	b = strconv.AppendUint(b, d.Generation, 10)
	b = append(b, `,"key":`...)
	str(d.Key)
	b = append(b, `,"uri":`...)
	str(d.URI)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(d.Status), 10)
	optional("location", d.Location)
	optional("message", d.Message)
	optional("proxy", d.Proxy)
	optional("file", d.File)
	optional("handler", d.Handler)
	if d.Doc != nil {
		b = append(b, `,"doc":{"content_type":`...)
		str(d.Doc.ContentType)
		b = append(b, `,"body":`...)
		str(d.Doc.Body)
		b = append(b, '}')
	}
	b = append(b, `,"config":`...)
	pairs(d.Config)
	b = append(b, `,"fixup_config":`...)
	pairs(d.FixupConfig)
	b = append(b, `,"matched_uri":`...)
	str(d.MatchedURI)
	b = append(b, `,"path_info":`...)
	str(d.PathInfo)
	b = append(b, `,"notes":{`...)
	for i, n := range d.Notes {
		if i > 0 {
			b = append(b, ',')
		}
		str(n.Name)
		b = append(b, ":["...)
		for k, v := range n.Values {
			if k > 0 {
				b = append(b, ',')
			}
			str(v)
		}
		b = append(b, ']')
	}
	b = append(b, `},"ctx":{`...)
	for i, v := range d.CTX {
		if i > 0 {
			b = append(b, ',')
		}
		str(v.Name)
		b = append(b, ':')
		str(v.Value)
	}
	b = append(b, `},"errors":[`...)
	for i, e := range d.Errors {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = strconv.AppendUint(b, e.ID, 10)
		b = append(b, `,"action":`...)
		str(e.Action)
		b = append(b, `,"error":`...)
		str(e.Error)
		b = append(b, '}')
	}
	return append(b, "]}\n"...), nil
}
