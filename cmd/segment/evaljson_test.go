package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEvalJSONSaysWhere: with --json, stdout holds the summary's JSON and nothing else,
// and stderr names the eval.csv and eval.json it wrote (and the report), which exist.
func TestEvalJSONSaysWhere(t *testing.T) {
	pred, gt := handMasks(t)
	out := filepath.Join(t.TempDir(), "scores")
	rep := filepath.Join(t.TempDir(), "report")
	args := []string{"eval", "--pred", pred, "--gt", gt, "--out", out, "--report", rep, "-q", "--json"}
	code, stdout, errOut := runCmd(args...)
	if code != exitOK {
		t.Fatalf("segment %v: exit %d: %s", args, code, errOut)
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	var summary map[string]any
	if err := dec.Decode(&summary); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	if rest, _ := io.ReadAll(dec.Buffered()); len(bytes.TrimSpace(rest)) != 0 {
		t.Errorf("stdout has more than the JSON: %q", rest)
	}
	if _, ok := summary["classes"]; !ok {
		t.Errorf("stdout's JSON is not the summary: %s", stdout)
	}
	for _, p := range []string{filepath.Join(out, "eval.csv"), filepath.Join(out, "eval.json"), filepath.Join(rep, "index.html")} {
		if !strings.Contains(errOut, p) {
			t.Errorf("stderr does not say where %s is: %q", filepath.Base(p), errOut)
		}
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
}
