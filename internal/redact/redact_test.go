package redact

import "testing"

func TestURLHidesUserInformation(t *testing.T) {
	for in, want := range map[string]string{
		"nats://127.0.0.1:4222":                          "nats://127.0.0.1:4222",
		"nats://alice:s3cret@127.0.0.1:4222":             "nats://***@127.0.0.1:4222",
		"tls://t0ken@nats.example.com:4222":              "tls://***@nats.example.com:4222",
		"nats://a:b@h1:4222,nats://h2:4222,tls://c:d@h3": "nats://***@h1:4222,nats://h2:4222,tls://***@h3",
		"nats://a:b@h1:1,tls://u:p@w@h2:2":               "nats://***@h1:1,tls://***@h2:2",
		"nats://user:p%40ss@h:4222":                      "nats://***@h:4222",
		"c:d@h3":                                         "***@h3",
		"not a url":                                      "not a url",
		// Passwords with the characters that end the user information
		// of a well-formed URL: all up to the last @ is hidden.
		"nats://s3cr/Et+tok==@127.0.0.1:4222":   "nats://***@127.0.0.1:4222",
		"nats://alice:pa?ss@h:1,nats://b:p#w@h": "nats://***@h:1,nats://***@h",
		"nats://alice:ab,cd@h:4222":             "nats://***@h:4222",
		"nats://h1:4222,c:d@h3":                 "nats://***@h3",
		"tls://u:p@h/x@y":                       "tls://***@y",
	} {
		if got := URL(in); got != want {
			t.Errorf("URL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTextHidesUserInformationOfURLsInIt(t *testing.T) {
	in := `dial nats://alice:s3cret@h:4222: refused; tls://tok@h2, user@example.com stays`
	want := `dial nats://***@h:4222: refused; tls://***@h2, user@example.com stays`
	if got := Text(in); got != want {
		t.Errorf("Text = %q, want %q", got, want)
	}
	in = `invalid Publish URL "nats://s3cr/Et+tok==@127.0.0.1:4222": a path`
	want = `invalid Publish URL "nats://***@127.0.0.1:4222": a path`
	if got := Text(in); got != want {
		t.Errorf("Text = %q, want %q", got, want)
	}
	if Error(nil) != nil {
		t.Error("Error(nil) is not nil")
	}
}
