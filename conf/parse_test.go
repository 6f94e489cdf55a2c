package conf

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	"transdb/internal/syncbuf"
)

// testEnv is the environment the tests expand ${VAR} from.
var testEnv = map[string]string{
	"DATA":  "/srv/transdb",
	"TOKEN": "s3cret",
	"EMPTY": "",
	"SPACE": "a b",
}

func lookupTestEnv(name string) (string, bool) {
	v, ok := testEnv[name]
	return v, ok
}

// minimalProvider is appended to configurations that test top-level
// directives, since a configuration needs a provider.
const minimalProvider = "\n<TranslationProvider MMapDB>\nFileName trans.mmdb\n</TranslationProvider>\n"

func mustParse(t *testing.T, text string) *Config {
	t.Helper()
	cfg, err := Parse(strings.NewReader(text), "trans.conf", lookupTestEnv)
	if err != nil {
		t.Fatalf("Parse(%q): %v", text, err)
	}
	return cfg
}

func TestDefaultsApplyWhenDirectivesAreAbsent(t *testing.T) {
	cfg := mustParse(t, minimalProvider)
	// MaxBodySize and CheckInterval stay 0: the layers that use them
	// have the defaults (httpprovider.DefaultMaxBodySize,
	// mmapdb.DefaultCheckInterval).
	want := &Config{
		Listen:          "127.0.0.1:8080",
		ShutdownTimeout: 30 * time.Second,
		Flush:           true,
		Providers:       []Provider{{FileName: "trans.mmdb", Line: 2}},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got %+v\nwant %+v", cfg, want)
	}
}

func TestDirectivesSetConfig(t *testing.T) {
	tests := []struct {
		line  string
		check func(*Config) bool
	}{
		{"Listen 0.0.0.0:9000", func(c *Config) bool { return c.Listen == "0.0.0.0:9000" }},
		{"Listen [::1]:0", func(c *Config) bool { return c.Listen == "[::1]:0" }},
		{"Listen 9000", func(c *Config) bool { return c.Listen == ":9000" }},
		{"TranslationKey front", func(c *Config) bool { return c.TranslationKey == "front" }},
		{"DocumentRoot /var/www", func(c *Config) bool { return c.DocumentRoot == "/var/www" }},
		{"TrustedProxies 127.0.0.1", func(c *Config) bool {
			return reflect.DeepEqual(c.TrustedProxies, []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")})
		}},
		{"TrustedProxies 10.1.2.3/8, ::1  192.168.0.0/16", func(c *Config) bool {
			return reflect.DeepEqual(c.TrustedProxies, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"),
				netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("192.168.0.0/16")})
		}},
		{"TrustedProxies ${EMPTY}", func(c *Config) bool { return c.TrustedProxies == nil }},
		{"MaxCallDepth 8", func(c *Config) bool { return c.MaxCallDepth == 8 }},
		{"MaxSteps 5000", func(c *Config) bool { return c.MaxSteps == 5000 }},
		{"MaxRows 1000000", func(c *Config) bool { return c.MaxRows == 1_000_000 }},
		{"DecisionCacheSize 1048576", func(c *Config) bool { return c.DecisionCacheSize == 1<<20 }},
		{"DecisionCacheSize 0", func(c *Config) bool { return c.DecisionCacheSize == -1 }},
		{"AdminToken ${TOKEN}", func(c *Config) bool { return c.AdminToken == "s3cret" }},
		{"MaxBodySize 1", func(c *Config) bool { return c.MaxBodySize == 1 }},
		{"MaxBodySize 9223372036854775807", func(c *Config) bool { return c.MaxBodySize == 1<<63-1 }},
		{"CheckInterval 500ms", func(c *Config) bool { return c.CheckInterval == 500*time.Millisecond }},
		{"CheckInterval 10s", func(c *Config) bool { return c.CheckInterval == 10*time.Second }},
		{"AccessLog /", func(c *Config) bool { return c.AccessLog == "/" }},
		{"AccessLog ${EMPTY}", func(c *Config) bool { return c.AccessLog == "" }},
		{"ShutdownTimeout 5s", func(c *Config) bool { return c.ShutdownTimeout == 5*time.Second }},
		{"ShutdownTimeout 2m", func(c *Config) bool { return c.ShutdownTimeout == 2*time.Minute }},
		{"Admin 1", func(c *Config) bool { return c.Admin }},
		{"Admin off", func(c *Config) bool { return !c.Admin }},
		{"Flush 0", func(c *Config) bool { return !c.Flush }},
		{"Flush off", func(c *Config) bool { return !c.Flush }},
		{"OnChange /usr/local/bin/notify --all", func(c *Config) bool { return c.OnChange == "/usr/local/bin/notify --all" }},
		// The command's own variables are the shell's; others expand.
		{`OnChange echo "gen=${TRANSDB_GENERATION} ${TRANSDB_FILE} ${DATA}"`, func(c *Config) bool {
			return c.OnChange == `echo "gen=${TRANSDB_GENERATION} ${TRANSDB_FILE} /srv/transdb"`
		}},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			cfg := mustParse(t, tt.line+minimalProvider)
			if !tt.check(cfg) {
				t.Errorf("%q gave %+v", tt.line, cfg)
			}
		})
	}
}

func TestNamesAreCaseInsensitive(t *testing.T) {
	cfg := mustParse(t, `LISTEN 127.0.0.1:1
translationkey k
<translationprovider mmapdb>
  FILENAME a.mmdb
  root /r
  readONLY 1
  basekey b
  NOLOCK yes
</TRANSLATIONPROVIDER>
translationProvider MMAPDB FileName=b.mmdb BASEKEY=c
<TranslationProvider Apache2::Translation::mmapdb>
  filename c.mmdb
</TranslationProvider>
`)
	want := []Provider{
		{FileName: "a.mmdb", Root: "/r", BaseKey: "b", Keys: []string{"b"}, ReadOnly: true, NoLock: true, Line: 3},
		{FileName: "b.mmdb", BaseKey: "c", Keys: []string{"c"}, Line: 10},
		{FileName: "c.mmdb", Line: 11},
	}
	if cfg.Listen != "127.0.0.1:1" || cfg.TranslationKey != "k" {
		t.Errorf("directives: %+v", cfg)
	}
	if !reflect.DeepEqual(cfg.Providers, want) {
		t.Errorf("providers:\n got %+v\nwant %+v", cfg.Providers, want)
	}
}

func TestValuesAreTrimmedAndUnquoted(t *testing.T) {
	tests := []struct {
		value, want string
	}{
		{"plain", "plain"},
		{"  \t spaced \t ", "spaced"},
		{"two words", "two words"},
		{`"double quoted"`, "double quoted"},
		{`'single quoted'`, "single quoted"},
		{`"  kept inside  "`, "  kept inside  "},
		{`""`, ""},
		{`''`, ""},
		{`'["a","b"]'`, `["a","b"]`},
		{`"[qw/a b/]"`, "[qw/a b/]"},
		{`mid"quote`, `mid"quote`},
		{`a "b"`, `a "b"`},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			cfg := mustParse(t, "DocumentRoot "+tt.value+minimalProvider)
			if cfg.DocumentRoot != tt.want {
				t.Errorf("DocumentRoot %s = %q, want %q", tt.value, cfg.DocumentRoot, tt.want)
			}
		})
	}
}

