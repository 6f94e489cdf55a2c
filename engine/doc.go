// Package engine evaluates translation tables for requests, as
// Apache2::Translation does for every request it translates: its state
// machine over the block lists of a table, and its actions.
//
// A translation starts in state START with the request's uri (runs of
// '/' collapsed; a uri that neither starts with '/' nor is '*' is a 400),
// runs the :PRE: list of its key in PREPROC (again whenever an action
// changed the key), then walks the uri in PROC: the list of the uri,
// then of each shorter prefix, the cut segments gathering in
// $MATCHED_PATH_INFO, until '/' (or '*'). In each list a false Cond
// skips the rest of its block; a list in which no action ran moves the
// state on. The actions Do, Key, Uri, File, Proxy, Redirect, Error,
// Done, Last, Restart, State, Call, Config, FixupConfig, Fixup, Doc,
// PerlHandler, PerlScript and CgiScript do what they do upstream; the
// work upstream defers to later phases (Fixup code, the PerlHandler and
// Doc expressions) runs after the translation, so that its effects are
// in the Decision. EVALUATION.md in the project's design documents is
// the specification; where upstream loops forever (quirk Q1, keys that
// switch back and forth, endless Calls) Options.MaxSteps and
// Options.MaxCallDepth end the translation with a 500, as Options.MaxRows
// does for block lists too long to walk, and as an action does that
// passes a bound on resources (MaxWork, MaxKept, and the bounds of
// engine/expr): its value is not the table's, so the translation cannot
// go on without it, lest a Cond be false and what it guards skipped.
//
// Actions are written in a safe subset of Perl, package engine/expr:
// nothing they say can reach files, the network or the process. A row in
// Perl the subset does not offer is reported (Decision.Errors,
// Engine.Check) and evaluates to undef, as a Perl compile error does
// upstream. Each action is compiled once and kept in a bounded cache;
// translations run concurrently, each on one version of the table.
//
// Engine.Translate returns a Decision for the caller to keep.
// Engine.DecideIn hands it to a function instead and reuses its memory
// for later translations, for a server that is done with a decision
// once it has written its answer.
//
// A translation depends only on the version of the table, the Options,
// its start key and uri, and what its actions read of the Request. Each
// Engine keeps the decisions of requests seen more than once, with what
// their translations read, and answers a request that agrees on all of
// it with the kept decision (Options.DecisionCacheBytes; memo.go says
// why that is the translation's decision).
package engine
