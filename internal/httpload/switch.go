package httpload

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"transdb/translation"
)

// The switch marker is one record that a Switcher rewrites with every
// commit, its action naming the generation the commit makes. An answer
// that holds the marker shows whether it was made from exactly one
// version: its action must name the generation that its body and its
// X-Transdb-Generation header name.
const (
	SwitchKey = "switch.example.com"
	SwitchURI = "/switch"
	// SwitchPathInfo is appended to SwitchURI in the resolve target of
	// the marker.
	SwitchPathInfo = "/index.html"
)

// SwitchAction returns the marker's action at generation g.
func SwitchAction(g uint64) string { return "generation=" + strconv.FormatUint(g, 10) }

// A Switcher commits one-record changes to a table: each commit replaces
// the marker with one naming the commit's generation. It must be the only
// writer of the marker.
type Switcher struct {
	p   *translation.Provider
	old *translation.Record // the marker as stored; nil before the first commit
}

// NewSwitcher returns a Switcher for the writable provider p. A table
// without the marker gets it with the first commit.
func NewSwitcher(p *translation.Provider) (*Switcher, error) {
	list, err := p.Fetch(SwitchKey, SwitchURI, false)
	if err != nil {
		return nil, err
	}
	switch len(list) {
	case 0:
		return &Switcher{p: p}, nil
	case 1:
		return &Switcher{p: p, old: &list[0]}, nil
	}
	return nil, fmt.Errorf("httpload: %d switch markers, want at most 1", len(list))
}

// Commit replaces the marker in a transaction of its own (inserts it, the
// first time) and returns the generation the commit made.
func (s *Switcher) Commit() (uint64, error) {
	var gen, id uint64
	got, err := s.p.Update(func(t *translation.Txn) (err error) {
		gen, id, err = s.change(t)
		return err
	})
	if err != nil {
		return 0, err
	}
	if got != gen {
		return got, fmt.Errorf("httpload: the commit made generation %d, the marker names %d", got, gen)
	}
	s.old = &translation.Record{Key: SwitchKey, URI: SwitchURI, Action: SwitchAction(gen), ID: id}
	return gen, nil
}

// change replaces the marker inside the transaction t and returns the
// generation the transaction will make and the new marker's ID.
func (s *Switcher) change(t *translation.Txn) (gen, id uint64, err error) {
	gen = t.Generation() + 1
	rec := translation.Record{Key: SwitchKey, URI: SwitchURI, Action: SwitchAction(gen)}
	if s.old == nil {
		id, err = t.Insert(rec)
		return gen, id, err
	}
	n, id, err := t.Update(*s.old, rec)
	if err == nil && n == 0 {
		err = fmt.Errorf("httpload: the switch marker %+v was changed by another writer", *s.old)
	}
	return gen, id, err
}

// checkMarker reports whether blocks hold exactly the marker of
// generation gen.
func checkMarker(blocks []blockJSON, gen uint64) error {
	if len(blocks) != 1 || blocks[0].Action != SwitchAction(gen) {
		return fmt.Errorf("generation %d with the marker %+v, want one with action %q", gen, blocks, SwitchAction(gen))
	}
	return nil
}

// CheckSwitchFetch reports whether r is a 200 answer to the fetch of the
// marker (FetchTarget(SwitchKey, SwitchURI)) made from exactly one
// version: the header's generation, which the body names too and the
// marker's action as well.
func CheckSwitchFetch(r Response) error {
	gen, err := switchGeneration(r)
	if err != nil {
		return err
	}
	var f FetchBody
	if err := decodeStrict(r.Body, &f); err != nil {
		return err
	}
	if f.Generation != gen || f.Key != SwitchKey || f.URI != SwitchURI {
		return fmt.Errorf("header generation %d, body %.300q", gen, r.Body)
	}
	return checkMarker(f.Blocks, gen)
}

// CheckSwitchResolve is CheckSwitchFetch for the resolve of the marker
// (ResolveTarget(SwitchKey, SwitchURI+SwitchPathInfo)): no :PRE: blocks,
// one match, SwitchURI, holding the marker.
func CheckSwitchResolve(r Response) error {
	gen, err := switchGeneration(r)
	if err != nil {
		return err
	}
	var res ResolveBody
	if err := decodeStrict(r.Body, &res); err != nil {
		return err
	}
	if res.Generation != gen || res.Key != SwitchKey || res.URI != SwitchURI+SwitchPathInfo ||
		len(res.Pre) != 0 || len(res.Matches) != 1 ||
		res.Matches[0].URI != SwitchURI || res.Matches[0].PathInfo != SwitchPathInfo {
		return fmt.Errorf("header generation %d, body %.300q", gen, r.Body)
	}
	return checkMarker(res.Matches[0].Blocks, gen)
}

