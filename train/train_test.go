package train

import (
	"cmp"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segment-dev/segment/augment"
	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/metrics"
	"github.com/segment-dev/segment/predict"
	"github.com/segment-dev/segment/unet"
	"github.com/segment-dev/segment/weights"
)

// sampleDir is the project's bundled sample data.
func sampleDir(t *testing.T) string {
	t.Helper()
	d, err := filepath.Abs("../sample_data")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(d, "train")); err != nil {
		// sample_data is committed: its absence is a broken checkout, not a reason to skip.
		t.Fatalf("committed sample data: %v", err)
	}
	return d
}

// tiny is a fast run on the sample data: a small U-Net on 32x32 crops.
func tiny(t *testing.T, out string) Options {
	return Options{
		Data: sampleDir(t), Out: out, Epochs: 2, Batch: 2, Crop: 32, LR: 3e-3, Seed: 7, Threads: 2,
		Model: unet.Config{Depth: 2, BaseChannels: 4, Skip: unet.SkipConcat, Norm: unet.NormBatch, Up: unet.UpTranspose},
	}
}

// TestResumeIsExact stops a run partway (as Ctrl-C would), resumes it, and requires the
// final weights, running statistics and log to equal those of an uninterrupted run.
func TestResumeIsExact(t *testing.T) {
	dir := t.TempDir()
	whole, err := Run(context.Background(), tiny(t, filepath.Join(dir, "whole", "m.safetensors")))
	if err != nil {
		t.Fatal(err)
	}
	if whole.Steps != 40 || whole.Epochs != 2 {
		t.Fatalf("uninterrupted run: %d steps, %d epochs; want 40, 2", whole.Steps, whole.Epochs)
	}

	o := tiny(t, filepath.Join(dir, "parts", "m.safetensors"))
	o.StopAfter = 13 // inside the first epoch
	if _, err := Run(context.Background(), o); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("stopped run: %v, want ErrInterrupted", err)
	}
	o.StopAfter = 27 // inside the second epoch, after a resumption
	o.Resume = true
	if _, err := Run(context.Background(), o); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("second stop: %v, want ErrInterrupted", err)
	}
	o.StopAfter = 0
	parts, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if parts.Steps != whole.Steps {
		t.Fatalf("resumed run made %d steps, the uninterrupted one %d", parts.Steps, whole.Steps)
	}
	a, _, err := weights.Load(whole.Paths.Last)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := weights.Load(parts.Paths.Last)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range a.Config.Params() {
		x, y := a.Data(p.Name), b.Data(p.Name)
		for i := range x {
			if x[i] != y[i] {
				t.Fatalf("%s[%d]: %v after the uninterrupted run, %v after stopping and resuming", p.Name, i, x[i], y[i])
			}
		}
	}
	for i := range whole.History {
		w, p := whole.History[i], parts.History[i]
		if w.Loss != p.Loss || w.ValDice != p.ValDice {
			t.Errorf("epoch %d: loss %v / Dice %v uninterrupted, %v / %v resumed", i+1, w.Loss, w.ValDice, p.Loss, p.ValDice)
		}
	}
	if _, err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "already finished") {
		t.Errorf("resuming a finished run: %v", err)
	}
	// The command line spells the default block "plain" where the stored key has none: the
	// same run all the same.
	o.Model.Block = unet.BlockPlain
	if _, err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "already finished") {
		t.Errorf("resuming with the block spelled out: %v", err)
	}
	o.Model.Block = ""
	o.Seed = 8
	if _, err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "another run") {
		t.Errorf("resuming with another seed: %v", err)
	}
}