func TestUnquotedAndDoubleQuotedValuesAreExpanded(t *testing.T) {
	tests := []struct {
		value, want string
	}{
		{"${DATA}/x", "/srv/transdb/x"},
		{`"${DATA}/x"`, "/srv/transdb/x"},
		{"${DATA}${TOKEN}", "/srv/transdbs3cret"},
		{`"${SPACE}"`, "a b"},
		{"${UNSET}", ""},
		{"pre${UNSET}post", "prepost"},
		{"${EMPTY}", ""},
		{"$DATA", "$DATA"},
		{"${DATA", "${DATA"},
		{"${}", "${}"},
		{"${1X}", "${1X}"},
		{"${DATA:-x}", "${DATA:-x}"},
		{"${${DATA}}", "${/srv/transdb}"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			cfg := mustParse(t, "AdminToken "+tt.value+minimalProvider)
			if cfg.AdminToken != tt.want {
				t.Errorf("AdminToken %s = %q, want %q", tt.value, cfg.AdminToken, tt.want)
			}
		})
	}
}

func TestSingleQuotedValueIsNotExpanded(t *testing.T) {
	for _, text := range []string{
		"AdminToken '${DATA}'" + minimalProvider,
		"<TranslationProvider MMapDB>\nFileName '${DATA}'\n</TranslationProvider>",
		"TranslationProvider MMapDB filename='${DATA}'",
	} {
		cfg := mustParse(t, text)
		got := cfg.AdminToken
		if got == "" {
			got = cfg.Providers[0].FileName
		}
		if got != "${DATA}" {
			t.Errorf("%q: got %q, want ${DATA} literally", text, got)
		}
	}
}

func TestNilLookupUsesProcessEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TRANSDB_CONF_TEST", dir)
	cfg, err := Parse(strings.NewReader("AccessLog ${TRANSDB_CONF_TEST}"+minimalProvider), "trans.conf", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AccessLog != dir {
		t.Errorf("AccessLog = %q, want %s", cfg.AccessLog, dir)
	}
}

func TestEmptyTranslationKeyIsNoKey(t *testing.T) {
	for _, text := range []string{"", `TranslationKey ""`, "TranslationKey ${UNSET}"} {
		if cfg := mustParse(t, text+minimalProvider); cfg.TranslationKey != "" {
			t.Errorf("%q: TranslationKey=%q, want none", text, cfg.TranslationKey)
		}
	}
	if cfg := mustParse(t, "TranslationKey back"+minimalProvider); cfg.TranslationKey != "back" {
		t.Errorf("TranslationKey=%q, want back", cfg.TranslationKey)
	}
}

func TestAdminTokenUnsetOrEmptyDisablesWrites(t *testing.T) {
	for _, text := range []string{"", "AdminToken ${UNSET}", `AdminToken ""`} {
		if cfg := mustParse(t, text+minimalProvider); cfg.AdminToken != "" {
			t.Errorf("%q: AdminToken = %q, want empty", text, cfg.AdminToken)
		}
	}
}

func TestBooleansAcceptCommonSpellings(t *testing.T) {
	tests := []struct {
		value string
		want  bool
	}{
		{"1", true}, {"on", true}, {"true", true}, {"yes", true}, {"ON", true}, {"Yes", true}, {`"1"`, true},
		{"0", false}, {"off", false}, {"false", false}, {"no", false}, {"OFF", false}, {"'no'", false},
	}
	for _, tt := range tests {
		cfg := mustParse(t, "Flush "+tt.value+
			"\n<TranslationProvider MMapDB>\nFileName f\nReadOnly "+tt.value+"\nNoLock "+tt.value+"\n</TranslationProvider>\n"+
			"TranslationProvider MMapDB filename=g readonly="+tt.value+" nolock="+tt.value)
		for i, p := range cfg.Providers {
			if p.ReadOnly != tt.want || p.NoLock != tt.want {
				t.Errorf("%s: provider %d ReadOnly=%v NoLock=%v, want %v", tt.value, i, p.ReadOnly, p.NoLock, tt.want)
			}
		}
		if cfg.Flush != tt.want {
			t.Errorf("Flush %s = %v, want %v", tt.value, cfg.Flush, tt.want)
		}
	}
}

func TestCommentsAndBlankLinesAreIgnored(t *testing.T) {
	cfg := mustParse(t, `# a comment
   # an indented comment

	
Listen 127.0.0.1:1
#Listen 127.0.0.1:2
<TranslationProvider MMapDB>
  # FileName commented.mmdb
  FileName a.mmdb

</TranslationProvider>
`)
	if cfg.Listen != "127.0.0.1:1" || cfg.Providers[0].FileName != "a.mmdb" {
		t.Errorf("got %+v", cfg)
	}
}

func TestTrailingBackslashContinuesLine(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"joined with one space", "OnChange echo \\\n    one \\\n\t two", "echo one two"},
		{"backslash without space before it", "OnChange echo\\\none", "echo one"},
		{"spaces after backslash", "OnChange echo \\   \n one", "echo one"},
		{"name continued", "OnChange \\\n echo", "echo"},
		{"backslash at end of file", "OnChange echo \\", "echo"},
		{"continued into blank line ends there", "OnChange echo \\\n\nListen 1", "echo"},
		{"comment continued swallows next line", "# comment \\\nOnChange gone\nOnChange kept", "kept"},
		{"CRLF line ends", "OnChange echo \\\r\n one\r\n", "echo one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustParse(t, minimalProvider+tt.text)
			if cfg.OnChange != tt.want {
				t.Errorf("OnChange = %q, want %q", cfg.OnChange, tt.want)
			}
		})
	}
}

func TestCRLFAndByteOrderMarkAreAccepted(t *testing.T) {
	cfg := mustParse(t, "\ufeffListen 127.0.0.1:1\r\n<TranslationProvider MMapDB>\r\n  FileName a.mmdb\r\n</TranslationProvider>\r\n")
	if cfg.Listen != "127.0.0.1:1" || cfg.Providers[0].FileName != "a.mmdb" {
		t.Errorf("got %+v", cfg)
	}
}

func TestOnChangeKeepsShellQuotes(t *testing.T) {
	tests := []struct {
		value, want string
	}{
		{`logger -t transdb "changed"`, `logger -t transdb "changed"`},
		{`"/opt/my app/notify" --now`, `"/opt/my app/notify" --now`},
		{`'echo ${TRANSDB_GENERATION}'`, `echo ${TRANSDB_GENERATION}`},
		{`"echo ${DATA}"`, `echo /srv/transdb`},
		{`echo '${DATA}'`, `echo '/srv/transdb'`},
		{`echo "unbalanced`, `echo "unbalanced`},
	}
	for _, tt := range tests {
		cfg := mustParse(t, "OnChange "+tt.value+minimalProvider)
		if cfg.OnChange != tt.want {
			t.Errorf("OnChange %s = %q, want %q", tt.value, cfg.OnChange, tt.want)
		}
	}
}

