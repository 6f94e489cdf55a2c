package httpprovider

import (
	"io"

	"transdb/engine"
)

// WriteDecision writes the JSON form of a decision
// (engine.Decision.AppendJSON), the body of GET /v1/translate, followed
// by a newline. transdbd translate prints the same.
func WriteDecision(w io.Writer, d *engine.Decision) error {
	return writeJSON(w, func(j *jsonWriter) { j.decision(d) })
}

// decision writes the JSON form of d and a newline.
func (j *jsonWriter) decision(d *engine.Decision) {
	b := d.AppendJSON(j.bw.AvailableBuffer())
	j.bw.Write(append(b, '\n'))
}
