package engine

import (
	"strconv"

	"transdb/internal/jsontext"
)

// AppendJSON appends the JSON form of the decision to b, the body of
// GET /v1/translate without its final newline:
//
//	{"generation":G,"key":K,"uri":U,"status":S,"location":L,"message":M,
//	 "proxy":P,"file":F,"handler":H,"doc":{"content_type":C,"body":B},
//	 "config":[[LOC,DIRECTIVE],...],"fixup_config":[...],
//	 "matched_uri":MU,"path_info":PI,"notes":{NAME:[VALUE,...],...},
//	 "ctx":{NAME:VALUE,...},"errors":[{"id":N,"action":A,"error":E},...],
//	 "trace":[{"state":S,"key":K,"uri":U,"id":N,"block":B,"order":O,
//	           "action":A,"ran":true|false,"cond_false":true,"depth":D,"note":N},...]}
//
// location, message, proxy, file, handler, doc and trace are left out
// when they have no value (in a trace step, cond_false, depth and note
// too); config, fixup_config and errors are always arrays, notes and ctx
// always objects. Strings are escaped as encoding/json escapes them
// without its HTML escaping (see package internal/jsontext). A decision
// from the decision cache was written once, when it was kept, and is
// copied.
func (d *Decision) AppendJSON(b []byte) []byte {
	if d.json != nil {
		return append(b, d.json...)
	}
	str := jsontext.AppendString
	b = append(b, `{"generation":`...)
	b = strconv.AppendUint(b, d.Generation, 10)
	b = append(b, `,"key":`...)
	b = str(b, d.Key)
	b = append(b, `,"uri":`...)
	b = str(b, d.URI)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(d.Status), 10)
	b = appendOptional(b, "location", d.Location)
	b = appendOptional(b, "message", d.Message)
	b = appendOptional(b, "proxy", d.Proxy)
	b = appendOptional(b, "file", d.File)
	b = appendOptional(b, "handler", d.Handler)
	if d.Doc != nil {
		b = append(b, `,"doc":{"content_type":`...)
		b = str(b, d.Doc.ContentType)
		b = append(b, `,"body":`...)
		b = str(b, d.Doc.Body)
		b = append(b, '}')
	}
	b = append(b, `,"config":`...)
	b = appendPairs(b, d.Config)
	b = append(b, `,"fixup_config":`...)
	b = appendPairs(b, d.FixupConfig)
	b = append(b, `,"matched_uri":`...)
	b = str(b, d.MatchedURI)
	b = append(b, `,"path_info":`...)
	b = str(b, d.PathInfo)
	b = append(b, `,"notes":{`...)
	for i, n := range d.Notes {
		if i > 0 {
			b = append(b, ',')
		}
		b = str(b, n.Name)
		b = append(b, ":["...)
		for k, v := range n.Values {
			if k > 0 {
				b = append(b, ',')
			}
			b = str(b, v)
		}
		b = append(b, ']')
	}
	b = append(b, `},"ctx":{`...)
	for i, v := range d.CTX {
		if i > 0 {
			b = append(b, ',')
		}
		b = str(b, v.Name)
		b = append(b, ':')
		b = str(b, v.Value)
	}
	b = append(b, `},"errors":[`...)
	for i := range d.Errors {
		e := &d.Errors[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = strconv.AppendUint(b, e.ID, 10)
		b = append(b, `,"action":`...)
		b = str(b, e.Action)
		b = append(b, `,"error":`...)
		b = str(b, e.Error)
		b = append(b, '}')
	}
	b = append(b, ']')
	if len(d.Trace) > 0 {
		b = append(b, `,"trace":[`...)
		for i := range d.Trace {
			if i > 0 {
				b = append(b, ',')
			}
			b = d.Trace[i].appendJSON(b)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendJSON appends the step as an element of a decision's trace.
func (s *Step) appendJSON(b []byte) []byte {
	str := jsontext.AppendString
	b = append(b, `{"state":`...)
	b = str(b, s.State)
	b = append(b, `,"key":`...)
	b = str(b, s.Key)
	b = append(b, `,"uri":`...)
	b = str(b, s.URI)
	b = append(b, `,"id":`...)
	b = strconv.AppendUint(b, s.ID, 10)
	b = append(b, `,"block":`...)
	b = strconv.AppendUint(b, uint64(s.Block), 10)
	b = append(b, `,"order":`...)
	b = strconv.AppendUint(b, uint64(s.Order), 10)
	b = append(b, `,"action":`...)
	b = str(b, s.Action)
	if s.Ran {
		b = append(b, `,"ran":true`...)
	} else {
		b = append(b, `,"ran":false`...)
	}
	if s.CondFalse {
		b = append(b, `,"cond_false":true`...)
	}
	if s.Depth > 0 {
		b = append(b, `,"depth":`...)
		b = strconv.AppendInt(b, int64(s.Depth), 10)
	}
	b = appendOptional(b, "note", s.Note)
	return append(b, '}')
}

// appendOptional appends ,"name":value unless value is empty.
func appendOptional(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	b = append(b, ",\""...)
	b = append(b, name...)
	b = append(b, "\":"...)
	return jsontext.AppendString(b, value)
}

// appendPairs appends [location, directive] pairs as an array of arrays.
func appendPairs(b []byte, ps [][2]string) []byte {
	b = append(b, '[')
	for i, p := range ps {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = jsontext.AppendString(b, p[0])
		b = append(b, ',')
		b = jsontext.AppendString(b, p[1])
		b = append(b, ']')
	}
	return append(b, ']')
}