func TestContainerSetsProviderParameters(t *testing.T) {
	cfg := mustParse(t, `<TranslationProvider MMapDB>
    FileName    trans.mmdb
    Root        ${DATA}
    ReadOnly    1
    BaseKey     [qw/trans db/]
    NoLock      on
</TranslationProvider>
`)
	want := []Provider{{FileName: "trans.mmdb", Root: "/srv/transdb", BaseKey: "[qw/trans db/]", Keys: []string{"trans", "db"}, ReadOnly: true, NoLock: true, Line: 1}}
	if !reflect.DeepEqual(cfg.Providers, want) {
		t.Errorf("got %+v\nwant %+v", cfg.Providers, want)
	}
}

func TestBaseKeyIsKeptAsWritten(t *testing.T) {
	tests := []struct {
		value, want string
	}{
		{"[qw/trans db/]", "[qw/trans db/]"},
		{`["trans","db"]`, `["trans","db"]`},
		{`'["trans", "db"]'`, `["trans", "db"]`},
		{"qw/my trans db/", "qw/my trans db/"},
		{`"  [qw/a b/]  "`, "  [qw/a b/]  "},
		{"transdb", "transdb"},
		{`""`, ""},
	}
	for _, tt := range tests {
		cfg := mustParse(t, "<TranslationProvider MMapDB>\nFileName f\nBaseKey "+tt.value+"\n</TranslationProvider>")
		if got := cfg.Providers[0].BaseKey; got != tt.want {
			t.Errorf("BaseKey %s = %q, want %q", tt.value, got, tt.want)
		}
	}
}

func TestOneLineFormMatchesContainer(t *testing.T) {
	container := mustParse(t, `<TranslationProvider MMapDB>
  FileName trans.mmdb
  Root /srv
  ReadOnly 1
  BaseKey [qw/trans db/]
  NoLock 1
</TranslationProvider>`)
	tests := []string{
		`TranslationProvider MMapDB filename=trans.mmdb root=/srv readonly=1 basekey="[qw/trans db/]" nolock=1`,
		`TranslationProvider MMapDB basekey='[qw/trans db/]' NoLock=yes ReadOnly=on Root="/srv" FileName='trans.mmdb'`,
		"TranslationProvider   MMapDB \\\n  filename=trans.mmdb \\\n  root=${DATA}/.. \\\n  readonly=1 basekey=\"[qw/trans db/]\" nolock=1",
	}
	for _, text := range tests {
		cfg := mustParse(t, text)
		p := cfg.Providers[0]
		p.Line = container.Providers[0].Line
		if p.Root == "/srv/transdb/.." {
			p.Root = "/srv"
		}
		if !reflect.DeepEqual(p, container.Providers[0]) {
			t.Errorf("%s:\n got %+v\nwant %+v", text, p, container.Providers[0])
		}
	}
}

func TestOneLineFormQuotedValuesKeepSpaces(t *testing.T) {
	tests := []struct {
		params        string
		file, basekey string
	}{
		{`filename="my file.mmdb" basekey="[qw/trans db/]"`, "my file.mmdb", "[qw/trans db/]"},
		{`filename='a b' basekey='${DATA}'`, "a b", "${DATA}"},
		{`filename="${SPACE}" basekey=""`, "a b", ""},
		{`filename=x basekey=["a","b"]`, "x", `["a","b"]`},
		{`filename=a=b`, "a=b", ""},
		{"filename=\"x\"\tbasekey=y", "x", "y"},
	}
	for _, tt := range tests {
		cfg := mustParse(t, "TranslationProvider MMapDB "+tt.params)
		p := cfg.Providers[0]
		if p.FileName != tt.file || p.BaseKey != tt.basekey {
			t.Errorf("%s: FileName=%q BaseKey=%q, want %q %q", tt.params, p.FileName, p.BaseKey, tt.file, tt.basekey)
		}
	}
}

func TestSeveralProvidersKeepDeclarationOrder(t *testing.T) {
	cfg := mustParse(t, `<TranslationProvider MMapDB>
  FileName one.mmdb
  BaseKey one
</TranslationProvider>
TranslationProvider MMapDB filename=two.mmdb basekey=two
<TranslationProvider MMapDB>
  FileName three.mmdb
  BaseKey three
</TranslationProvider>
`)
	want := []Provider{
		{FileName: "one.mmdb", BaseKey: "one", Keys: []string{"one"}, Line: 1},
		{FileName: "two.mmdb", BaseKey: "two", Keys: []string{"two"}, Line: 5},
		{FileName: "three.mmdb", BaseKey: "three", Keys: []string{"three"}, Line: 6},
	}
	if !reflect.DeepEqual(cfg.Providers, want) {
		t.Errorf("got %+v\nwant %+v", cfg.Providers, want)
	}
}

func TestContainerWithoutFileNameInheritsPrevious(t *testing.T) {
	cfg := mustParse(t, `<TranslationProvider MMapDB>
  FileName trans.mmdb
  Root /srv
  BaseKey [qw/trans db/]
  NoLock 1
</TranslationProvider>
<TranslationProvider MMapDB>
  BaseKey [qw/trans archive/]
  ReadOnly 1
</TranslationProvider>
TranslationProvider MMapDB basekey=third
<TranslationProvider MMapDB>
  FileName /abs/other.mmdb
</TranslationProvider>
TranslationProvider MMapDB basekey=fifth
`)
	want := []Provider{
		{FileName: "trans.mmdb", Root: "/srv", BaseKey: "[qw/trans db/]", Keys: []string{"trans", "db"}, NoLock: true, Line: 1},
		{FileName: "trans.mmdb", Root: "/srv", BaseKey: "[qw/trans archive/]", Keys: []string{"trans", "archive"}, ReadOnly: true, NoLock: true, Line: 7},
		{FileName: "trans.mmdb", Root: "/srv", BaseKey: "third", Keys: []string{"third"}, NoLock: true, Line: 11},
		{FileName: "/abs/other.mmdb", Line: 12},
		{FileName: "/abs/other.mmdb", BaseKey: "fifth", Keys: []string{"fifth"}, Line: 15},
	}
	if !reflect.DeepEqual(cfg.Providers, want) {
		t.Errorf("got %+v\nwant %+v", cfg.Providers, want)
	}
}

