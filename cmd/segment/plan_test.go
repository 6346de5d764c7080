package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/segment-dev/segment/plan"
	"github.com/segment-dev/segment/train"
)

func TestPlanCommand(t *testing.T) {
	code, out, errOut := runCmd("plan", "../../sample_data")
	if code != exitOK {
		t.Fatalf("segment plan: exit %d, %s", code, errOut)
	}
	for _, want := range []string{"fingerprint of ../../sample_data", "typical object", "--crop ", "--class-weights", "--loss "} {
		if !strings.Contains(out, want) {
			t.Errorf("segment plan prints no %q:\n%s", want, out)
		}
	}
	// --plan-only plans and stops: the flag given is reported, no model is written.
	dir := t.TempDir()
	model := filepath.Join(dir, "m.safetensors")
	code, out, errOut = runCmd("train", "--data", "../../sample_data", "--plan-only", "--crop", "32", "--out", model, "-q")
	if code != exitOK || !strings.Contains(out, "(--crop given: it overrides the plan)") || !strings.Contains(out, "fingerprint of") {
		t.Errorf("train --plan-only: exit %d, %q, %s", code, out, errOut)
	}
	if _, err := os.Stat(model); err == nil {
		t.Error("train --plan-only wrote a model")
	}
	if code, _, errOut := runCmd("plan"); code != exitUsage || !strings.Contains(errOut, "want one data set folder") {
		t.Errorf("segment plan without a folder: exit %d, %s", code, errOut)
	}
}

// TestApplyPlan: the flags given keep their values, the plan sets the others, and the
// record names the flags that overrode it.
func TestApplyPlan(t *testing.T) {
	p := &plan.Plan{Crop: 192, Batch: 4, Depth: 3, Base: 32, Augment: "light", ClassCrops: 0.33, ClassWeights: "auto", Loss: "ce+dice-per-class", LR: 3e-3}
	o := train.Options{Crop: 64, Loss: "ce"}
	applyPlan(p, &o, map[string]bool{"crop": true, "loss": true})
	if o.Crop != 64 || o.Loss != "ce" || o.Batch != 4 || o.Model.Depth != 3 || o.Model.BaseChannels != 32 || o.Augment != "light" ||
		o.ClassCrops != 0.33 || o.ClassWeights != "auto" || o.LR != 3e-3 {
		t.Errorf("options after the plan: %+v", o)
	}
	var rec struct {
		Crop       int      `json:"crop"`
		Overridden []string `json:"overridden_by_flags"`
	}
	if err := json.Unmarshal(o.Plan, &rec); err != nil || rec.Crop != 192 || !slices.Equal(rec.Overridden, []string{"crop", "loss"}) {
		t.Errorf("recorded plan %s (%v)", o.Plan, err)
	}
	o = train.Options{LR: 0.05}
	if applyPlan(p, &o, map[string]bool{"lr": true}); o.LR != 0.05 {
		t.Errorf("--lr 0.05 gave a learning rate of %g after the plan", o.LR)
	}
}
