package conf

import (
	"errors"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	f.Add(string(defaultSource))
	f.Add(minimalProvider)
	f.Add("Listen 9000\nTranslationProvider MMapDB filename='a b' basekey=\"[qw/trans db/]\" readonly=1 nolock=on\n")
	f.Add("<TranslationProvider MMapDB>\nFileName x\nRoot ${DATA}\n</TranslationProvider>\n<translationprovider mmapdb>\nBaseKey b\n</translationprovider>\n")
	f.Add("OnChange 'echo ${X}' \\\n  more\n# c \\\nListen 1" + minimalProvider)
	f.Add("\ufeffCheckInterval 10s\r\nMaxBodySize 1\r\n" + minimalProvider)
	f.Add("<TranslationProvider MMapDB>\nFileName x\n")
	f.Add("</TranslationProvider>")
	f.Add("<TranslationProvider DB>\n</TranslationProvider>")
	f.Add("TranslationProvider MMapDB filename=\"x")
	f.Add("TranslationProvider MMapDB basekey=b")
	f.Add("Listen \"127.0.0.1:1\" x\n<>\n<")
	f.Add("AccessLog ${${A}}${")

	f.Fuzz(func(t *testing.T, text string) {
		cfg, err := Parse(strings.NewReader(text), "fuzz.conf", lookupTestEnv)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is %T, want *ParseError", err, err)
			}
			if !strings.HasPrefix(err.Error(), "fuzz.conf") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if len(cfg.Providers) == 0 {
			t.Fatal("parse succeeded without providers")
		}
		for i, p := range cfg.Providers {
			if p.FileName == "" {
				t.Fatalf("provider %d has no FileName: %+v", i, p)
			}
			if p.Line < 1 {
				t.Fatalf("provider %d has line %d", i, p.Line)
			}
			_ = p.Path()
		}
		if cfg.MaxBodySize < 0 {
			t.Fatalf("MaxBodySize %d", cfg.MaxBodySize)
		}
		if cfg.CheckInterval < 0 || cfg.CheckInterval > MaxCheckInterval {
			t.Fatalf("CheckInterval %v", cfg.CheckInterval)
		}
		if cfg.Listen == "" {
			t.Fatal("empty Listen")
		}
	})
}
