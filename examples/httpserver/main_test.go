package main

import (
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var b strings.Builder
	if err := run(&b); err != nil {
		t.Fatal(err)
	}
	want := `200 OK hello from synack: GET / over HTTP/1.1
200 OK hello from synack: GET /about over HTTP/1.1
200 OK hello from synack: GET /contact over HTTP/1.1
connections opened: 1
200 OK hello from synack: GET / over HTTP/2.0
200 OK hello from synack: GET /about over HTTP/2.0
200 OK hello from synack: GET /contact over HTTP/2.0
connections opened: 1
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
