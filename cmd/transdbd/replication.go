package main

import (
	"errors"
	"log/slog"

	"transdb/conf"
	"transdb/httpprovider"
	"transdb/internal/redact"
	"transdb/replica"
	"transdb/translation"
)

// replication holds the publishers and followers of a daemon's files,
// one per replicated file.
type replication struct {
	publishers map[string]*replica.Publisher // by file
	followers  []*replica.Follower
	reporters  []httpprovider.Replicator
}

// startReplication starts publishing or following the files of the
// providers whose configuration, cfg.Providers in the same order, says
// Publish or Follow. The configuration has made sure that a file has
// one replication, which its providers share.
func startReplication(cfg *conf.Config, providers []*translation.Provider, logger *slog.Logger) (*replication, error) {
	r := &replication{publishers: map[string]*replica.Publisher{}}
	started := map[string]bool{}
	for i, cp := range cfg.Providers {
		p := providers[i]
		rc, role := cp.Publish, "publish"
		if rc == nil {
			rc, role = cp.Follow, "follow"
		}
		if rc == nil || started[p.Path()] {
			continue
		}
		started[p.Path()] = true
		logger.Info("replication", "file", p.Path(), "role", role, "url", redact.URL(rc.URL), "bucket", rc.Bucket)
		opts := replica.Options{URL: rc.URL, Bucket: rc.Bucket, Credentials: rc.Credentials, RootCAs: rc.RootCAs,
			NoLock: cp.NoLock, Logger: logger}
		if role == "publish" {
			pb, err := replica.NewPublisher(p, opts)
			if err != nil {
				r.close()
				return nil, err
			}
			r.publishers[p.Path()] = pb
			r.reporters = append(r.reporters, reporter(pb.Status))
		} else {
			f, err := replica.NewFollower(p, opts)
			if err != nil {
				r.close()
				return nil, err
			}
			r.followers = append(r.followers, f)
			r.reporters = append(r.reporters, reporter(f.Status))
		}
	}
	return r, nil
}

// notify tells the publisher of file, if it has one, of a commit.
func (r *replication) notify(file string, _ uint64) {
	if pb := r.publishers[file]; pb != nil {
		pb.Notify()
	}
}

// notifyAll tells every publisher to look for a version to publish now.
func (r *replication) notifyAll() {
	for _, pb := range r.publishers {
		pb.Notify()
	}
}

// close stops the publishers and followers.
func (r *replication) close() error {
	var errs []error
	for _, pb := range r.publishers {
		errs = append(errs, pb.Close())
	}
	for _, f := range r.followers {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}

// reporter shows the status of a publisher or follower to the HTTP
// server.
type reporter func() replica.Status

func (rep reporter) ReplicationStatus() httpprovider.ReplicationStatus {
	st := rep()
	return httpprovider.ReplicationStatus{
		File: st.File, Role: st.Role, URL: st.URL, Bucket: st.Bucket, Object: st.Object,
		Connected: st.Connected, Generation: st.Generation, Newest: st.Newest, Behind: st.Behind,
		LastSync: st.LastSync, Transfers: st.Transfers, Bytes: st.Bytes, Failures: st.Failures,
		Refused: st.Refused, Err: st.Err,
	}
}
