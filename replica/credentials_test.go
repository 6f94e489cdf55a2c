package replica

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"transdb/internal/natstest"
)

// operatorConfig writes the configuration of a nats-server in operator
// mode, with an account that may use JetStream and a user of it, into
// dir. It returns the configuration's path and the user's credentials
// file.
func operatorConfig(t *testing.T, dir string) (config, creds string) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	okp, err := nkeys.CreateOperator()
	must(err)
	opub, err := okp.PublicKey()
	must(err)
	oc := jwt.NewOperatorClaims(opub)
	oc.Name = "test"
	ojwt, err := oc.Encode(okp)
	must(err)

	account := func(name string, jetStream bool) (nkeys.KeyPair, string, string) {
		akp, err := nkeys.CreateAccount()
		must(err)
		apub, err := akp.PublicKey()
		must(err)
		ac := jwt.NewAccountClaims(apub)
		ac.Name = name
		if jetStream {
			ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
		}
		ajwt, err := ac.Encode(okp)
		must(err)
		return akp, apub, ajwt
	}
	_, syspub, sysjwt := account("SYS", false)
	akp, apub, ajwt := account("TRANSDB", true)

	ukp, err := nkeys.CreateUser()
	must(err)
	upub, err := ukp.PublicKey()
	must(err)
	uc := jwt.NewUserClaims(upub)
	uc.Name = "transdbd"
	uc.IssuerAccount = apub
	ujwt, err := uc.Encode(akp)
	must(err)
	seed, err := ukp.Seed()
	must(err)
	text, err := jwt.FormatUserConfig(ujwt, seed)
	must(err)
	creds = filepath.Join(dir, "transdbd.creds")
	must(os.WriteFile(creds, text, 0o600))

	config = filepath.Join(dir, "operator.conf")
	must(os.WriteFile(config, fmt.Appendf(nil, `operator: %s
system_account: %s
resolver: MEMORY
resolver_preload: {
  %s: %s
  %s: %s
}
`, ojwt, syspub, syspub, sysjwt, apub, ajwt), 0o600))
	return config, creds
}

func TestCredentialsFileAuthenticates(t *testing.T) {
	config, creds := operatorConfig(t, t.TempDir())
	srv := natstest.StartT(t, "-c", config)
	log, lb := testLogger(t)
	opts := Options{URL: srv.URL(), Bucket: "transdb", Credentials: creds, Logger: log}
	publishAndFollow(t, opts)

	// Without the credentials the server refuses the connection.
	anon := newProvider(t, t.TempDir(), true)
	fa, err := NewFollower(anon, Options{URL: srv.URL(), Bucket: "transdb", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer fa.Close()
	waitFor(t, "the anonymous follower to be refused", func() (bool, string) {
		st := fa.Status()
		return !st.Connected && strings.Contains(st.Err, "not connected"), fmt.Sprintf("%+v", st)
	})
	if seed := string(mustRead(t, creds)); strings.Contains(lb.String(), seed[strings.Index(seed, "SU"):][:20]) {
		t.Error("the log shows the seed")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