func TestParseErrorsNameFileAndLine(t *testing.T) {
	const open, close = "<TranslationProvider MMapDB>\n", "</TranslationProvider>\n"
	tests := []struct {
		name, text, want string
	}{
		{"unknown directive", "Listen 1\nFoo bar" + minimalProvider,
			`trans.conf:2: unknown directive "Foo"`},
		{"one file, NoLock in one provider only", open + "FileName /srv/t.mmdb\nNoLock 1\n" + close + open + "FileName /srv/t.mmdb\nBaseKey b\n" + close,
			`trans.conf:5: TranslationProvider writes file /srv/t.mmdb with NoLock false, the one on line 1 with NoLock true: the writers of one file share its lock, give them the same NoLock`},
		{"one file shared, another NoLock", open + "FileName /srv/t.mmdb\n" + close + open + "BaseKey b\nNoLock 1\n" + close,
			`trans.conf:4: TranslationProvider writes file /srv/t.mmdb with NoLock true, the one on line 1 with NoLock false: the writers of one file share its lock, give them the same NoLock`},
		{"token with a space at its end", "AdminToken 's3cret '\n" + minimalProvider,
			`trans.conf:1: invalid AdminToken: white space at its start or end, which no HTTP header keeps`},
		{"one empty base key", open + "FileName x\nBaseKey '[\"\"]'\n" + close,
			`trans.conf:3: BaseKey [""]: one empty key is what requests use to name the table without base key; leave BaseKey out for that table`},
		{"key with white space", "TranslationKey 'front page'\n" + minimalProvider,
			`trans.conf:1: invalid TranslationKey "front page": white space or NUL, which no key of a record holds`},
		{"token a browser cannot send", "AdminToken pässwort\n" + minimalProvider,
			`trans.conf:1: invalid AdminToken: character 2 is not printable ASCII (a token is sent in an HTTP header, where a browser sends ASCII only)`},
		{"parameter used as directive", "FileName x" + minimalProvider,
			`trans.conf:1: unknown directive "FileName": FileName belongs inside <TranslationProvider MMapDB>`},
		{"unknown parameter", open + "FileName x\nColor red\n" + close,
			`trans.conf:3: unknown parameter "Color" in TranslationProvider MMapDB`},
		{"directive inside container", open + "FileName x\nlisten 1\n" + close,
			`trans.conf:3: unknown parameter "listen" in TranslationProvider MMapDB: Listen is a top-level directive`},
		{"unknown one-line parameter", "TranslationProvider MMapDB filename=x color=red",
			`trans.conf:1: unknown parameter "color" in TranslationProvider MMapDB`},
		{"unknown provider class", "\n<TranslationProvider DB>\nFileName x\n" + close,
			`trans.conf:2: unknown provider class "DB": only MMapDB is supported`},
		{"unknown one-line provider class", "TranslationProvider File filename=x",
			`trans.conf:1: unknown provider class "File": only MMapDB is supported`},
		{"missing provider class", "<TranslationProvider>\n" + close,
			`trans.conf:1: missing provider class: want TranslationProvider MMapDB`},
		{"missing one-line provider class", "TranslationProvider",
			`trans.conf:1: missing provider class: want TranslationProvider MMapDB`},
		{"unclosed container", "Listen 1\n" + open + "FileName x\n",
			`trans.conf:2: <TranslationProvider MMapDB> is not closed: missing </TranslationProvider>`},
		{"close without open", minimalProvider + close,
			`trans.conf:5: </TranslationProvider> without an open <TranslationProvider MMapDB>`},
		{"nested container", open + "FileName x\n" + open + close + close,
			`trans.conf:3: nested TranslationProvider: the <TranslationProvider MMapDB> opened on line 1 is not closed`},
		{"one-line form inside container", open + "TranslationProvider MMapDB filename=y\n" + close,
			`trans.conf:2: nested TranslationProvider: the <TranslationProvider MMapDB> opened on line 1 is not closed`},
		{"unknown container", "<VirtualHost *:80>\n</VirtualHost>\n" + minimalProvider,
			`trans.conf:1: unknown container <VirtualHost>`},
		{"unknown closing tag", open + "FileName x\n</VirtualHost>\n",
			`trans.conf:3: unknown closing tag </VirtualHost>`},
		{"malformed tag", "<TranslationProvider MMapDB\nFileName x\n" + close,
			`trans.conf:1: malformed tag "<TranslationProvider MMapDB": missing >`},
		{"parameters in opening tag", "<TranslationProvider MMapDB FileName=x>\n" + close,
			`trans.conf:1: unexpected "FileName=x" in <TranslationProvider MMapDB>: parameters go on their own lines inside the container`},
		{"text in closing tag", open + "FileName x\n</TranslationProvider MMapDB>\n",
			`trans.conf:3: unexpected "MMapDB" in </TranslationProvider>`},
		{"missing directive value", "Listen" + minimalProvider,
			`trans.conf:1: missing value for Listen`},
		{"missing value after continuation", "AccessLog \\\n\n" + minimalProvider,
			`trans.conf:1: missing value for AccessLog`},
		{"missing parameter value", open + "FileName\n" + close,
			`trans.conf:2: missing value for FileName`},
		{"missing one-line value", "TranslationProvider MMapDB filename=",
			`trans.conf:1: missing value for FileName`},
		{"one-line parameter without =", "TranslationProvider MMapDB filename=x basekey=[qw/trans db/]",
			`trans.conf:1: TranslationProvider: expected name=value, got "db/]" (quote values that contain spaces)`},
		{"one-line parameter without name", "TranslationProvider MMapDB =x",
			`trans.conf:1: TranslationProvider: missing parameter name before = in "=x"`},
		{"one-line unclosed quote", `TranslationProvider MMapDB filename="x`,
			`trans.conf:1: TranslationProvider: parameter filename: missing closing quote`},
		{"one-line text after quote", `TranslationProvider MMapDB filename="x"y`,
			`trans.conf:1: TranslationProvider: parameter filename: unexpected text after closing quote`},
		{"unclosed quote", `Listen "127.0.0.1:1` + minimalProvider,
			`trans.conf:1: Listen: missing closing quote`},
		{"text after quote", open + `FileName "a" b` + "\n" + close,
			`trans.conf:2: FileName: unexpected text after closing quote`},
		{"invalid number", "MaxBodySize 64M" + minimalProvider,
			`trans.conf:1: invalid MaxBodySize "64M": want a positive number of bytes`},
		{"bad trusted proxy", "TrustedProxies 127.0.0.1 proxy.example" + minimalProvider,
			`trans.conf:1: invalid TrustedProxies entry "proxy.example": want an address or a CIDR prefix such as 127.0.0.1 or 10.0.0.0/8`},
		{"bad trusted prefix", "TrustedProxies 10.0.0.0/33" + minimalProvider,
			`trans.conf:1: invalid TrustedProxies entry "10.0.0.0/33": want an address or a CIDR prefix such as 127.0.0.1 or 10.0.0.0/8`},
		{"zero limit", "MaxSteps 0" + minimalProvider,
			`trans.conf:1: invalid MaxSteps "0": want a number from 1 to 1000000`},
		{"limit not a number", "MaxCallDepth deep" + minimalProvider,
			`trans.conf:1: invalid MaxCallDepth "deep": want a number from 1 to 1000000`},
		{"zero number", "MaxBodySize 0" + minimalProvider,
			`trans.conf:1: invalid MaxBodySize "0": want a positive number of bytes`},
		{"negative number", "MaxBodySize -1" + minimalProvider,
			`trans.conf:1: invalid MaxBodySize "-1": want a positive number of bytes`},
		{"negative cache", "DecisionCacheSize -1" + minimalProvider,
			`trans.conf:1: invalid DecisionCacheSize "-1": want a number of bytes, 0 for no cache`},
		{"cache with a unit", "DecisionCacheSize 64M" + minimalProvider,
			`trans.conf:1: invalid DecisionCacheSize "64M": want a number of bytes, 0 for no cache`},
		{"invalid boolean", "Flush maybe" + minimalProvider,
			`trans.conf:1: invalid Flush value "maybe": want 0 or 1 (or on/off, true/false, yes/no)`},
		{"invalid parameter boolean", open + "FileName x\nReadOnly 2\n" + close,
			`trans.conf:3: invalid ReadOnly value "2": want 0 or 1 (or on/off, true/false, yes/no)`},
		{"invalid one-line boolean", "TranslationProvider MMapDB filename=x nolock=y",
			`trans.conf:1: invalid NoLock value "y": want 0 or 1 (or on/off, true/false, yes/no)`},
		{"invalid duration", "CheckInterval 1" + minimalProvider,
			`trans.conf:1: invalid CheckInterval "1": want a duration such as 1s or 500ms`},
		{"zero duration", "CheckInterval 0s" + minimalProvider,
			`trans.conf:1: invalid CheckInterval "0s": must be positive`},
		{"negative duration", "CheckInterval -1s" + minimalProvider,
			`trans.conf:1: invalid CheckInterval "-1s": must be positive`},
		{"duration too long", "CheckInterval 10.001s" + minimalProvider,
			`trans.conf:1: invalid CheckInterval "10.001s": at most 10s`},
		{"invalid shutdown timeout", "ShutdownTimeout 30" + minimalProvider,
			`trans.conf:1: invalid ShutdownTimeout "30": want a duration such as 30s`},
		{"zero shutdown timeout", "ShutdownTimeout 0s" + minimalProvider,
			`trans.conf:1: invalid ShutdownTimeout "0s": must be positive`},
		{"invalid listen address", "Listen localhost" + minimalProvider,
			`trans.conf:1: invalid Listen address "localhost": want host:port`},
		{"invalid listen port", "Listen localhost:http" + minimalProvider,
			`trans.conf:1: invalid Listen address "localhost:http": the port must be a number from 0 to 65535`},
		{"duplicate directive", "Listen 127.0.0.1:1\n# comment\nLISTEN 127.0.0.1:2" + minimalProvider,
			`trans.conf:3: duplicate directive Listen (first set on line 1)`},
		{"duplicate parameter", open + "FileName x\nfilename y\n" + close,
			`trans.conf:3: duplicate parameter FileName (first set on line 2)`},
		{"duplicate one-line parameter", "TranslationProvider MMapDB filename=x FileName=y",
			`trans.conf:1: duplicate parameter FileName (first set on line 1)`},
		{"no provider", "Listen 127.0.0.1:1\n",
			`trans.conf: no TranslationProvider configured: at least one <TranslationProvider MMapDB> container is required`},
		{"empty file", "",
			`trans.conf: no TranslationProvider configured: at least one <TranslationProvider MMapDB> container is required`},
		{"first provider without FileName", "Listen 1\n" + open + "BaseKey x\n" + close,
			`trans.conf:2: TranslationProvider without FileName, and no earlier provider whose file it could share`},
		{"first one-line provider without FileName", "TranslationProvider MMapDB basekey=x",
			`trans.conf:1: TranslationProvider without FileName, and no earlier provider whose file it could share`},
		{"Root without FileName", minimalProvider + open + "BaseKey b\nRoot /srv\n" + close,
			`trans.conf:7: Root without FileName: a provider without FileName shares the FileName and Root of the provider before it`},
		{"FileName empty after expansion", open + "FileName ${UNSET}\n" + close,
			`trans.conf:2: empty FileName`},
		{"continued directive reports its first line", "Listen 1\nMaxBodySize \\\n  \\\n  lots" + minimalProvider,
			`trans.conf:2: invalid MaxBodySize "lots": want a positive number of bytes`},
		{"listen port out of range", "Listen 999999" + minimalProvider,
			`trans.conf:1: invalid Listen address "999999": port 999999 is out of range, it must be from 0 to 65535`},
		{"listen host port out of range", "Listen 127.0.0.1:65536" + minimalProvider,
			`trans.conf:1: invalid Listen address "127.0.0.1:65536": port 65536 is out of range, it must be from 0 to 65535`},
		{"base key list without closing bracket", open + "FileName x\nBaseKey [qw/trans db\n" + close,
			`trans.conf:3: BaseKey: translation: base key "[qw/trans db": at offset 0: list without its closing ]: invalid base key`},
		{"quoted base key list without closing bracket", open + "FileName x\nReadOnly 1\nBaseKey [\"a\",\"b\"\n" + close,
			`trans.conf:4: BaseKey: translation: base key "[\"a\",\"b\"": at offset 0: list without its closing ]: invalid base key`},
		{"base key list that does not parse", open + "FileName x\nBaseKey [my, trans]\n" + close,
			`trans.conf:3: BaseKey: translation: base key "[my, trans]": at offset 1: bare word "my": quote the element or use qw/.../: invalid base key`},
		{"one-line base key list without closing bracket", "\nTranslationProvider MMapDB filename=x basekey='[qw/a b/'",
			`trans.conf:2: BaseKey: translation: base key "[qw/a b/": at offset 0: list without its closing ]: invalid base key`},
		{"same file and base key twice", open + "FileName /srv/t.mmdb\nBaseKey [qw/trans db/]\n" + close + open + "FileName /srv/t.mmdb\nBaseKey [\"trans\",\"db\"]\n" + close,
			`trans.conf:5: TranslationProvider serves the same table as the one on line 1: file /srv/t.mmdb, BaseKey ["trans","db"]; requests could never reach this one`},
		{"same table read-only and writable", open + "FileName /srv/t.mmdb\n" + close + "TranslationProvider MMapDB readonly=1",
			`trans.conf:4: TranslationProvider serves the same table as the one on line 1 (read-only in one, writable in the other): file /srv/t.mmdb, BaseKey []; requests could never reach this one`},
		{"same file by another name", "TranslationProvider MMapDB filename=t.mmdb root=/srv basekey=b\n" +
			"TranslationProvider MMapDB filename=other.mmdb basekey=b\n" +
			"TranslationProvider MMapDB filename=/srv/./sub/../t.mmdb basekey=b",
			`trans.conf:3: TranslationProvider serves the same table as the one on line 1: file /srv/t.mmdb, BaseKey ["b"]; requests could never reach this one`},
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
			var pe *ParseError
			if !errors.As(err, &pe) || pe.File != "trans.conf" {
				t.Errorf("error %v (%T) is not a *ParseError for trans.conf", err, err)
			}
		})
	}
}

