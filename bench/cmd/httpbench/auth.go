package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"transdb/engine"
	"transdb/httpprovider"
	"transdb/internal/httpload"
	"transdb/translation"
)

// The /v1/auth load asks for the decisions of the /v1/translate
// targets, as a proxy in front would: GET /v1/auth?key=KEY with the
// original request in X-Original-URI and X-Forwarded-Host. Its answers
// are the status, the decision headers (X-Transdb-* and Location) and
// the body, which transdbd's must match byte for byte: as the engine in
// this process decides for the same request on the same file.

// authRequest returns the request that transdbd reads from the /v1/auth
// target of req (see httpprovider's authRequest): method GET, the client
// 127.0.0.1, and the headers httpload sends, Host being the forwarded
// host.
func authRequest(req engine.Request, target string) engine.Request {
	return engine.Request{
		URI:      req.URI,
		Method:   http.MethodGet,
		Host:     req.Host,
		ClientIP: "127.0.0.1",
		Key:      req.Key,
		Header: []engine.Header{
			{Name: "Host", Value: req.Host},
			{Name: "User-Agent", Value: "httpload"},
			{Name: "X-Original-Uri", Value: target},
			{Name: "X-Forwarded-Host", Value: req.Host},
		},
	}
}

// addAuth adds the /v1/auth target of req, which names key, uri and
// host only: a target with the header lines of the original request
// (httpload.Conn.Get).
func (d *dataset) addAuth(req engine.Request) {
	target := (&url.URL{Path: req.URI}).EscapedPath()
	d.authReq = append(d.authReq, authRequest(req, target))
	d.auth = append(d.auth, "/v1/auth?key="+url.QueryEscape(req.Key)+
		"\r\nX-Original-URI: "+target+"\r\nX-Forwarded-Host: "+req.Host)
}

// An authAnswer is the answer of /v1/auth to one target, but for the
// generation header: its status, its decision header lines as
// httpload.Response.Headers has them, and its body.
type authAnswer struct {
	status        int
	headers, body []byte
}

// check reports an error unless r is the answer a, with the generation
// header g.
func (a *authAnswer) check(r httpload.Response, g []byte) error {
	if r.Status != a.status || !bytes.Equal(r.Generation, g) || !bytes.Equal(r.Headers, a.headers) || !bytes.Equal(r.Body, a.body) {
		return fmt.Errorf("status %d, generation %s, headers %.300q, body %.200q; want status %d, generation %s, headers %.300q, body %.200q",
			r.Status, r.Generation, r.Headers, r.Body, a.status, g, a.headers, a.body)
	}
	return nil
}

// authAnswers computes the answer to every auth target in this process,
// as translateAnswers does, and returns them with their generation.
func (d *dataset) authAnswers() (answers []authAnswer, gen uint64, err error) {
	p, err := translation.New(translation.Options{FileName: d.path, BaseKey: baseKey, ReadOnly: true})
	if err != nil {
		return nil, 0, err
	}
	defer p.Stop()
	e := engine.New(p, engine.Options{TranslationKey: translationKey, DocumentRoot: documentRoot})
	d.authDecisions = decisionCounts{status: map[int]int{}}
	err = p.View(func(s *translation.Snapshot) error {
		gen = s.Generation()
		answers = make([]authAnswer, len(d.authReq))
		for i, req := range d.authReq {
			dec, err := e.TranslateIn(context.Background(), s, req)
			if err != nil {
				return fmt.Errorf("translating %+v: %w", req, err)
			}
			if req.URI == exampleRequest.URI && req.Host == exampleRequest.Host && req.Key == exampleRequest.Key &&
				(dec.Status != 0 || dec.File != exampleFile) {
				return fmt.Errorf("the example request %+v: status %d, file %q; want 0 and %q", req, dec.Status, dec.File, exampleFile)
			}
			d.authDecisions.status[dec.Status]++
			if len(dec.Errors) > 0 {
				d.authDecisions.withErrors++
			}
			answers[i] = authAnswerOf(dec)
		}
		return nil
	})
	return answers, gen, err
}

