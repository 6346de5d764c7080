package train

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
