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
		{[]string{"doctor", dir}, exitFailure, dir},
		{[]string{"doctor"}, exitUsage, "want one data set folder"},
		{[]string{"train", "--data", filepath.Join(dir, "nowhere")}, exitFailure, "nowhere"},
		{[]string{"train", "--skip", "sideways"}, exitUsage, "skip must be"},
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

// TestDoctorSampleData runs doctor on the bundled sample data with a flag after the folder.
func TestDoctorSampleData(t *testing.T) {
	code, out, errOut := runCmd("doctor", "../../sample_data", "--classes", "1")
	if code != exitOK {
		t.Fatalf("doctor sample_data: exit %d, %s", code, errOut)
	}
	for _, want := range []string{"train: 40 pairs", "val: 8 pairs", "binary", "ready to train"} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}
}

func TestParseInterspersed(t *testing.T) {
	for _, c := range []struct {
		args []string
		pos  []string
		n    int
	}{
		{[]string{"a", "-n", "3", "b"}, []string{"a", "b"}, 3},
		{[]string{"-n", "2", "a"}, []string{"a"}, 2},
		{[]string{"a", "--", "-n", "b"}, []string{"a", "-n", "b"}, 0},
	} {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		n := fs.Int("n", 0, "")
		if err := parseInterspersed(fs, c.args); err != nil {
			t.Fatal(err)
		}
		if strings.Join(fs.Args(), " ") != strings.Join(c.pos, " ") || *n != c.n {
			t.Errorf("%v: args %v n %d, want %v %d", c.args, fs.Args(), *n, c.pos, c.n)
		}
	}
}
