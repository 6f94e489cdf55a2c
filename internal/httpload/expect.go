package httpload

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"transdb/translation"
	"transdb/translation/transgen"
)

// An Expected is the body that transdbd must answer to one lookup
// (/v1/fetch or /v1/resolve) at any generation: the body with the number
// of its "generation" field cut out. Checking a response against it costs
// two comparisons of bytes, so that a load generator can check every
// response of a round without slowing down.
type Expected struct {
	head, tail []byte
}

// generationField is what precedes the generation in a lookup body.
var generationField = []byte(`,"generation":`)

// CutGeneration returns the Expected of a lookup body: the bytes before
// and after the number of its first "generation" field, which the bodies
// of /v1/fetch and /v1/resolve have after key and uri (neither of which
// can hold the field's text: a string's quotes are escaped in JSON).
func CutGeneration(body []byte) (Expected, error) {
	i := bytes.Index(body, generationField)
	if i < 0 {
		return Expected{}, fmt.Errorf("httpload: no generation in %.200q", body)
	}
	i += len(generationField)
	j := i
	for j < len(body) && '0' <= body[j] && body[j] <= '9' {
		j++
	}
	if j == i {
		return Expected{}, fmt.Errorf("httpload: no generation in %.200q", body)
	}
	return Expected{head: bytes.Clone(body[:i]), tail: bytes.Clone(body[j:])}, nil
}

// Body returns the expected body at generation gen.
func (e Expected) Body(gen uint64) []byte {
	b := make([]byte, 0, len(e.head)+20+len(e.tail))
	b = append(b, e.head...)
	b = strconv.AppendUint(b, gen, 10)
	return append(b, e.tail...)
}

// Check reports an error unless r is a 200 response whose body is the
// expected one with the generation of its X-Transdb-Generation header:
// the block lists are the expected ones, and body and header name the
// same version.
func (e Expected) Check(r Response) error {
	if r.Status != http.StatusOK {
		return fmt.Errorf("status %d: %.200q", r.Status, r.Body)
	}
	b := r.Body
	if len(b) != len(e.head)+len(r.Generation)+len(e.tail) || len(r.Generation) == 0 ||
		!bytes.HasPrefix(b, e.head) || !bytes.HasSuffix(b, e.tail) ||
		!bytes.Equal(b[len(e.head):len(e.head)+len(r.Generation)], r.Generation) {
		return fmt.Errorf("generation %s: body %.300q is not the expected one", r.Generation, b)
	}
	return nil
}

// A Table is a generated table, indexed by (key, uri): the block lists
// that the lookups of transdbd must find.
type Table map[[2]string][]transgen.Row