func TestAccessLogMustBeAnExistingDirectory(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	for _, tt := range []struct {
		value, want string
	}{
		{dir, ""},
		{missing, "trans.conf:2: AccessLog " + missing + ": no such directory"},
		{filepath.Join(missing, "logs"), "trans.conf:2: AccessLog " + filepath.Join(missing, "logs") + ": no such directory"},
		{file, "trans.conf:2: AccessLog " + file + " is not a directory"},
		{filepath.Join(file, "logs"), "trans.conf:2: AccessLog " + filepath.Join(file, "logs") + ": not a directory"},
	} {
		cfg, err := Parse(strings.NewReader("Listen 1\nAccessLog "+tt.value+minimalProvider), "trans.conf", lookupTestEnv)
		if tt.want == "" {
			if err != nil || cfg.AccessLog != tt.value {
				t.Errorf("AccessLog %s: %v", tt.value, err)
			}
			continue
		}
		var pe *ParseError
		if !errors.As(err, &pe) || err.Error() != tt.want {
			t.Errorf("AccessLog %s: error %v (%T), want %s", tt.value, err, err, tt.want)
		}
	}
}

func TestAdminMenuIsAReadableFileNextToTheConfiguration(t *testing.T) {
	dir := t.TempDir()
	menu := filepath.Join(dir, "menu.html")
	if err := os.WriteFile(menu, []byte("<a href=\"/\">home</a>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, "trans.conf")
	for _, tt := range []struct {
		value, want string
	}{
		{"menu.html", menu}, // relative to the configuration file
		{"./menu.html", menu},
		{menu, menu},
		{"${EMPTY}", ""}, // no menu
	} {
		cfg, err := Parse(strings.NewReader("Admin 1\nAdminMenu "+tt.value+minimalProvider), name, lookupTestEnv)
		if err != nil || cfg.AdminMenu != tt.want {
			t.Errorf("AdminMenu %s: %q %v, want %q", tt.value, cfg.AdminMenu, err, tt.want)
		}
	}
	missing := filepath.Join(dir, "missing.html")
	unreadable := filepath.Join(dir, "unreadable.html")
	if err := os.WriteFile(unreadable, nil, 0o200); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		value, want string
	}{
		{"missing.html", name + ":2: AdminMenu " + missing + ": no such file"},
		{missing, name + ":2: AdminMenu " + missing + ": no such file"},
		{".", name + ":2: AdminMenu " + dir + " is a directory, not a file"},
		{"menu.html/x", name + ":2: AdminMenu " + filepath.Join(menu, "x") + ": not a directory"},
	}
	if os.Geteuid() != 0 { // root reads any file
		tests = append(tests, struct{ value, want string }{"unreadable.html", name + ":2: AdminMenu " + unreadable + ": permission denied"})
	}
	for _, tt := range tests {
		_, err := Parse(strings.NewReader("Admin 1\nAdminMenu "+tt.value+minimalProvider), name, lookupTestEnv)
		var pe *ParseError
		if !errors.As(err, &pe) || err.Error() != tt.want {
			t.Errorf("AdminMenu %s: error %v (%T), want %s", tt.value, err, err, tt.want)
		}
	}
}

func TestSameTableTwiceNamesBothLines(t *testing.T) {
	// Relative file names are compared as the providers open them, from
	// the working directory.
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	text := "TranslationProvider MMapDB filename=t.mmdb\n\n" +
		"<TranslationProvider MMapDB>\n  FileName ./t.mmdb\n  BaseKey []\n</TranslationProvider>\n"
	_, err = Parse(strings.NewReader(text), "trans.conf", lookupTestEnv)
	want := "trans.conf:3: TranslationProvider serves the same table as the one on line 1: file " +
		filepath.Join(wd, "t.mmdb") + ", BaseKey []; requests could never reach this one"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestParseErrorCarriesFileLineAndMessage(t *testing.T) {
	_, err := Parse(strings.NewReader("\n\nBogus 1\n"), "/etc/transdb.conf", lookupTestEnv)
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("got %T %v, want *ParseError", err, err)
	}
	want := ParseError{File: "/etc/transdb.conf", Line: 3, Msg: `unknown directive "Bogus"`}
	if *pe != want {
		t.Errorf("got %+v, want %+v", *pe, want)
	}
	if errors.Is(err, ErrNoProvider) {
		t.Errorf("%v matches ErrNoProvider", err)
	}
}

func TestNoProviderMatchesErrNoProvider(t *testing.T) {
	_, err := Parse(strings.NewReader("# nothing\n"), "empty.conf", lookupTestEnv)
	if !errors.Is(err, ErrNoProvider) {
		t.Fatalf("got %v, want ErrNoProvider", err)
	}
	var pe *ParseError
	if !errors.As(err, &pe) || pe.File != "empty.conf" || pe.Line != 0 {
		t.Errorf("got %#v, want a *ParseError for empty.conf without line", err)
	}
}

func TestParseReportsReadError(t *testing.T) {
	readErr := errors.New("disk on fire")
	_, err := Parse(iotest.ErrReader(readErr), "trans.conf", lookupTestEnv)
	if !errors.Is(err, readErr) {
		t.Fatalf("got %v, want it to wrap %v", err, readErr)
	}
	if !strings.Contains(err.Error(), "trans.conf") {
		t.Errorf("%v does not name the file", err)
	}
}

func TestBackupParametersConfigureTheFilesBackups(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "backups"), 0o755); err != nil {
		t.Fatal(err)
	}
	abs := t.TempDir()
	tests := []struct {
		text string
		want *Backups
	}{
		{"<TranslationProvider MMapDB>\nFileName t.mmdb\nBackupDir backups\nRoot " + root + "\n</TranslationProvider>",
			&Backups{Dir: filepath.Join(root, "backups"), Line: 3}},
		{"<TranslationProvider MMapDB>\nFileName t.mmdb\nRoot " + root + "\nBackupDir " + abs + "\nBackupEvery 90m\nBackupKeep 24h 3 21d\n</TranslationProvider>",
			&Backups{Dir: abs, Every: 90 * time.Minute, KeepAll: 24 * time.Hour, KeepMin: 3, DeleteAfter: 21 * 24 * time.Hour, Line: 4}},
		{"<TranslationProvider MMapDB>\nFileName t.mmdb\nbackupkeep  '2d   10 1000h'\nBACKUPEVERY 1d\nBackupDir " + abs + "\n</TranslationProvider>",
			&Backups{Dir: abs, Every: 24 * time.Hour, KeepAll: 48 * time.Hour, KeepMin: 10, DeleteAfter: 1000 * time.Hour, Line: 5}},
		{"TranslationProvider MMapDB filename=t.mmdb root=" + root + " backupdir=backups backupevery=1s backupkeep=\"1m 1 1h\"",
			&Backups{Dir: filepath.Join(root, "backups"), Every: time.Second, KeepAll: time.Minute, KeepMin: 1, DeleteAfter: time.Hour, Line: 1}},
		{"TranslationProvider MMapDB filename=t.mmdb", nil},
	}
	for _, tt := range tests {
		cfg := mustParse(t, tt.text)
		if got := cfg.Providers[0].Backups; !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.text, got, tt.want)
		}
	}
}

