package train

import (
	"context"
	"errors"
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

// TestAblateResume stops an ablation's reruns in several ways and requires --resume to keep
// exactly the runs finished with the same options: all of them, with the same table and
// pictures to the byte; all but one whose record is gone, trained again to the same Dice;
// none when the learning rate or the landscape changed; a run stopped partway never; and
// a damaged record named in the error.
func TestAblateResume(t *testing.T) {
	dir := t.TempDir()
	o := tiny(t, "")
	o.Epochs = 1
	lo := &LandscapeOptions{Grid: landscape.Options{Points: 3, Seed: 1}, Data: landscape.DataOptions{Crops: 1}}
	first, err := Ablate(context.Background(), AblateOptions{Train: o, Dir: dir, Seeds: 2, Landscape: lo})
	if err != nil {
		t.Fatal(err)
	}
	files := func() map[string]string {
		m := map[string]string{}
		for _, f := range []string{"ablation.md", "ablation.csv", "ablation_loss.png", "ablation_landscapes.png"} {
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			m[f] = string(b)
		}
		return m
	}
	before := files()

	trained := 0
	counted := o
	counted.Hooks = []Hook{{Name: "count", Start: func(*Loop) error { trained++; return nil }}}
	var log strings.Builder
	again, err := Ablate(context.Background(), AblateOptions{Train: counted, Dir: dir, Seeds: 2, Landscape: lo, Resume: true, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if trained != 0 || strings.Count(log.String(), "(kept from an earlier run)") != 12 {
		t.Errorf("resumed a finished ablation: %d runs trained again; log:\n%s", trained, log.String())
	}
	same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
	for i, r := range again.Rows {
		w := first.Rows[i]
		if r.Name != w.Name || len(r.Dices) != 2 || r.Dices[0] != w.Dices[0] || r.Dices[1] != w.Dices[1] || !same(r.FinalLoss, w.FinalLoss) || r.Steps != w.Steps ||
			r.Seconds != w.Seconds || r.Weights != w.Weights || !same(r.GradRatio, w.GradRatio) || !same(r.InitRatio, w.InitRatio) ||
			!same(r.NonConvexity, w.NonConvexity) || !same(r.NonConvexityStd, w.NonConvexityStd) || len(r.History) != len(w.History) ||
			r.History[0].Loss != w.History[0].Loss || r.Landscape == nil || r.Landscape.Loss[1][2] != w.Landscape.Loss[1][2] {
			t.Errorf("kept row %s differs from the trained one:\n%+v\n%+v", r.Name, r, w)
		}
	}
	for f, b := range files() {
		if b != before[f] {
			t.Errorf("%s differs after a resume that trained nothing", f)
		}
	}

	// A run without its record (stopped during its landscape) is trained again, alone, to
	// the same Dice: the same seed gives the same model.
	if err := os.Remove(filepath.Join(dir, "add-nonorm-d2", "seed8", "model.ablation.json")); err != nil {
		t.Fatal(err)
	}
	trained = 0
	again, err = Ablate(context.Background(), AblateOptions{Train: counted, Dir: dir, Seeds: 2, Landscape: lo, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	if trained != 1 || again.Rows[3].Dices[1] != first.Rows[3].Dices[1] || again.Rows[3].NonConvexity != first.Rows[3].NonConvexity {
		t.Errorf("one record gone: %d runs trained; Dice %v, want %v", trained, again.Rows[3].Dices, first.Rows[3].Dices)
	}

	// Other options make other runs: the first is trained again, and stopped partway
	// (cancelled at its fifth step), it leaves no record that a later resume could keep.
	firstRecord := filepath.Join(dir, "concat-batchnorm-d2", "seed7", "model.ablation.json")
	kept, err := os.ReadFile(firstRecord)
	if err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(*Options, *LandscapeOptions){
		"learning rate": func(o *Options, _ *LandscapeOptions) { o.LR *= 2 },
		"landscape":     func(_ *Options, l *LandscapeOptions) { l.Grid.Points = 5 },
	} {
		if err := os.WriteFile(firstRecord, kept, 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		c, l := counted, *lo
		change(&c, &l)
		trained = 0
		c.Hooks = append(c.Hooks, Hook{Name: "cancel", BeforeStep: func(l *Loop) error {
			if l.Steps() == 5 {
				cancel()
			}
			return nil
		}})
		_, err := Ablate(ctx, AblateOptions{Train: c, Dir: dir, Seeds: 2, Landscape: &l, Resume: true})
		cancel()
		if !errors.Is(err, ErrInterrupted) || trained != 1 {
			t.Errorf("%s changed: %v after %d runs, want the first run trained again and interrupted", name, err, trained)
		}
		if _, err := os.Stat(firstRecord); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s changed: the stopped run's record: %v, want none", name, err)
		}
	}

	bad := filepath.Join(dir, "concat-nonorm-d2", "seed7", "model.ablation.json")
	if err := os.WriteFile(bad, []byte("{\"run\": "), 0o644); err != nil {
		t.Fatal(err)
	}
	trained = 0
	if _, err := Ablate(context.Background(), AblateOptions{Train: counted, Dir: dir, Seeds: 2, Landscape: lo, Resume: true}); err == nil ||
		!strings.Contains(err.Error(), bad) || trained != 1 {
		t.Errorf("damaged record: %v after %d runs, want an error naming %s after one run (the first, whose record the stopped runs took)", err, trained, bad)
	}
}
