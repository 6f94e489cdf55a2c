// Package expr evaluates the Perl expressions of Apache2::Translation
// actions (Cond, Do, Key, Uri, File, Redirect, Config, ...) without Perl:
// a lexer and a recursive-descent parser build a syntax tree, the compiler
// turns it into a tree of closures once, and a compiled Program is then
// evaluated any number of times, concurrently, against the request given
// as an Env.
//
// # The language
//
// It is the subset of Perl the upstream documentation and test suite use
// (EVALUATION.md, section 2), with Perl's meaning:
//
//   - literals: 'single' (escapes \' and \\ only), "double" with escapes
//     (\" \\ \n \t \r \$ \@ \x41 \x{263A} \101 ...) and interpolation of
//     scalars and element accesses ("$URI", "${URI}", "$ARGV[0]",
//     "$CTX{lang}", "$ctx->{name}", "$HEADERS->{Host}", "$1"), q(), qq{},
//     qw with any delimiter, integers (also 0x1f, 0b101, 017, 1_000) and
//     decimals (also .5, 1., 1.e3, 1e1_0);
//   - operators: . x + - * / % ** (unary - + !), where x repeats a list
//     after parentheses or qw (('a', 'b') x 2), eq ne lt gt le ge cmp,
//     == != < > <= >= <=> (all but cmp and <=> chain, as since Perl 5.32:
//     1 < $x <= 9), =~ and !~ with /.../ or m{...} (flags i m s x),
//     && || // and or not, ?:, the comma and =>, [...] array references,
//     = and the compound assignments (.= += -= *= /= %= **= x= ||= &&= //=);
//   - statements separated by ;, do { ... }, if/elsif/else and unless
//     blocks, and the statement modifiers if and unless;
//   - variables: $URI $REAL_URI $METHOD $QUERY_STRING $FILENAME $DOCROOT
//     $HOSTNAME $PATH_INFO $REQUEST $CLIENTIP $KEEPALIVE $MATCHED_URI
//     $MATCHED_PATH_INFO $KEY $DEBUG $STATE $RC, $CTX{k} and $ctx->{k},
//     $ARGV[n], $HEADERS->{Name}, $1..$9, the constants START PREPROC PROC
//     DONE LOOKUPFILE and Apache2::Const::OK, DECLINED, DONE, NOT_FOUND,
//     FORBIDDEN, SERVER_ERROR, REDIRECT, HTTP_MOVED_PERMANENTLY;
//   - functions: join lc uc length substr sprintf defined die;
//   - the request: $r->notes->{k} (and ->add, ->get, ->set),
//     $r->headers_in->{Name}, $r->uri, unparsed_uri, method, args,
//     path_info, the_request, filename, handler, document_root,
//     get_server_name, get_server_port, hostname (uri, args, path_info,
//     filename and handler with an argument set it), $r->connection and
//     $C with remote_ip and keepalive, and $r->main (defined only in a
//     subrequest) with ->args.
//
// As in Perl, a term after undef is the variable it undefines, so that
// undef + 1 and undef .5 are compile errors, as Perl's "Can't modify
// constant item in undef operator" (write undef() + 1), and undef $x is
// not available; // and ? after undef are operators; not needs an
// operand (not() is true).
//
// Values follow Perl's scalar rules: undef reads as "" or 0, strings
// numify by their leading number ("3abc" is 3), numbers print like Perl
// (1, 1.5, 1e+21), "", "0", 0 and undef are false, == compares numbers
// and eq strings, && || and // return the deciding operand, a comma list
// in scalar context is its last element and list context flattens nested
// lists. Strings are byte strings, as Apache's are: length and substr
// count bytes, lc and uc change ASCII letters. Integers stay integers as
// in Perl, from -2^63 to 2^64-1 (Perl's unsigned integers from 2^63):
// + - * % and comparisons of integer operands compute with integers,
// a float with a whole value below 2^53 counting as one (1e15*10 is
// 10000000000000000), / gives a float unless the dividend is beyond 2^53
// and divides exactly, ** an integer where Perl computes it with
// integers (10**16, not 2**52), and a result beyond that range is a
// float. A string counts as an integer operand when all of it is one, or
// is a number with an exponent and a whole value from -2^63 to 2^64-1
// ("1e16" + 1 is 10000000000000001), and so does the false of ! and
// comparisons, but not a string made from it ("" . !1); "4.0", "12abc", "" and undef are
// floats there, as in Perl ("" + 1e15 is 1e+15); += and -= take an
// undefined target for the integer 0; + and - make an integer of two
// floats (or true and false) with whole values below 2^62 (1e16 - !0 is
// 9999999999999999, 1e16 - 1 is 1e+16). A number
// used as an integer (a substr offset or length, a subscript, sprintf's
// %d, the count of x) converts as Perl converts it: a float is
// truncated, and from 2^63 it is the unsigned integer read as a signed
// one (1e19 is -8446744073709551616, Inf and 2**64 are -1, NaN is 0),
// except that substr and x take an unsigned integer for the large number
// it is; so 'a' x 1e19 is "", and 'a' x 18446744073709551615 too long.
// "${URI}" ends the variable at its brace.
//
// Differences from Perl that remain: Perl marks a variable whose float a
// later operation read as a whole integer, and then prints it as one ($x
// = 1e15; $x + 0; "$x" is 1000000000000000 in Perl, 1e+15 here), where
// values here never change; patterns match the UTF-8 characters of a
// string, where length counts its bytes, and fold case over Unicode;
// RE2's ^ under /m matches after a final newline, and \Z and $ take the
// final newline into a capture; a ternary cannot be assigned to;
// sprintf's %n, with which Perl stores the length of the output into the
// argument, is a runtime error, and its vector flag (%vd) takes the bytes
// of a string where Perl takes its characters (sprintf('%vd', "1.22.333")
// is 49.46.50.50.46.51.51.51 in both; the version string 1.22.333 is left
// out); an operand is the value its variable holds when the operand is
// evaluated, where Perl's is the variable itself, whose value a later
// part of the expression may change: $KEY . ($KEY = 'x') is the old $KEY
// followed by x, where Perl gives xx. The captures $1..$9 of the matches
// in a block end with it, as in Perl.
//
// Every variable name is resolved to a Var when compiling and every
// pattern is compiled then; evaluating looks up nothing by name and
// compiles nothing. A pattern that is a plain literal, optionally
// anchored (/de$/, /^www\./), is tested with string comparisons;
// the others run Go's RE2 engine, which matches in time linear in the
// subject. $ matches at the end or before a final newline, as in Perl (a
// capture group that ends with $ includes that newline).
//
// # What is left out, and why
//
// Nothing an expression says can reach files, the network, the
// environment or the process: there is no construct for it. Perl that
// needs an interpreter or breaks that promise fails to compile with an
// *Error whose Unsupported field is set, so that a table check can list
// the row; the engine evaluates such a row to undef, as upstream does with
// a Perl compile error. This covers code references (sub {...}), require
// and use, my/our/local, eval, map, grep, sort, loops and loop control,
// goto, return, system, exec, open, print, backticks, here-documents,
// <FH>, s/// and tr///, method calls through a variable ($r->$name) and
// any method or function not listed above (including subrequests),
// hash slices and dereferences, %ENV and any unknown variable, @ARGV as a
// whole, ++ and --, the range and bitwise operators, version strings
// (1.2.3), patterns that interpolate variables, and regex features RE2
// lacks (backreferences, lookaround, atomic groups, possessive
// quantifiers, \G).
//
// # Limits
//
// A source is at most MaxSource bytes, and compiling it takes time and
// memory in proportion to its size; its patterns compile to MaxPatterns
// instructions at most, together, whatever their counted repeats and
// classes, and a match costlier than MaxMatchWork is a runtime error;
// parentheses, blocks and other
// nesting are bounded by MaxNesting, so a hostile source cannot exhaust
// the stack; no construct loops, so evaluation time is bounded by the
// size of the source and its data; every string an operation
// produces is bounded by MaxString (sprintf widths and precisions by
// 1000), and so is a repeated list, counting each element as the size of
// a Value, past which evaluation stops with a runtime error; and the work
// that grows with the data (bytes built, compared and matched) is told
// to Env.Spend, so that the environment bounds what many such operations
// do together.
package expr
