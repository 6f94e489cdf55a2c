package engine

// A Decision is the outcome of evaluating a table for a request: what
// the proxy in front is to do with it. Its JSON form (AppendJSON) is the
// body of GET /v1/translate; fields without a value are left out there.
type Decision struct {
	// Generation is the database version the table was read from: one
	// version for the whole evaluation.
	Generation uint64
	// Key is the key the evaluation ended with, URI the request's uri at
	// the end ($URI, changed by Uri and Restart).
	Key, URI string
	// Status is 0 when the request is to proceed, else the HTTP status to
	// answer with: a Redirect's or Error's code, 400 for a bad uri, 500
	// for a failed Redirect, a code outside 200-999 or a limit reached,
	// or a status the table put in $RC.
	Status int
	// Location is the absolute URL of a redirect (3xx only), built as
	// upstream builds it.
	Location string
	// Message is an Error's message, or why the translation answered 400
	// or 500 itself: a bad uri, a limit, a Redirect without a location
	// or with a code outside 200-999, a PerlHandler without a handler, a
	// status in $RC outside 200-999.
	Message string
	// Proxy is the URL of the first Proxy action: the upstream to send
	// the request to.
	Proxy string
	// File is the file the table mapped the request to ($FILENAME).
	File string
	// Handler is the value of the first PerlHandler, or the handler that
	// CgiScript or PerlScript set (cgi-script, perl-script).
	Handler string
	// Doc is the document of the first Doc action, nil when none ran.
	Doc *Doc
	// Config and FixupConfig are the [location, directive] pairs of the
	// Config and FixupConfig actions (and of CgiScript and PerlScript),
	// in the order they ran.
	Config, FixupConfig [][2]string
	// MatchedURI and PathInfo are $MATCHED_URI and $MATCHED_PATH_INFO as
	// they were when the first File, Proxy, PerlHandler, Doc, CgiScript
	// or PerlScript action ran, else at the end of the translation.
	MatchedURI, PathInfo string
	// Notes are the request notes ($r->notes) the table set, each with
	// its values in the order set or added, in the order first set.
	Notes []Note
	// CTX is %CTX at the end of the translation, in the order the keys
	// were first set.
	CTX []Var
	// Errors lists the rows whose action could not be evaluated (not
	// supported, does not parse, died) and the limits reached: by a
	// row's action, with its row, else with ID 0 and no action.
	Errors []RowError
	// Trace lists every row the evaluation looked at, when the Request
	// asked for it.
	Trace []Step

	// StartKey is the key the evaluation started with: the Request's, or
	// Options.TranslationKey. Rows is the number of rows it walked, as
	// MaxRows counts them. Neither is part of the decision's JSON.
	StartKey string
	Rows     int

	json []byte // AppendJSON's, for a decision the decision cache keeps
}

// Doc is the document a Doc action answers with.
type Doc struct {
	ContentType string
	Body        string
}

// A Note is a request note with its values.
type Note struct {
	Name   string
	Values []string
}

// A Var is one %CTX entry.
type Var struct {
	Name, Value string
}

// A RowError says why a row's action could not be evaluated, or (with
// ID 0) which limit the evaluation reached.
type RowError struct {
	ID     uint64
	Action string
	Error  string
}

// A Step is one row the evaluation looked at, or (with ID 0) an event
// such as a limit reached.
type Step struct {
	State  string // START, PREPROC, PROC, DONE or LOOKUPFILE
	Key    string
	URI    string // the uri of the block list: ":PRE:", a prefix, a Call's name
	ID     uint64
	Block  uint32
	Order  uint32
	Action string
	// Ran reports whether the row ran: false for the rows a false Cond
	// skipped. A Cond that was evaluated ran; CondFalse says it was false.
	Ran       bool
	CondFalse bool
	// Depth is the Call nesting of the row: 0 in the list of a state.
	Depth int
	// Note says what happened beyond running the row, e.g. the limit
	// that stopped the evaluation.
	Note string
}
