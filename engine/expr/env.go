package expr

// Var is a request variable an expression reads or assigns: a convenience
// variable such as $URI or the value behind a $r method such as
// $r->get_server_name. Names are resolved to a Var when a Program is
// compiled, so evaluation never looks a variable up by name.
type Var uint8

const (
	URI             Var = iota // $URI, $r->uri
	RealURI                    // $REAL_URI, $r->unparsed_uri
	Method                     // $METHOD, $r->method
	QueryString                // $QUERY_STRING, $r->args
	Filename                   // $FILENAME, $r->filename
	DocRoot                    // $DOCROOT, $r->document_root
	Hostname                   // $HOSTNAME, $r->hostname
	PathInfo                   // $PATH_INFO, $r->path_info
	Request                    // $REQUEST, $r->the_request
	ClientIP                   // $CLIENTIP, $r->connection->remote_ip, $C->remote_ip
	KeepAlive                  // $KEEPALIVE, $r->connection->keepalive
	MatchedURI                 // $MATCHED_URI
	MatchedPathInfo            // $MATCHED_PATH_INFO
	Key                        // $KEY
	Debug                      // $DEBUG
	State                      // $STATE
	RC                         // $RC
	ServerName                 // $r->get_server_name
	ServerPort                 // $r->get_server_port
	Handler                    // $r->handler
	MainArgs                   // $r->main->args (undef Value and HasMain false for a top-level request)
	NumVars
)

// varNames maps each Var to the way the source names it.
var varNames = [NumVars]string{
	URI:             "$URI",
	RealURI:         "$REAL_URI",
	Method:          "$METHOD",
	QueryString:     "$QUERY_STRING",
	Filename:        "$FILENAME",
	DocRoot:         "$DOCROOT",
	Hostname:        "$HOSTNAME",
	PathInfo:        "$PATH_INFO",
	Request:         "$REQUEST",
	ClientIP:        "$CLIENTIP",
	KeepAlive:       "$KEEPALIVE",
	MatchedURI:      "$MATCHED_URI",
	MatchedPathInfo: "$MATCHED_PATH_INFO",
	Key:             "$KEY",
	Debug:           "$DEBUG",
	State:           "$STATE",
	RC:              "$RC",
	ServerName:      "$r->get_server_name",
	ServerPort:      "$r->get_server_port",
	Handler:         "$r->handler",
	MainArgs:        "$r->main->args",
}

// String returns the variable as the source names it, e.g. "$URI" or
// "$r->get_server_name", for messages.
func (v Var) String() string {
	if v < NumVars {
		return varNames[v]
	}
	return "Var(?)"
}

// scalarVars are the convenience variables by name, without the sigil.
// Only the compiler consults it.
var scalarVars = map[string]Var{
	"URI":               URI,
	"REAL_URI":          RealURI,
	"METHOD":            Method,
	"QUERY_STRING":      QueryString,
	"FILENAME":          Filename,
	"DOCROOT":           DocRoot,
	"HOSTNAME":          Hostname,
	"PATH_INFO":         PathInfo,
	"REQUEST":           Request,
	"CLIENTIP":          ClientIP,
	"KEEPALIVE":         KeepAlive,
	"MATCHED_URI":       MatchedURI,
	"MATCHED_PATH_INFO": MatchedPathInfo,
	"KEY":               Key,
	"DEBUG":             Debug,
	"STATE":             State,
	"RC":                RC,
}

// requestMethod is a $r method that reads (and, with setter, writes) a
// variable.
type requestMethod struct {
	v      Var
	setter bool
}

var requestMethods = map[string]requestMethod{
	"uri":             {URI, true},
	"unparsed_uri":    {RealURI, false},
	"method":          {Method, false},
	"args":            {QueryString, true},
	"path_info":       {PathInfo, true},
	"the_request":     {Request, false},
	"filename":        {Filename, true},
	"handler":         {Handler, true},
	"document_root":   {DocRoot, false},
	"get_server_name": {ServerName, false},
	"get_server_port": {ServerPort, false},
	"hostname":        {Hostname, false},
}

// Env is the request an expression runs against; the translation engine
// implements it, one per request evaluation. A Program calls it from the
// goroutine that called Scalar or List only; an Env that is used by one
// evaluation at a time needs no locking.
type Env interface {
	// Get returns a variable's current value.
	Get(v Var) Value
	// Set assigns a variable. It returns an error for a variable the
	// engine does not let expressions change (e.g. ServerName); the
	// evaluation then fails with a runtime error carrying its message.
	Set(v Var, x Value) error
	// HasMain reports whether $r->main is defined, that is whether the
	// request is a subrequest.
	HasMain() bool
	// CTX returns $CTX{key}, undef when unset.
	CTX(key string) Value
	// SetCTX assigns $CTX{key}. It returns an error when the engine
	// does not keep the value (it bounds what one evaluation may keep);
	// the evaluation then fails with a runtime error carrying its
	// message. So do SetNote and AddNote.
	SetCTX(key string, x Value) error
	// Note returns the first value of the request note key, undef when
	// there is none ($r->notes->{key}, $r->notes->get(key)).
	Note(key string) Value
	// SetNote replaces every value of the note key with x
	// ($r->notes->{key} = x, $r->notes->set(key, x)).
	SetNote(key string, x Value) error
	// AddNote appends x to the values of the note key
	// ($r->notes->add(key, x)).
	AddNote(key string, x Value) error
	// Header returns the request header name, matched without regard to
	// case, or undef when absent ($HEADERS->{name},
	// $r->headers_in->{name}).
	Header(name string) Value
	// Arg returns $ARGV[i], the parameters of the innermost Call: undef
	// out of range; a negative i counts from the end, as in Perl.
	Arg(i int) Value
	// Spend is told of the work an evaluation is about to do that grows
	// with its data: each byte of a string it builds, compares or scans
	// for a match counts one, and a match of a pattern that is not plain
	// text what MaxMatchWork counts. Each operation is bounded (by
	// MaxString, MaxMatchWork), but not how many there are: a source
	// of 64 KiB can build thousands of 1 MiB strings. An error refuses
	// the work, and the evaluation fails with a runtime error carrying
	// its message; an environment bounds what its evaluations may do
	// together by refusing past a budget.
	Spend(work int64) error
}
