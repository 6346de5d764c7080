package train

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segment-dev/segment/landscape"
	"github.com/segment-dev/segment/unet"
	"github.com/segment-dev/segment/weights"
)

// TestAblate runs a one-epoch ablation of a tiny model and checks the table, its numbers
// (the gradient figures against the gradient logs written) and the files, and that a crop unfit for the deep variants is refused before training.
func TestAblate(t *testing.T) {
	dir := t.TempDir()
	o := tiny(t, "")
	o.Epochs = 1
	var log strings.Builder
	res, err := Ablate(context.Background(), AblateOptions{Train: o, Dir: dir, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 6 || strings.Count(log.String(), "\n") != 6 {
		t.Fatalf("%d rows and log\n%s; want 6 variants", len(res.Rows), log.String())
	}
	want := []string{"concat-batchnorm-d2", "concat-nonorm-d2", "add-batchnorm-d2", "add-nonorm-d2", "none-batchnorm-d2", "none-nonorm-d2"}
	md, _ := os.ReadFile(res.Markdown)
	csv, _ := os.ReadFile(res.CSV)
	for i, r := range res.Rows {
		if r.Name != want[i] {
			t.Errorf("row %d is %s, want %s", i, r.Name, want[i])
		}
		if r.Steps != 20 || !(r.GradRatio > 0) || math.IsInf(r.GradRatio, 0) || !(r.InitRatio > 0) || !(r.FinalLoss > 0) {
			t.Errorf("%s: %+v", r.Name, r)
		}
		if !strings.Contains(string(md), "| "+r.Name+" |") || !strings.Contains(string(csv), "\n"+r.Name+",") {
			t.Errorf("%s missing from the Markdown or the CSV table", r.Name)
		}
		if _, err := os.Stat(filepath.Join(dir, r.Name, "model.grads.png")); err != nil {
			t.Error(err)
		}
		// The figures come from a hook during training; the gradient log the run wrote
		// must give the same ones, to the last bit.
		logged, err := ReadGradLog(filepath.Join(dir, r.Name, "model.grads.csv"))
		if err != nil {
			t.Fatal(err)
		}
		first, last, ratio, init := gradSummary(logged, r.Steps)
		if first != r.FirstGrad || last != r.LastGrad || ratio != r.GradRatio || init != r.InitRatio {
			t.Errorf("%s: gradient figures %v, %v, %v, %v; the gradient log gives %v, %v, %v, %v",
				r.Name, r.FirstGrad, r.LastGrad, r.GradRatio, r.InitRatio, first, last, ratio, init)
		}
	}
	if fi, err := os.Stat(res.PNG); err != nil || fi.Size() == 0 {
		t.Errorf("loss curves: %v", err)
	}
	o.Crop = 48 // a multiple of 2^2 but not of 2^5
	if _, err := Ablate(context.Background(), AblateOptions{Train: o, Dir: t.TempDir(), Deep: true}); err == nil || !strings.Contains(err.Error(), "d5") {
		t.Errorf("deep ablation with crop 48: %v, want the depth-5 variant refused", err)
	}
}

// TestAblateSeedsBlocksLandscape runs the ablation with plain and dense blocks, two seeds
// and landscapes: twelve variants of two runs each, means over the seeds, differences to
// the baseline (concat, batch norm, plain) with intervals that hold them, a landscape per
// run, the dense variants really dense, and the seeds really different.
func TestAblateSeedsBlocksLandscape(t *testing.T) {
	dir := t.TempDir()
	o := tiny(t, "")
	o.Epochs = 1
	res, err := Ablate(context.Background(), AblateOptions{Train: o, Dir: dir, Blocks: []unet.Block{unet.BlockPlain, unet.BlockDense}, Seeds: 2,
		Landscape: &LandscapeOptions{Grid: landscape.Options{Points: 3, Seed: 1}, Data: landscape.DataOptions{Crops: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 12 || res.Baseline != "concat-batchnorm-d2-plain" || res.Rows[6].Name != "concat-batchnorm-d2-dense" {
		t.Fatalf("%d rows, baseline %s, row 6 %s", len(res.Rows), res.Baseline, res.Rows[6].Name)
	}
	differ := false
	for _, r := range res.Rows {
		if len(r.Dices) != 2 || math.Abs(r.BestDice-(r.Dices[0]+r.Dices[1])/2) > 1e-12 {
			t.Errorf("%s: Dices %v, mean %g", r.Name, r.Dices, r.BestDice)
		}
		differ = differ || r.Dices[0] != r.Dices[1]
		if !(r.NonConvexity >= 0 && r.NonConvexity <= 1) || r.Landscape == nil {
			t.Errorf("%s: non-convexity %g", r.Name, r.NonConvexity)
		}
		if r.Name == res.Baseline {
			if !math.IsNaN(r.Diff) {
				t.Errorf("the baseline differs from itself by %g", r.Diff)
			}
			continue
		}
		base := res.Rows[0]
		if want := r.BestDice - base.BestDice; math.Abs(r.Diff-want) > 1e-12 || !(r.DiffLo <= r.Diff && r.Diff <= r.DiffHi) || r.Significant != (r.DiffLo > 0 || r.DiffHi < 0) {
			t.Errorf("%s: difference %g [%g, %g] (significant %v), by hand %g", r.Name, r.Diff, r.DiffLo, r.DiffHi, r.Significant, want)
		}
		for _, seed := range []string{"seed7", "seed8"} {
			if _, err := os.Stat(filepath.Join(dir, r.Name, seed, "model.landscape.contour.png")); err != nil {
				t.Error(err)
			}
		}
	}
	if !differ {
		t.Error("the two seeds gave the same Dice in every variant")
	}
	m, _, err := weights.Load(filepath.Join(dir, "add-nonorm-d2-dense", "seed8", "model.safetensors"))
	if err != nil || m.Config.Block != unet.BlockDense || m.Config.Growth != 2 || m.Config.DenseLayers != unet.DefaultDenseLayers || m.Config.Skip != unet.SkipAdd {
		t.Errorf("dense variant's model: %v, %v", err, m.Config)
	}
	csv, _ := os.ReadFile(res.CSV)
	md, _ := os.ReadFile(res.Markdown)
	if n := strings.Count(string(csv), "\n"); n != 25 || !strings.Contains(string(md), "Welch") {
		t.Errorf("CSV of %d lines (want a header and 24 runs); Markdown:\n%s", n, md)
	}
	if _, err := os.Stat(res.Landscapes); err != nil {
		t.Error(err)
	}
}
