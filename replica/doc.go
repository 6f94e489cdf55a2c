// Package replica keeps read-only copies of a database file on other
// machines up to date through a NATS JetStream object store: the writer
// publishes every version of its file, each replica follows them.
//
// # Objects
//
// A bucket holds one object per database file, named after the file's
// base name (trans.mmdb), whose content is the file of one version
// exactly as it was committed (mmapdb.NewImageReader). Its metadata
// names the version: transdb-generation, the generation in decimal, and
// transdb-checksum, the body checksum as eight hexadecimal digits (the
// ETag of /v1/snapshot is "GENERATION-CHECKSUM" of the same numbers).
// NATS adds the SHA-256 digest of the content and replaces the object's
// chunks with every put, so the bucket holds about one copy of the file.
//
// # Publishing
//
// A Publisher puts the newest version of its provider's file into the
// bucket after each commit (Notify) and whenever it finds one it has not
// put, in particular on start when the bucket lacks the current version
// and after commits of other processes. It runs in a goroutine of its
// own: a commit never waits for it. It puts only a version newer than
// the one in the bucket, and publishers of one file on one machine take
// turns (<file>.replica.lock), so an older version never replaces a
// newer one. A publisher creates the bucket when it is missing, with
// three replicas in a NATS cluster of three servers or more and one
// otherwise. Failures, a NATS outage among them, are logged, counted in
// Status and retried with a backoff from a quarter of a second up to 15
// seconds, the newest version first.
//
// # Following
//
// A Follower watches the bucket for its file's object. For every
// version newer than its file it downloads the object into a temporary
// file beside the database (<file>.follow-*), checks the object's
// SHA-256 digest while it downloads, its length, and that the file's
// header has the generation and checksum of the metadata, and hands it
// to mmapdb.Install, which verifies the whole file and renames it into
// place: the replica's readers switch to it as after any commit, and the
// generation is the writer's. An object that is corrupt, truncated, not
// newer than the file or without metadata is refused: counted, logged
// and not tried again, while the file in place goes on being served. A
// download superseded by a newer object is abandoned for it; one that
// fails otherwise is retried with the backoff. A follower that starts
// while NATS or the writer is down serves the file it has; one without a
// file serves none until the first version arrives. Besides the watch,
// it asks the bucket for the object every two seconds, so that an update
// lost with a NATS server is noticed all the same. A transfer that moves
// nothing for ten seconds (its NATS server died) is abandoned and tried
// again, through another server of the cluster.
//
// # Connections
//
// Options.URL is one NATS server or several separated by commas:
// nats://HOST:PORT, tls://HOST:PORT for TLS (verified against the
// system's authorities or Options.RootCAs), with user:password@ or
// token@ where the server wants it, and Options.Credentials for a NATS
// credentials file. The connection is retried for ever; it moves to
// another server of a cluster when its server goes. What the package
// logs and reports shows URLs without their user information.
package replica
