package httpprovider

import (
	"net/url"
	"reflect"
	"testing"
)

// sameAsParseQuery checks that query parses raw as url.ParseQuery does:
// the same error or none, and the same values for every name.
func sameAsParseQuery(t *testing.T, raw string) {
	t.Helper()
	want, wantErr := url.ParseQuery(raw)
	var q query
	err := q.parse(raw)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("%q: error %v, url.ParseQuery %v", raw, err, wantErr)
	}
	if err != nil {
		return
	}
	names := map[string]bool{"key": true, "uri": true, "basekey": true, "notes": true, "": true}
	for name := range want {
		names[name] = true
	}
	for i := range q.n {
		names[q.names[i]] = true
	}
	for name := range names {
		if got := q.get(name); !reflect.DeepEqual(got, want[name]) {
			t.Errorf("%q: %q is %q, url.ParseQuery %q", raw, name, got, want[name])
		}
	}
}

func TestQueryParsesAsParseQuery(t *testing.T) {
	for _, raw := range []string{
		"",
		"key=front&uri=/static",
		"key=front&uri=%2Fstatic%2Fimg.png",
		"uri=/a+b&key=k",
		"key=a&key=b",
		"basekey=trans&uri=/&basekey=db&key=k",
		"basekey=",
		"key",
		"=value",
		"&&key=k&&",
		"key=k;uri=/",
		"key=%zz",
		"ke%79=k",
		"key=k&uri=/&notes=1&a=1&b=2&c=3&d=4&e=5&f=6",
		"a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8",
		"a=1&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&b=2",
		"key=k&uri=%E2%82%AC",
		"key=k&uri=%FF",
		"key=k=v",
		"k.e-y_1=x",
		"=", "&=&", "a=&b", "a=b=", "a&", "a=%", "a=b%2", "a+b=c", "a b=c", "a=b c",
	} {
		sameAsParseQuery(t, raw)
	}
}

func FuzzQueryParsesAsParseQuery(f *testing.F) {
	for _, s := range []string{"key=front&uri=/static", "basekey=a&basekey=b", "k=%41;", "a+b=c+d", "&&x=1&"} {
		f.Add(s)
	}
	f.Fuzz(sameAsParseQuery)
}

func TestQueryOfALookupAllocatesNothing(t *testing.T) {
	var q query
	allocs := testing.AllocsPerRun(100, func() {
		if err := q.parse("key=site0042.example.com&uri=/shop/cart&basekey=trans&basekey=db"); err != nil {
			t.Fatal(err)
		}
		if len(q.get("key")) != 1 || len(q.get("uri")) != 1 || q.get("notes") != nil {
			t.Fatal("wrong values")
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations", allocs)
	}
}