// InsertRows inserts rows, as transgen.Generate returns them, into the
// writable provider p in one transaction and commits it; on an error it
// rolls the transaction back.
func InsertRows(p *translation.Provider, rows []transgen.Row) error {
	_, err := p.Update(func(t *translation.Txn) error {
		for _, r := range rows {
			if _, err := t.Insert(translation.Record{Key: r.Key, URI: r.URI, Block: r.Block, Order: r.Order, Action: r.Action}); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

// NewTable indexes rows, as transgen.Generate returns them (ordered by
// key, uri, block and order).
func NewTable(rows []transgen.Row) Table {
	t := Table{}
	for _, r := range rows {
		k := [2]string{r.Key, r.URI}
		t[k] = append(t[k], r)
	}
	return t
}

// blockJSON is one element of a block list in a response.
type blockJSON struct {
	Block  uint32 `json:"block"`
	Order  uint32 `json:"order"`
	Action string `json:"action"`
	ID     uint64 `json:"id"`
}

// FetchBody is the body of /v1/fetch.
type FetchBody struct {
	Key        string      `json:"key"`
	URI        string      `json:"uri"`
	Generation uint64      `json:"generation"`
	Blocks     []blockJSON `json:"blocks"`
}

// ResolveBody is the body of /v1/resolve.
type ResolveBody struct {
	Key        string      `json:"key"`
	URI        string      `json:"uri"`
	Generation uint64      `json:"generation"`
	Pre        []blockJSON `json:"pre"`
	Matches    []struct {
		URI      string      `json:"uri"`
		PathInfo string      `json:"path_info"`
		Blocks   []blockJSON `json:"blocks"`
	} `json:"matches"`
}

// decodeStrict decodes a JSON body into v, refusing unknown fields and
// trailing data.
func decodeStrict(body []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("decoding %.200q: %w", body, err)
	}
	if d.More() {
		return fmt.Errorf("trailing data after %.200q", body)
	}
	return nil
}

// sameBlocks reports whether a block list of a response holds exactly
// rows, in order.
func sameBlocks(got []blockJSON, rows []transgen.Row) error {
	if len(got) != len(rows) {
		return fmt.Errorf("%d blocks, want %d", len(got), len(rows))
	}
	for i, r := range rows {
		g := got[i]
		if g.Block != r.Block || g.Order != r.Order || g.Action != r.Action || g.ID == 0 {
			return fmt.Errorf("block %d is %+v, want %d/%d %q", i, g, r.Block, r.Order, r.Action)
		}
	}
	return nil
}

// CheckFetch reports whether body is the /v1/fetch answer for key and uri
// that the table implies: its blocks (block, order, action) are the
// table's, in order, and its generation is gen.
func (t Table) CheckFetch(body []byte, key, uri string, gen uint64) error {
	var f FetchBody
	if err := decodeStrict(body, &f); err != nil {
		return err
	}
	if f.Key != key || f.URI != uri || f.Generation != gen {
		return fmt.Errorf("fetch of %s %s answered key %q, uri %q, generation %d (want %d)", key, uri, f.Key, f.URI, f.Generation, gen)
	}
	if err := sameBlocks(f.Blocks, t[[2]string{key, uri}]); err != nil {
		return fmt.Errorf("fetch of %s %s: %w", key, uri, err)
	}
	return nil
}

// CheckResolve reports whether body is the /v1/resolve answer for key and
// uri that the table implies: the :PRE: blocks, then every prefix of uri
// that has blocks, longest first, with its path info; and generation gen.
// The uri must be a plain path, without repeated slashes.
func (t Table) CheckResolve(body []byte, key, uri string, gen uint64) error {
	var r ResolveBody
	if err := decodeStrict(body, &r); err != nil {
		return err
	}
	if r.Key != key || r.URI != uri || r.Generation != gen {
		return fmt.Errorf("resolve of %s %s answered key %q, uri %q, generation %d (want %d)", key, uri, r.Key, r.URI, r.Generation, gen)
	}
	if err := sameBlocks(r.Pre, t[[2]string{key, translation.PreURI}]); err != nil {
		return fmt.Errorf("resolve of %s %s: pre: %w", key, uri, err)
	}
	m := 0
	for prefix, pathInfo := uri, ""; ; {
		if rows := t[[2]string{key, prefix}]; len(rows) > 0 {
			if m >= len(r.Matches) {
				return fmt.Errorf("resolve of %s %s: %d matches, want one for %s", key, uri, len(r.Matches), prefix)
			}
			got := r.Matches[m]
			if got.URI != prefix || got.PathInfo != pathInfo {
				return fmt.Errorf("resolve of %s %s: match %d is %q %q, want %q %q", key, uri, m, got.URI, got.PathInfo, prefix, pathInfo)
			}
			if err := sameBlocks(got.Blocks, rows); err != nil {
				return fmt.Errorf("resolve of %s %s: match %s: %w", key, uri, prefix, err)
			}
			m++
		}
		if prefix == "/" {
			break
		}
		cut := strings.LastIndexByte(prefix, '/')
		pathInfo = uri[cut:]
		if prefix = prefix[:cut]; prefix == "" {
			prefix = "/"
		}
	}
	if m != len(r.Matches) {
		return fmt.Errorf("resolve of %s %s: %d matches, want %d", key, uri, len(r.Matches), m)
	}
	return nil
}

// FetchTarget returns the request target of /v1/fetch for key and uri.
func FetchTarget(key, uri string) string {
	return "/v1/fetch?key=" + url.QueryEscape(key) + "&uri=" + url.QueryEscape(uri)
}

// ResolveTarget returns the request target of /v1/resolve for key and
// uri.
func ResolveTarget(key, uri string) string {
	return "/v1/resolve?key=" + url.QueryEscape(key) + "&uri=" + url.QueryEscape(uri)
}
