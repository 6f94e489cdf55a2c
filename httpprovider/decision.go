package httpprovider

import (
	"io"
	"strconv"

	"transdb/engine"
)

// WriteDecision writes the JSON form of a decision, the body of
// GET /v1/translate, followed by a newline:
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
// always objects. transdbd translate prints the same.
func WriteDecision(w io.Writer, d *engine.Decision) error {
	return writeJSON(w, func(j *jsonWriter) { j.decision(d) })
}

func (j *jsonWriter) decision(d *engine.Decision) {
	j.raw(`{"generation":`)
	j.uint(d.Generation)
	j.raw(`,"key":`)
	j.str(d.Key)
	j.raw(`,"uri":`)
	j.str(d.URI)
	j.raw(`,"status":`)
	j.int(d.Status)
	j.optional("location", d.Location)
	j.optional("message", d.Message)
	j.optional("proxy", d.Proxy)
	j.optional("file", d.File)
	j.optional("handler", d.Handler)
	if d.Doc != nil {
		j.raw(`,"doc":{"content_type":`)
		j.str(d.Doc.ContentType)
		j.raw(`,"body":`)
		j.str(d.Doc.Body)
		j.raw("}")
	}
	j.raw(`,"config":`)
	j.pairs(d.Config)
	j.raw(`,"fixup_config":`)
	j.pairs(d.FixupConfig)
	j.raw(`,"matched_uri":`)
	j.str(d.MatchedURI)
	j.raw(`,"path_info":`)
	j.str(d.PathInfo)
	j.raw(`,"notes":{`)
	for i, n := range d.Notes {
		if i > 0 {
			j.raw(",")
		}
		j.str(n.Name)
		j.raw(":")
		j.array(len(n.Values), func(k int) { j.str(n.Values[k]) })
	}
	j.raw(`},"ctx":{`)
	for i, v := range d.CTX {
		if i > 0 {
			j.raw(",")
		}
		j.str(v.Name)
		j.raw(":")
		j.str(v.Value)
	}
	j.raw(`},"errors":`)
	j.array(len(d.Errors), func(i int) {
		e := &d.Errors[i]
		j.raw(`{"id":`)
		j.uint(e.ID)
		j.raw(`,"action":`)
		j.str(e.Action)
		j.raw(`,"error":`)
		j.str(e.Error)
		j.raw("}")
	})
	if len(d.Trace) > 0 {
		j.raw(`,"trace":`)
		j.array(len(d.Trace), func(i int) { j.step(&d.Trace[i]) })
	}
	j.raw("}\n")
}

// step writes one step of a trace.
func (j *jsonWriter) step(s *engine.Step) {
	j.raw(`{"state":`)
	j.str(s.State)
	j.raw(`,"key":`)
	j.str(s.Key)
	j.raw(`,"uri":`)
	j.str(s.URI)
	j.raw(`,"id":`)
	j.uint(s.ID)
	j.raw(`,"block":`)
	j.uint(uint64(s.Block))
	j.raw(`,"order":`)
	j.uint(uint64(s.Order))
	j.raw(`,"action":`)
	j.str(s.Action)
	if s.Ran {
		j.raw(`,"ran":true`)
	} else {
		j.raw(`,"ran":false`)
	}
	if s.CondFalse {
		j.raw(`,"cond_false":true`)
	}
	if s.Depth > 0 {
		j.raw(`,"depth":`)
		j.int(s.Depth)
	}
	j.optional("note", s.Note)
	j.raw("}")
}

// optional writes ,"name":value unless value is empty.
func (j *jsonWriter) optional(name, value string) {
	if value == "" {
		return
	}
	j.raw(`,"`)
	j.raw(name)
	j.raw(`":`)
	j.str(value)
}

// pairs writes [location, directive] pairs as an array of arrays.
func (j *jsonWriter) pairs(ps [][2]string) {
	j.array(len(ps), func(i int) {
		j.raw("[")
		j.str(ps[i][0])
		j.raw(",")
		j.str(ps[i][1])
		j.raw("]")
	})
}

// int writes n as a JSON number.
func (j *jsonWriter) int(n int) { j.bw.Write(strconv.AppendInt(j.bw.AvailableBuffer(), int64(n), 10)) }