func TestTheProvidersOfAFileShareItsBackups(t *testing.T) {
	dir := t.TempDir()
	b := &Backups{Dir: dir, Every: time.Hour, Line: 3}
	tests := []struct {
		name string
		text string
		want []*Backups
	}{
		{"set in the first", "<TranslationProvider MMapDB>\nFileName /srv/t.mmdb\nBackupDir " + dir + "\nBackupEvery 1h\n</TranslationProvider>\n" +
			"TranslationProvider MMapDB basekey=a\n" +
			"TranslationProvider MMapDB filename=/srv/other.mmdb\n",
			[]*Backups{b, b, nil}},
		{"set in a later one", "TranslationProvider MMapDB filename=/srv/t.mmdb\n" +
			"TranslationProvider MMapDB filename=/srv/other.mmdb\n" +
			"<TranslationProvider MMapDB>\nFileName /srv/./t.mmdb\nBaseKey a\nBackupDir " + dir + "\nBackupEvery 1h\n</TranslationProvider>\n",
			[]*Backups{{Dir: dir, Every: time.Hour, Line: 6}, nil, {Dir: dir, Every: time.Hour, Line: 6}}},
		{"set twice alike", "<TranslationProvider MMapDB>\nFileName /srv/t.mmdb\nBackupDir " + dir + "\nBackupEvery 1h\n</TranslationProvider>\n" +
			"<TranslationProvider MMapDB>\nBaseKey a\nBackupEvery 60m\nBackupDir " + dir + "/.\n</TranslationProvider>\n",
			[]*Backups{b, {Dir: dir, Every: time.Hour, Line: 9}}},
	}
	for _, tt := range tests {
		cfg := mustParse(t, tt.text)
		var got []*Backups
		for _, p := range cfg.Providers {
			got = append(got, p.Backups)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, showBackups(got), showBackups(tt.want))
		}
	}
}

