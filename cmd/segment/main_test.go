package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden help files")

func runCmd(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestHelpGolden keeps the help texts in testdata/, so that a change to them shows in review.
func TestHelpGolden(t *testing.T) {
	cases := map[string][]string{"help.golden": {"help"}}
	for _, c := range commands {
		cases["help-"+c.name+".golden"] = []string{c.name, "-h"}
	}
	for file, args := range cases {
		code, out, errOut := runCmd(args...)
		if code != exitOK || errOut != "" {
			t.Errorf("segment %s: exit %d, stderr %q", strings.Join(args, " "), code, errOut)
		}
		path := filepath.Join("testdata", file)
		if *update {
			if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./cmd/segment -update to create it)", err)
		}
		if out != string(want) {
			t.Errorf("segment %s: help text differs from %s (run go test ./cmd/segment -update if the change is meant):\n%s", strings.Join(args, " "), path, out)
		}
	}
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.safetensors")
	if err := os.WriteFile(junk, []byte("this is not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args    []string
		code    int
		errWant string
	}{
		{nil, exitUsage, "Usage"},
		{[]string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{[]string{"inspect"}, exitUsage, "want one model file"},
		{[]string{"inspect", "-nosuchflag", "x"}, exitUsage, "flag provided but not defined"},
		{[]string{"inspect", filepath.Join(dir, "missing.safetensors")}, exitFailure, "missing.safetensors"},
		{[]string{"inspect", junk}, exitFailure, "junk.safetensors"},
		{[]string{"help", "nosuch"}, exitUsage, "unknown command"},
	}
	for _, c := range cases {
		code, _, errOut := runCmd(c.args...)
		if code != c.code || !strings.Contains(errOut, c.errWant) {
			t.Errorf("segment %v: exit %d, stderr %q; want exit %d mentioning %q", c.args, code, errOut, c.code, c.errWant)
		}
		if strings.Contains(errOut, "goroutine ") || strings.Contains(errOut, "panic") {
			t.Errorf("segment %v printed a stack trace: %s", c.args, errOut)
		}
	}
}
