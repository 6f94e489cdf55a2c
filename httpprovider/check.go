package httpprovider

import "net/http"

// handleCheck serves GET /v1/check[?key=K[&uri=U]]: the rows of a table
// whose action the engine cannot evaluate, as transdbd check lists them,
// from one version:
//
//	{"generation":G,"findings":[{"id":N,"key":K,"uri":U,"block":B,"order":O,
//	  "action":A,"error":E,"unsupported":true},...]}
//
// in table order; unsupported says that the action is Perl the engine
// does not offer rather than malformed. Without key the whole table is
// checked, with key its lists, with key and uri one list. Compiled
// actions are cached, so a check after the first costs a walk over the
// rows.
func (s *Server) handleCheck(x *exchange) error {
	q, err := x.params()
	if err != nil {
		return err
	}
	key, err := optionalKeyURI(q, "key")
	if err != nil {
		return err
	}
	uri, err := optionalKeyURI(q, "uri")
	if err != nil {
		return err
	}
	if uri != "" && key == "" {
		return errorf(http.StatusBadRequest, "parameter uri needs the parameter key")
	}
	x.key, x.uri = key, uri
	snap, err := x.snapshot()
	if err != nil {
		return err
	}
	defer snap.Release()
	findings, err := x.prov.e.CheckIn(snap, key, uri)
	if err != nil {
		return err
	}
	return x.respondJSON(func(j *jsonWriter) {
		j.raw(`{"generation":`)
		j.uint(snap.Generation())
		j.raw(`,"findings":`)
		j.array(len(findings), func(i int) {
			f := &findings[i]
			j.raw(`{"id":`)
			j.uint(f.ID)
			j.raw(`,"key":`)
			j.str(f.Key)
			j.raw(`,"uri":`)
			j.str(f.URI)
			j.raw(`,"block":`)
			j.uint(uint64(f.Block))
			j.raw(`,"order":`)
			j.uint(uint64(f.Order))
			j.raw(`,"action":`)
			j.str(f.Action)
			j.raw(`,"error":`)
			j.str(f.Reason)
			j.raw(`,"unsupported":`)
			j.bool(f.Unsupported)
			j.raw("}")
		})
		j.raw("}\n")
	})
}
