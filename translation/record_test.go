package translation_test

import (
	"errors"
	"strings"
	"testing"

	"transdb/translation"
)

func TestValidateKeyURI(t *testing.T) {
	tests := []struct {
		name     string
		key, uri string
		wantErr  string // "" for a valid pair
	}{
		{"plain pair", "front", "/static", ""},
		{"special uri", "front", ":PRE:", ""},
		{"unicode without space", "ключ", "/日本", ""},
		{"space in key", "a b", "/", `translation: key "a b" contains white space: invalid record`},
		{"tab in uri", "k", "/a\tb", `translation: uri "/a\tb" contains white space: invalid record`},
		{"newline in uri", "k", "/a\n", `uri "/a\n" contains white space`},
		{"carriage return in key", "k\r", "/", `key "k\r" contains white space`},
		{"no-break space in key", "a\u00a0b", "/", "contains white space"},
		{"ideographic space in uri", "k", "/\u3000", "contains white space"},
		{"empty key", "", "/", "translation: empty key: invalid record"},
		{"empty uri", "k", "", "translation: empty uri: invalid record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := translation.ValidateKeyURI(tt.key, tt.uri)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ValidateKeyURI(%q, %q) = %v, want nil", tt.key, tt.uri, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ValidateKeyURI(%q, %q) = nil, want an error", tt.key, tt.uri)
			}
			if !errors.Is(err, translation.ErrInvalidRecord) {
				t.Errorf("error %v does not wrap ErrInvalidRecord", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
		})
	}
}