func TestBackupErrorsNameFileAndLine(t *testing.T) {
	dir := t.TempDir()
	other := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	const open, close = "<TranslationProvider MMapDB>\nFileName /srv/t.mmdb\n", "</TranslationProvider>\n"
	keepWant := `want three values, KEEPALL KEEPMIN DELETEAFTER, such as 24h 3 21d: keep all backups younger than KEEPALL, of the older ones at least the KEEPMIN newest, delete only those older than DELETEAFTER`
	tests := []struct {
		name, text, want string
	}{
		{"missing directory", open + "BackupDir " + missing + "\n" + close,
			"trans.conf:3: BackupDir " + missing + ": no such directory"},
		{"missing directory under Root", open + "Root " + dir + "\nBackupDir missing\n" + close,
			"trans.conf:4: BackupDir " + missing + ": no such directory"},
		{"not a directory", open + "BackupDir " + file + "\n" + close,
			"trans.conf:3: BackupDir " + file + " is not a directory"},
		{"under a file", open + "BackupDir " + file + "/b\n" + close,
			"trans.conf:3: BackupDir " + file + "/b: not a directory"},
		{"empty", open + "BackupDir ${EMPTY}\n" + close,
			"trans.conf:3: empty BackupDir"},
		{"BackupEvery without BackupDir", open + "ReadOnly 0\nBackupEvery 1h\n" + close,
			"trans.conf:4: BackupEvery without BackupDir: BackupDir turns the automatic backups on"},
		{"BackupKeep without BackupDir", open + "BackupKeep 1h 1 2h\nBackupEvery 1h\n" + close,
			"trans.conf:3: BackupKeep without BackupDir: BackupDir turns the automatic backups on"},
		{"BackupEvery not a duration", open + "BackupEvery 60\n" + close,
			`trans.conf:3: invalid BackupEvery "60": want a positive duration such as 10m, 1h or 1d`},
		{"BackupEvery zero", open + "BackupEvery 0s\n" + close,
			`trans.conf:3: invalid BackupEvery "0s": want a positive duration such as 10m, 1h or 1d`},
		{"BackupEvery too many days", open + "BackupEvery 9999999999d\n" + close,
			`trans.conf:3: invalid BackupEvery "9999999999d": want a positive duration such as 10m, 1h or 1d`},
		{"BackupKeep of two values", open + "BackupKeep 24h 3\n" + close,
			`trans.conf:3: invalid BackupKeep "24h 3": ` + keepWant},
		{"BackupKeep of four values", open + "BackupKeep 24h 3 21d 1\n" + close,
			`trans.conf:3: invalid BackupKeep "24h 3 21d 1": ` + keepWant},
		{"BackupKeep keeping none", open + "BackupKeep 24h 0 21d\n" + close,
			`trans.conf:3: invalid BackupKeep "24h 0 21d": ` + keepWant},
		{"BackupKeep of a negative duration", open + "BackupKeep -24h 3 21d\n" + close,
			`trans.conf:3: invalid BackupKeep "-24h 3 21d": ` + keepWant},
		{"BackupKeep of a count for a duration", open + "BackupKeep 24h 3 21\n" + close,
			`trans.conf:3: invalid BackupKeep "24h 3 21": ` + keepWant},
		{"duplicate", open + "BackupDir " + dir + "\nBackupDir " + dir + "\n" + close,
			"trans.conf:4: duplicate parameter BackupDir (first set on line 3)"},
		{"as a directive", "BackupDir " + dir + minimalProvider,
			`trans.conf:1: unknown directive "BackupDir": BackupDir belongs inside <TranslationProvider MMapDB>`},
		{"one file, two directories", open + "BackupDir " + dir + "\n" + close +
			"<TranslationProvider MMapDB>\nBaseKey a\n\nBackupDir " + other + "\n" + close,
			"trans.conf:8: the backups of /srv/t.mmdb are configured differently on line 3: the providers of a file share its backups, configure them once"},
		{"one file, two intervals", "TranslationProvider MMapDB filename=/srv/t.mmdb backupdir=" + dir + "\n" +
			"TranslationProvider MMapDB filename=/srv/t.mmdb basekey=b backupdir=" + dir + " backupevery=1h",
			"trans.conf:2: the backups of /srv/t.mmdb are configured differently on line 1: the providers of a file share its backups, configure them once"},
		{"two files of one name, one directory", open + "BackupDir " + dir + "\n" + close +
			"TranslationProvider MMapDB filename=/srv/other/t.mmdb backupdir=" + dir + "/",
			"trans.conf:5: BackupDir " + dir + " holds the backups of /srv/t.mmdb (line 3) already: files of one name need backup directories of their own"},
		{"one file, two retentions", open + "BackupDir " + dir + "\nBackupKeep 24h 3 21d\n" + close +
			"TranslationProvider MMapDB basekey=b backupdir=" + dir + ` backupkeep="24h 4 21d"`,
			"trans.conf:6: the backups of /srv/t.mmdb are configured differently on line 3: the providers of a file share its backups, configure them once"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.text), "trans.conf", lookupTestEnv)
			var pe *ParseError
			if !errors.As(err, &pe) || err.Error() != tt.want {
				t.Errorf("error\n got %v\nwant %s", err, tt.want)
			}
		})
	}
}

// backupDirEnv names, in the child that TestBackupDirMustBeWritable runs
// as another user, the directory to check.
const backupDirEnv = "TRANSDB_TEST_READONLY_BACKUPDIR"