// TestTrainingLearns requires a short run to beat what the untrained model scores and to
// write every file it promises.
func TestTrainingLearns(t *testing.T) {
	dir := t.TempDir()
	o := tiny(t, filepath.Join(dir, "m.safetensors"))
	o.Epochs = 4
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	first, last := res.History[0], res.History[len(res.History)-1]
	if !(last.Loss < first.Loss) {
		t.Errorf("loss went from %v to %v", first.Loss, last.Loss)
	}
	if !(res.BestDice > 0.3) {
		t.Errorf("best validation Dice %v after 4 epochs, want > 0.3", res.BestDice)
	}
	for _, p := range []string{res.Paths.Best, res.Paths.Last, res.Paths.State, res.Paths.CSV, res.Paths.Curves} {
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
	csv, _ := os.ReadFile(res.Paths.CSV)
	if lines := strings.Count(string(csv), "\n"); lines != 5 {
		t.Errorf("CSV log has %d lines, want a header and 4 epochs:\n%s", lines, csv)
	}
	m, meta, err := weights.Load(res.Paths.Best)
	if err != nil {
		t.Fatal(err)
	}
	if v := meta.ClassesFor(m.Config).Values; len(v) != 2 || v[0] != 0 || v[1] != 255 {
		t.Errorf("model file records mask values %v, want [0 255]", v)
	}
}

// TestNaNStops requires an exploding run to stop with a message naming the last good model,
// to write no model, and to keep its gradient log.
func TestNaNStops(t *testing.T) {
	dir := t.TempDir()
	o := tiny(t, filepath.Join(dir, "m.safetensors"))
	o.Optimizer, o.LR, o.Schedule = SGD, 1e30, Fixed
	o.GradLog = 1
	_, err := Run(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "loss became") || !strings.HasSuffix(err.Error(), "the last good model is none (no epoch finished)") {
		t.Fatalf("exploding run: %v, want a loss-became-NaN error", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "m.safetensors")); !os.IsNotExist(err) {
		t.Errorf("an exploding run wrote a model: %v", err)
	}
	// The gradients that led there are worth seeing: the log keeps them.
	if rows, err := ReadGradLog(filepath.Join(dir, "m.grads.csv")); err != nil || len(rows) == 0 {
		t.Errorf("an exploding run's gradient log: %d rows, %v", len(rows), err)
	}
}

func TestBadOptions(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"no data", func(o *Options) { o.Data = filepath.Join(dir, "nothing") }, "nothing"},
		{"crop", func(o *Options) { o.Crop = 30 }, "multiple of 4"},
		{"loss", func(o *Options) { o.Loss = "ce" }, "does not fit"},
		{"loss name", func(o *Options) { o.Loss = "hinge" }, "unknown loss"},
		{"optimizer", func(o *Options) { o.Optimizer = "lion" }, "unknown optimizer"},
		{"resume without checkpoint", func(o *Options) { o.Resume = true }, "resume"},
	} {
		o := tiny(t, filepath.Join(dir, c.name, "m.safetensors"))
		c.edit(&o)
		if _, err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error mentioning %q", c.name, err, c.want)
		}
	}
}

// TestRunSeedFolds: a plain run trains from --seed itself (old models stay reproducible);
// each fold of a split gets a seed of its own, the same every time.
func TestRunSeedFolds(t *testing.T) {
	if got := runSeed(7, dataset.Fold{}); got != 7 {
		t.Errorf("no fold: seed %d, want 7", got)
	}
	seen := map[uint64]int{7: -1}
	for k := range 5 {
		s := runSeed(7, dataset.Fold{Index: k, Count: 5})
		if j, ok := seen[s]; ok {
			t.Errorf("fold %d: seed %d, the same as fold %d's", k, s, j)
		}
		seen[s] = k
		if runSeed(7, dataset.Fold{Index: k, Count: 5}) != s || runSeed(8, dataset.Fold{Index: k, Count: 5}) == s {
			t.Errorf("fold %d: its seed must follow --seed and nothing else", k)
		}
	}
}

// TestDownsample trains on the sample data shrunk twice and checks what the model file and
// the run's key record, and that validation scored the full-size masks through a
// Predictor that shrinks alike: the last epoch's validation Dice is what such a Predictor
// gives the last model over the validation images, and not what one at full size gives.
func TestDownsample(t *testing.T) {
	dir := t.TempDir()
	o := tiny(t, filepath.Join(dir, "m.safetensors"))
	o.Downsample = 2
	o.Epochs = 1
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	m, meta, err := weights.Load(res.Paths.Last)
	if err != nil {
		t.Fatal(err)
	}
	if f, err := meta.Downsample(); f != 2 || err != nil {
		t.Fatalf("the model file's downsample: %d, %v; want 2", f, err)
	}
	if !strings.Contains(string(meta.Train), `"downsample":2`) {
		t.Errorf("the train record %s has no downsample", meta.Train)
	}
	ds, err := dataset.Open(o.Data, dataset.Options{Seed: o.Seed})
	if err != nil {
		t.Fatal(err)
	}
	score := func(f int) float64 {
		p, err := predict.New(m, predict.Options{Downsample: f})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		acc, err := predict.NewAccumulator(ds.Classes, metrics.EmptyNaN)
		if err != nil {
			t.Fatal(err)
		}
		var first error
		err = p.Evaluate(context.Background(), ds, ds.Val, acc, func(_ int, err error) { first = cmp.Or(first, err) })
		if err = cmp.Or(err, first); err != nil {
			t.Fatal(err)
		}
		return float64(acc.Summary().ForegroundMean[metrics.Dice])
	}
	last := float64(res.History[len(res.History)-1].ValDice)
	if shrunk, full := score(2), score(1); last != shrunk || shrunk == full {
		t.Errorf("validation Dice %v; the model scores %v shrunk as trained, %v at full size", last, shrunk, full)
	}
	// Another factor is another run.
	o.Resume, o.Downsample = true, 1
	if _, err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "another run") {
		t.Errorf("resuming at another factor: %v", err)
	}
	o.Resume, o.Downsample = false, augment.MaxShrink+1
	if _, err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "downsample 9") {
		t.Errorf("a factor of 9: %v", err)
	}
}
