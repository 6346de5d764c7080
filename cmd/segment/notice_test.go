package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestPredictDemoNotice: predict without --model says, in one line on stderr, that the
// masks come from the demo model; with --model it says nothing of the kind.
func TestPredictDemoNotice(t *testing.T) {
	img := "../../sample_data/val/images/0000.png"
	out := t.TempDir()
	code, _, errOut := runCmd("predict", img, "--out", out, "-q")
	if code != exitOK || errOut != demoNotice+"\n" || !strings.Contains(demoNotice, "demo model, trained on synthetic data") {
		t.Errorf("without --model: exit %d, stderr %q; want the one-line notice", code, errOut)
	}
	model := sampleModelFile(t, t.TempDir())
	code, _, errOut = runCmd("predict", img, "--out", filepath.Join(out, "m"), "-q", "--model", model)
	if code != exitOK || errOut != "" {
		t.Errorf("with --model: exit %d, stderr %q; want nothing", code, errOut)
	}
}
