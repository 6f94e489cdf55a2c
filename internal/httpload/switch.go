package httpload

import (
	"fmt"
	"net/http"
	"strconv"

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