// TestBackupDirMustBeWritable checks that a BackupDir the daemon cannot
// write to is a configuration error. Root may write to any directory, so
// as root the test runs itself again as the unprivileged user 65534,
// from a copy of the test binary that user can run.
func TestBackupDirMustBeWritable(t *testing.T) {
	dir := os.Getenv(backupDirEnv)
	if dir == "" {
		base, err := os.MkdirTemp("", "backupdir-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(base) })
		dir = filepath.Join(base, "ro")
		if err := os.Chmod(base, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		if os.Geteuid() == 0 {
			runAsNobody(t, base, backupDirEnv+"="+dir)
			return
		}
	}
	_, err := Parse(strings.NewReader("TranslationProvider MMapDB filename=t.mmdb backupdir="+dir), "trans.conf", lookupTestEnv)
	if want := "trans.conf:1: BackupDir " + dir + " is not writable: permission denied"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

// runAsNobody runs the calling test again in a child process as user
// and group 65534, from a copy of the test binary in dir (which that
// user can read), with env added to the environment, and fails the test
// with the child's output if the child's test fails.
func runAsNobody(t *testing.T, dir string, env ...string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	copied := filepath.Join(dir, "conf.test")
	if err := os.WriteFile(copied, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(copied, "-test.run=^"+t.Name()+"$", "-test.v")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var out syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		// No user to become (no setuid capability, a user namespace), or
		// a temporary directory that user cannot enter or run from.
		t.Skipf("cannot run as user 65534 here: %v", err)
	}
	if err := cmd.Wait(); err != nil || !strings.Contains(out.String(), "--- PASS: "+t.Name()) {
		t.Fatalf("%s as user 65534: %v\n%s", t.Name(), err, out.String())
	}
}

// showBackups formats the backups of providers for a message.
func showBackups(bs []*Backups) string {
	var s []string
	for _, b := range bs {
		s = append(s, fmt.Sprintf("%+v", b))
	}
	return strings.Join(s, ", ")
}

func TestImportFromIsSharedByTheFilesProvidersAndMakesThemReadOnly(t *testing.T) {
	type got struct {
		importFrom string
		readOnly   bool
	}
	tests := []struct {
		name, text string
		want       []got
	}{
		{"one provider", "<TranslationProvider MMapDB>\nFileName /srv/t.mmdb\nImportFrom /perl/trans.mmdb\n</TranslationProvider>\n",
			[]got{{"/perl/trans.mmdb", true}}},
		{"relative to Root", "TranslationProvider MMapDB filename=t.mmdb root=/srv importfrom=perl/./trans.mmdb readonly=1",
			[]got{{"/srv/perl/trans.mmdb", true}}},
		{"set in the first, shared by the next", "TranslationProvider MMapDB filename=/srv/t.mmdb importfrom=/perl/trans.mmdb\n" +
			"TranslationProvider MMapDB basekey=a\n" +
			"TranslationProvider MMapDB filename=/srv/other.mmdb\n",
			[]got{{"/perl/trans.mmdb", true}, {"/perl/trans.mmdb", true}, {"", false}}},
		{"set in a later one", "TranslationProvider MMapDB filename=/srv/t.mmdb\n" +
			"TranslationProvider MMapDB filename=/srv/other.mmdb\n" +
			"TranslationProvider MMapDB filename=/srv/t.mmdb basekey=\"[qw/trans db/]\" importfrom=/perl/trans.mmdb\n",
			[]got{{"/perl/trans.mmdb", true}, {"", false}, {"/perl/trans.mmdb", true}}},
		{"set twice alike", "TranslationProvider MMapDB filename=/srv/t.mmdb importfrom=/perl/trans.mmdb\n" +
			"TranslationProvider MMapDB basekey=a importfrom=/perl/../perl/trans.mmdb\n",
			[]got{{"/perl/trans.mmdb", true}, {"/perl/trans.mmdb", true}}},
	}
	for _, tt := range tests {
		cfg := mustParse(t, tt.text)
		var have []got
		for _, p := range cfg.Providers {
			have = append(have, got{p.ImportFrom, p.ReadOnly})
		}
		if !reflect.DeepEqual(have, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, have, tt.want)
		}
	}
}

func TestImportFromErrorsNameFileAndLine(t *testing.T) {
	const open, close = "<TranslationProvider MMapDB>\nFileName /srv/t.mmdb\n", "</TranslationProvider>\n"
	tests := []struct {
		name, text, want string
	}{
		{"writable", open + "ReadOnly 0\nImportFrom /perl/trans.mmdb\n" + close,
			"trans.conf:3: ReadOnly 0, but /srv/t.mmdb follows ImportFrom /perl/trans.mmdb (line 4), whose next import would undo every write: its providers are read-only"},
		{"an earlier provider writable", "TranslationProvider MMapDB filename=/srv/t.mmdb readonly=0\n" +
			"TranslationProvider MMapDB filename=/srv/t.mmdb basekey=a importfrom=/perl/trans.mmdb\n",
			"trans.conf:1: ReadOnly 0, but /srv/t.mmdb follows ImportFrom /perl/trans.mmdb (line 2), whose next import would undo every write: its providers are read-only"},
		{"a later provider writable", open + "ImportFrom /perl/trans.mmdb\n" + close +
			"<TranslationProvider MMapDB>\nBaseKey a\nReadOnly off\n" + close,
			"trans.conf:7: ReadOnly 0, but /srv/t.mmdb follows ImportFrom /perl/trans.mmdb (line 3), whose next import would undo every write: its providers are read-only"},
		{"two Perl files", open + "ImportFrom /perl/a.mmdb\n" + close +
			"TranslationProvider MMapDB basekey=a importfrom=/perl/b.mmdb\n",
			"trans.conf:5: /srv/t.mmdb follows ImportFrom /perl/a.mmdb (line 3) already: the providers of a file share its ImportFrom, set it once"},
		{"itself", open + "ImportFrom /srv/./t.mmdb\n" + close,
			"trans.conf:3: ImportFrom /srv/t.mmdb is the database file itself: name the Perl MMapDB file to follow"},
		{"empty", open + "ImportFrom ${EMPTY}\n" + close,
			"trans.conf:3: empty ImportFrom"},
		{"duplicate", open + "ImportFrom /a\nImportFrom /b\n" + close,
			"trans.conf:4: duplicate parameter ImportFrom (first set on line 3)"},
		{"as a directive", "ImportFrom /perl/trans.mmdb" + minimalProvider,
			`trans.conf:1: unknown directive "ImportFrom": ImportFrom belongs inside <TranslationProvider MMapDB>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.text), "trans.conf", lookupTestEnv)
			var pe *ParseError
			if !errors.As(err, &pe) || err.Error() != tt.want {
				t.Errorf("error\n got %v\nwant %s", err, tt.want)
			}
		})
	}
}

// A read-only provider never commits, so it may differ from the writer
// of its file in NoLock; and a key need not be UTF-8.
func TestWhatMayDifferIsAccepted(t *testing.T) {
	cfg := mustParse(t, "<TranslationProvider MMapDB>\nFileName /srv/t.mmdb\nNoLock 1\n</TranslationProvider>\n"+
		"<TranslationProvider MMapDB>\nFileName /srv/t.mmdb\nBaseKey b\nReadOnly 1\n</TranslationProvider>\n")
	if len(cfg.Providers) != 2 || !cfg.Providers[0].NoLock || cfg.Providers[1].NoLock {
		t.Errorf("providers: %+v", cfg.Providers)
	}
	cfg = mustParse(t, "TranslationKey caf\xe9"+minimalProvider)
	if cfg.TranslationKey != "caf\xe9" {
		t.Errorf("TranslationKey %q", cfg.TranslationKey)
	}
}
