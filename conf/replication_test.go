package conf

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestPublishAndFollowNameServersAndABucket(t *testing.T) {
	creds := filepath.Join(t.TempDir(), "transdb.creds")
	if err := os.WriteFile(creds, []byte("-----BEGIN NATS USER JWT-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	testEnv["CREDS"] = creds
	defer delete(testEnv, "CREDS")
	cfg := mustParse(t, `
<TranslationProvider MMapDB>
    FileName        /srv/writer/trans.mmdb
    Publish         nats://alice:${TOKEN}@10.0.0.1:4222,nats://10.0.0.2:4222 transdb
    NATSCredentials ${CREDS}
</TranslationProvider>
<TranslationProvider MMapDB>
    BaseKey         other
</TranslationProvider>
TranslationProvider MMapDB filename=/srv/replica/trans.mmdb readonly=1 follow="tls://nats.example.com transdb-2" natsrootcas=${CREDS}
`)
	want := []*Replication{
		{URL: "nats://alice:s3cret@10.0.0.1:4222,nats://10.0.0.2:4222", Bucket: "transdb", Credentials: creds, Line: 4},
		nil,
		{URL: "tls://nats.example.com", Bucket: "transdb-2", RootCAs: creds, Line: 10},
	}
	for i, pr := range cfg.Providers {
		got := pr.Publish
		if i == 2 {
			got = pr.Follow
			if pr.Publish != nil {
				t.Errorf("provider %d publishes", i)
			}
		} else if pr.Follow != nil {
			t.Errorf("provider %d follows", i)
		}
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("provider %d: %+v, want %+v", i, got, want[i])
		}
	}
}

func TestReplicationErrorsNameFileAndLineWithoutSecrets(t *testing.T) {
	const open, close = "<TranslationProvider MMapDB>\n", "</TranslationProvider>\n"
	tests := []struct {
		name, text, want string
	}{
		{"publish on a read-only provider", open + "FileName x\nReadOnly 1\nPublish nats://h:4222 b\n" + close,
			`trans.conf:4: Publish on a read-only provider: only a writable provider publishes its versions (a read-only one may Follow)`},
		{"follow on a writable provider", open + "FileName x\nFollow nats://h:4222 b\n" + close,
			`trans.conf:3: Follow on a writable provider: a replica's file is written by what it follows only, set ReadOnly 1`},
		{"publish and follow", open + "FileName x\nReadOnly 1\nFollow nats://h:4222 b\nPublish nats://h:4222 c\n" + close,
			`trans.conf:5: Publish and Follow on one provider: a file is published by its writer or followed by a replica`},
		{"no bucket", open + "FileName x\nPublish nats://u:s3cret@h:4222\n" + close,
			`trans.conf:3: invalid Publish "nats://***@h:4222": want a NATS URL and a bucket, such as Publish nats://127.0.0.1:4222 transdb`},
		{"bad scheme", open + "FileName x\nPublish http://u:s3cret@h:4222 b\n" + close,
			`trans.conf:3: invalid Publish URL "http://***@h:4222": want nats://HOST:PORT or tls://HOST:PORT`},
		{"bad port", "TranslationProvider MMapDB filename=x readonly=1 follow='nats://h:1,nats://u:s3cret@h:99999 b'",
			`trans.conf:1: invalid Follow URL "nats://h:1,nats://***@h:99999" (URL 2 of 2): the port must be a number from 1 to 65535`},
		// A password with the characters that end the user information
		// or split the list: never shown, in part or whole.
		{"password with a slash", open + "FileName x\nPublish nats://al:s3cret/x@h:4222 b\n" + close,
			`trans.conf:3: invalid Publish URL "nats://***@h:4222": want nats://HOST:PORT or tls://HOST:PORT`},
		{"password with a comma", open + "FileName x\nPublish nats://al:s3c,s3cret@h:4222 b\n" + close,
			`trans.conf:3: invalid Publish URL "nats://***@h:4222" (URL 1 of 2): want nats://HOST:PORT or tls://HOST:PORT`},
		{"password with a question mark", open + "FileName x\nPublish nats://al:s3cret?@h:4222 b\n" + close,
			`trans.conf:3: invalid Publish URL "nats://***@h:4222": want nats://HOST:PORT or tls://HOST:PORT`},
		{"no host", open + "FileName x\nPublish nats://:4222 b\n" + close,
			`trans.conf:3: invalid Publish URL "nats://:4222": no host: want nats://HOST:PORT or tls://HOST:PORT`},
		{"path", open + "FileName x\nPublish nats://h:4222/x b\n" + close,
			`trans.conf:3: invalid Publish URL "nats://h:4222/x": a path, query or fragment: want nats://HOST:PORT or tls://HOST:PORT`},
		{"bad bucket", open + "FileName x\nPublish nats://h:4222 a.b\n" + close,
			`trans.conf:3: invalid Publish bucket "a.b": letters, digits, - and _ only`},
		{"credentials alone", open + "FileName x\nNATSCredentials /etc/passwd\n" + close,
			`trans.conf:3: NATSCredentials without Publish or Follow`},
		{"missing credentials", open + "FileName x\nPublish nats://h:4222 b\nNATSCredentials /no/such.creds\n" + close,
			`trans.conf:4: NATSCredentials /no/such.creds: no such file`},
		{"authorities are a directory", open + "FileName x\nPublish tls://h:4222 b\nNATSRootCAs /\n" + close,
			`trans.conf:4: NATSRootCAs / is a directory, not a file`},
		{"followed file written", open + "FileName /srv/x\nReadOnly 1\nFollow nats://h:4222 b\n" + close + open + "BaseKey k\n" + close,
			`trans.conf:6: TranslationProvider writes file /srv/x, which is followed from bucket b (line 4): a replica's file may only be written by what it follows`},
		{"written file followed", open + "FileName /srv/x\n" + close + open + "BaseKey k\nReadOnly 1\nFollow nats://h:4222 b\n" + close,
			`trans.conf:7: Follow: file /srv/x is written by the provider on line 1, a replica's file may only be written by what it follows`},
		{"one file, two buckets", open + "FileName /srv/x\nPublish nats://h:4222 b\n" + close + open + "BaseKey k\nPublish nats://h:4222 c\n" + close,
			`trans.conf:7: file /srv/x is already published to bucket b on line 3: a file has one replication, shared by its providers`},
		{"followed file imported", open + "FileName /srv/x\nReadOnly 1\nImportFrom /srv/perl.mmdb\nFollow nats://h:4222 b\n" + close,
			`trans.conf:5: Follow: file /srv/x follows ImportFrom /srv/perl.mmdb already: a file follows one source`},
		{"imported file followed", open + "FileName /srv/x\nReadOnly 1\nFollow nats://h:4222 b\n" + close + open + "BaseKey k\nImportFrom /srv/perl.mmdb\n" + close,
			`trans.conf:8: ImportFrom: file /srv/x is followed from bucket b (line 4): a file follows one source`},
		{"one object name twice", open + "FileName /srv/a/t.mmdb\nPublish nats://h:4222 b\n" + close + open + "FileName /srv/b/t.mmdb\nPublish nats://h:4222 b\n" + close,
			`trans.conf:7: Publish: file /srv/b/t.mmdb and file /srv/a/t.mmdb (line 3) would both be object t.mmdb of bucket b: name the files differently or use another bucket`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse(strings.NewReader(tt.text), "trans.conf", lookupTestEnv)
			if err == nil {
				t.Fatalf("accepted %q: %+v", tt.text, cfg)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error\n got %s\nwant %s", got, tt.want)
			}
			if strings.Contains(err.Error(), "s3c") {
				t.Errorf("the error shows the password: %s", err)
			}
		})
	}
}

func TestProvidersOfOneFileShareItsReplication(t *testing.T) {
	cfg := mustParse(t, `
<TranslationProvider MMapDB>
    FileName /srv/x
    ReadOnly 1
    Follow   nats://h:4222 b
</TranslationProvider>
<TranslationProvider MMapDB>
    BaseKey  k
    ReadOnly 1
</TranslationProvider>
<TranslationProvider MMapDB>
    BaseKey  l
    ReadOnly 1
    Follow   nats://h:4222 b
</TranslationProvider>
`)
	if len(cfg.Providers) != 3 || cfg.Providers[1].Follow != nil || cfg.Providers[2].Follow.Line != 14 {
		t.Fatalf("%+v", cfg.Providers)
	}
}

func TestAFileThatFollowsImportFromMayBePublished(t *testing.T) {
	cfg := mustParse(t, `
<TranslationProvider MMapDB>
    FileName   /srv/x
    ImportFrom /srv/perl.mmdb
    Publish    nats://h:4222 b
</TranslationProvider>
`)
	if pr := cfg.Providers[0]; !pr.ReadOnly || pr.Publish == nil || pr.Publish.Line != 5 {
		t.Fatalf("%+v", pr)
	}
}