// switchGeneration returns the generation of a 200 response.
func switchGeneration(r Response) (uint64, error) {
	if r.Status != http.StatusOK {
		return 0, fmt.Errorf("status %d: %.200q", r.Status, r.Body)
	}
	gen, ok := parseUint(r.Generation)
	if !ok {
		return 0, fmt.Errorf("X-Transdb-Generation %q", r.Generation)
	}
	return gen, nil
}

// WithMarker returns the targets with the switch marker added as every
// every-th target, a fetch and a resolve of it in turn, and the check of
// the answers: the marker's by CheckSwitchFetch and CheckSwitchResolve,
// the answer to targets[i] by exp[i].
func WithMarker(targets []string, exp []Expected, every int) ([]string, func(int, Response) error) {
	const (
		table = iota
		markerFetch
		markerResolve
	)
	var all []string
	var kinds []uint8
	var allExp []Expected
	for i, t := range targets {
		if every > 1 && i > 0 && i%(every-1) == 0 {
			if i/(every-1)%2 == 1 {
				all, kinds = append(all, FetchTarget(SwitchKey, SwitchURI)), append(kinds, markerFetch)
			} else {
				all, kinds = append(all, ResolveTarget(SwitchKey, SwitchURI+SwitchPathInfo)), append(kinds, markerResolve)
			}
			allExp = append(allExp, Expected{})
		}
		all, kinds, allExp = append(all, t), append(kinds, table), append(allExp, exp[i])
	}
	return all, func(i int, r Response) error {
		switch kinds[i] {
		case markerFetch:
			return CheckSwitchFetch(r)
		case markerResolve:
			return CheckSwitchResolve(r)
		}
		return allExp[i].Check(r)
	}
}

// A RemoteSwitcher is a Switcher that commits through the HTTP API of a
// transdbd (POST /v1/txn) instead of through a provider of this process,
// so that the daemon itself makes the commits (and publishes them, when
// it is a writer of a replicated file). The table must hold the marker.
type RemoteSwitcher struct {
	base, token string
	client      *http.Client
	id, gen     uint64 // the marker's ID and the generation it names
}

// NewRemoteSwitcher returns a RemoteSwitcher for the transdbd at base
// (http://HOST:PORT), whose AdminToken is token; it looks the marker up
// first.
func NewRemoteSwitcher(base, token string) (*RemoteSwitcher, error) {
	s := &RemoteSwitcher{base: base, token: token, client: &http.Client{Timeout: time.Minute}}
	resp, err := s.client.Get(base + FetchTarget(SwitchKey, SwitchURI))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var f FetchBody
	if err := json.NewDecoder(resp.Body).Decode(&f); err != nil {
		return nil, fmt.Errorf("httpload: the switch marker: %w", err)
	}
	if len(f.Blocks) != 1 || f.Blocks[0].Action != SwitchAction(f.Generation) {
		return nil, fmt.Errorf("httpload: the switch marker at generation %d is %+v", f.Generation, f.Blocks)
	}
	s.id, s.gen = f.Blocks[0].ID, f.Generation
	return s, nil
}

// Generation returns the generation the last commit made (at first, the
// one the marker was looked up at).
func (s *RemoteSwitcher) Generation() uint64 { return s.gen }

// Commit replaces the marker in a transaction of its own and returns
// the generation it made. It must be the only writer of the table.
func (s *RemoteSwitcher) Commit() (uint64, error) {
	next := SwitchAction(s.gen + 1)
	old := map[string]any{"key": SwitchKey, "uri": SwitchURI, "block": 0, "order": 0, "id": s.id}
	rec := map[string]any{"key": SwitchKey, "uri": SwitchURI, "block": 0, "order": 0, "action": next}
	body, err := json.Marshal(map[string]any{"ops": []any{map[string]any{"op": "update", "old": old, "new": rec}}})
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequest(http.MethodPost, s.base+"/v1/txn", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var res struct {
		Generation uint64
		Results    []struct{ ID uint64 }
		Error      string
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || resp.StatusCode != http.StatusOK ||
		res.Generation != s.gen+1 || len(res.Results) != 1 {
		return 0, fmt.Errorf("httpload: commit after generation %d: status %d, %+v (%v)", s.gen, resp.StatusCode, res, err)
	}
	s.id, s.gen = res.Results[0].ID, res.Generation
	return s.gen, nil
}
