package engine_test

import (
	"errors"
	"testing"

	"transdb/engine"
)

// Validate refuses what no HTTP request can hold, naming the field as
// GET /v1/translate names its parameter.
func TestRequestValidate(t *testing.T) {
	ok := engine.Request{URI: "/a b/ü", Args: "x=1", Method: "M-SEARCH", Host: "www.example.org:8080", Port: 443,
		Scheme: "https", ClientIP: "2001:db8::1", Header: []engine.Header{{Name: "X-A", Value: "v\tw"}}, Key: "front"}
	if err := ok.Validate(); err != nil {
		t.Errorf("%+v: %v", ok, err)
	}
	if err := (&engine.Request{URI: "/"}).Validate(); err != nil {
		t.Errorf("the defaults: %v", err)
	}
	for field, change := range map[string]func(*engine.Request){
		"uri":       func(r *engine.Request) { r.URI = "" },
		"args":      func(r *engine.Request) { r.Args = "a\nb" },
		"host":      func(r *engine.Request) { r.Host = "a\x00b" },
		"method":    func(r *engine.Request) { r.Method = "G T" },
		"port":      func(r *engine.Request) { r.Port = 65536 },
		"scheme":    func(r *engine.Request) { r.Scheme = "ftp" },
		"client_ip": func(r *engine.Request) { r.ClientIP = "1.2.3" },
		"header":    func(r *engine.Request) { r.Header = []engine.Header{{Name: "X A", Value: "v"}} },
		"key":       func(r *engine.Request) { r.Key = "a b" },
	} {
		r := ok
		change(&r)
		var e *engine.RequestError
		if err := r.Validate(); !errors.As(err, &e) || e.Field != field {
			t.Errorf("%s: %v, want a RequestError of %s", field, err, field)
		}
	}
	r := ok
	r.URI = "/\xff"
	if err := r.Validate(); err == nil {
		t.Error("a uri that is not UTF-8: no error")
	}
}

func TestParseHeader(t *testing.T) {
	for in, want := range map[string]engine.Header{
		"Host: www.example.org": {Name: "Host", Value: "www.example.org"},
		"X-A:v":                 {Name: "X-A", Value: "v"},
		"X-A: \t v w \t":        {Name: "X-A", Value: "v w"},
		"X-A: \u00a0v":          {Name: "X-A", Value: "\u00a0v"}, // only blanks and tabs go
		"X-Empty:":              {Name: "X-Empty", Value: ""},
	} {
		if h, err := engine.ParseHeader(in); err != nil || h != want {
			t.Errorf("ParseHeader(%q) = %+v, %v; want %+v", in, h, err, want)
		}
	}
	for _, in := range []string{"NoColon", "Host : x", "X A: v", ": v", "Host\t: x"} {
		if _, err := engine.ParseHeader(in); err == nil {
			t.Errorf("ParseHeader(%q): no error", in)
		}
	}
}
