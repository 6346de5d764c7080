package main

import (
	"os"
	"strings"
	"testing"
)

// TestLandscapeCommand draws a 3x3 landscape of the sample model on one crop of the sample
// data, and checks the files, the summary line, the CSV's size and the usage errors.
func TestLandscapeCommand(t *testing.T) {
	prefix := t.TempDir() + "/l"
	code, out, errOut := runCmd("landscape", "--data", "../../sample_data", "--points", "3", "--crops", "1", "--crop", "64", "--out", prefix, "-q")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "loss at the centre") || !strings.Contains(out, "non-convexity") {
		t.Errorf("output %q lacks the summary", out)
	}
	for _, ext := range []string{".contour.png", ".surface.png", ".1d.png"} {
		if _, err := os.Stat(prefix + ext); err != nil {
			t.Error(err)
		}
	}
	csv, err := os.ReadFile(prefix + ".csv")
	if err != nil || strings.Count(string(csv), "\n") != 10 {
		t.Errorf("CSV: %v, %d lines, want a header and 9 points", err, strings.Count(string(csv), "\n"))
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"landscape"}, "--data"},
		{[]string{"landscape", "--data", "../../sample_data", "--points", "4"}, "odd"},
		{[]string{"landscape", "--data", "../../sample_data", "--crop", "30"}, "multiple"},
		{[]string{"landscape", "--data", "../../sample_data", "--loss", "ce"}, "loss"},
	} {
		if code, _, errOut := runCmd(c.args...); code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("segment %v: exit %d, stderr %q; want exit %d mentioning %q", c.args, code, errOut, exitUsage, c.want)
		}
	}
}