// authAnswerOf returns the answer of /v1/auth without deny for a
// decision, as httpprovider's handleAuth gives it: 200, the decision
// headers (httpprovider.SetDecisionHeaders) and no body to proceed; else
// the status, Location and the message (or the status text) and a
// newline. The headers are in the order net/http writes them, sorted by
// name, one line per value.
func authAnswerOf(d *engine.Decision) authAnswer {
	h := http.Header{}
	if d.Status != 0 {
		if d.Location != "" {
			h.Set("Location", d.Location)
		}
		msg := d.Message
		if msg == "" {
			msg = http.StatusText(d.Status)
		}
		return authAnswer{status: d.Status, headers: headerLines(h), body: []byte(msg + "\n")}
	}
	httpprovider.SetDecisionHeaders(h, d)
	return authAnswer{status: http.StatusOK, headers: headerLines(h), body: []byte{}}
}

// headerLines returns the lines of h as httpload.Response.Headers has
// them; nil for none.
func headerLines(h map[string][]string) []byte {
	var b []byte
	for _, name := range slices.Sorted(maps.Keys(h)) {
		for _, v := range h[name] {
			b = append(b, name+": "+strings.TrimSpace(v)+"\n"...)
		}
	}
	return b
}

// medianAuth returns the header lines of the 200 answer whose lines are
// of median size, those of the bare handler's answer, and their mean
// size.
func medianAuth(answers []authAnswer) (median []byte, mean int) {
	var ok [][]byte
	for _, a := range answers {
		if a.status == http.StatusOK {
			ok = append(ok, a.headers)
		}
	}
	if len(ok) == 0 {
		return nil, 0
	}
	return medianBody(ok)
}

// checkAuth checks the answer of transdbd at addr to every auth target
// against the engine in this process, at generation checkedGen, and
// keeps the answers.
func (d *dataset) checkAuth(addr string) error {
	want, gen, err := d.authAnswers()
	if err != nil {
		return err
	}
	if gen != d.checkedGen {
		return fmt.Errorf("%s: the engine in this process read generation %d, transdbd answered %d", d.label, gen, d.checkedGen)
	}
	g := []byte(strconv.FormatUint(gen, 10))
	c, err := httpload.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	for i, t := range d.auth {
		r, err := c.Get(t)
		if err != nil {
			return err
		}
		if err := want[i].check(r, g); err != nil {
			return fmt.Errorf("GET %q: %w", t, err)
		}
	}
	d.authExp = want
	d.authHeaders, d.authMean = medianAuth(want)
	return nil
}

// authCheck accepts the answer to target i that exp[i] is, with the
// header of generation gen.
func authCheck(exp []authAnswer, gen uint64) func(int, httpload.Response) error {
	g := []byte(strconv.FormatUint(gen, 10))
	return func(i int, r httpload.Response) error { return exp[i].check(r, g) }
}

// bareAuthCheck accepts the bare handler's answer to /v1/auth: 200, the
// header lines and no body.
func bareAuthCheck(headers []byte) func(int, httpload.Response) error {
	return func(_ int, r httpload.Response) error {
		if r.Status != http.StatusOK || !bytes.Equal(r.Headers, headers) || len(r.Body) != 0 {
			return fmt.Errorf("status %d, headers %.300q, body %.200q", r.Status, r.Headers, r.Body)
		}
		return nil
	}
}

// parseHeaderLines parses header lines as headerLines writes them into
// a header, the names as they are.
func parseHeaderLines(b []byte) (http.Header, error) {
	h := http.Header{}
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ": ")
		if !ok {
			return nil, fmt.Errorf("header line %q", line)
		}
		h[name] = append(h[name], value)
	}
	return h, nil
}
