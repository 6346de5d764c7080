package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestFilter feeds a hand-written stream of go test events (a passing package with one
// skipped subtest, a failing package, a build error) and checks what is shown and listed.
func TestFilter(t *testing.T) {
	in := strings.Join([]string{
		`{"Action":"start","Package":"a"}`,
		`{"Action":"run","Package":"a","Test":"TestA"}`,
		`{"Action":"output","Package":"a","Test":"TestA","Output":"=== RUN   TestA\n"}`,
		`{"Action":"output","Package":"a","Test":"TestA","Output":"    a_test.go:9: fine\n"}`,
		`{"Action":"pass","Package":"a","Test":"TestA"}`,
		`{"Action":"output","Package":"a","Test":"TestA/ro","Output":"=== RUN   TestA/ro\n"}`,
		`{"Action":"output","Package":"a","Test":"TestA/ro","Output":"    a_test.go:12: did not run: no mount\n"}`,
		`{"Action":"output","Package":"a","Test":"TestA/ro","Output":"    --- SKIP: TestA/ro (0.00s)\n"}`,
		`{"Action":"skip","Package":"a","Test":"TestA/ro"}`,
		`{"Action":"output","Package":"a","Output":"PASS\n"}`,
		`{"Action":"output","Package":"a","Output":"ok  \ta\t0.1s\n"}`,
		`{"Action":"pass","Package":"a"}`,
		`{"Action":"output","Package":"b","Test":"TestB","Output":"=== RUN   TestB\n"}`,
		`{"Action":"output","Package":"b","Test":"TestB","Output":"    b_test.go:3: got 1, want 2\n"}`,
		`{"Action":"output","Package":"b","Test":"TestB","Output":"--- FAIL: TestB (0.00s)\n"}`,
		`{"Action":"fail","Package":"b","Test":"TestB"}`,
		`{"Action":"output","Package":"b","Output":"FAIL\tb\t0.2s\n"}`,
		`{"Action":"fail","Package":"b"}`,
		`{"ImportPath":"c","Action":"build-output","Output":"c/c.go:1:1: syntax error\n"}`,
		`# a line that is not an event`,
		`{"Action":"skip","Package":"d"}`,
	}, "\n")
	var out bytes.Buffer
	skips, n, err := filter(strings.NewReader(in), &out)
	if err != nil {
		t.Fatal(err)
	}
	if n != (counts{passed: 1, failed: 1}) {
		t.Errorf("counts = %+v, want 1 passed (TestA) and 1 failed (TestB)", n)
	}
	want := "ok  \ta\t0.1s\n" +
		"    b_test.go:3: got 1, want 2\n--- FAIL: TestB (0.00s)\n" +
		"FAIL\tb\t0.2s\n" +
		"c/c.go:1:1: syntax error\n" +
		"# a line that is not an event\n"
	if out.String() != want {
		t.Errorf("shown:\n%s\nwant:\n%s", out.String(), want)
	}
	if len(skips) != 1 || skips[0] != (skip{"a", "TestA/ro", "did not run: no mount"}) {
		t.Errorf("skips = %+v", skips)
	}
	var l bytes.Buffer
	list(&l, skips)
	if got := l.String(); got != "\n1 skipped tests:\nSKIP a TestA/ro: did not run: no mount\n" {
		t.Errorf("list:\n%s", got)
	}
}
