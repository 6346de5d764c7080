package main

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/predict"
	"github.com/segment-dev/segment/weights"
)

// TestTrainDownsample trains briefly on the sample data shrunk twice, then predicts and
// evaluates with the model: predict writes a mask of the image's own size, and its
// probabilities are those of a Predictor that shrinks the image as training did (to the
// 16-bit file's rounding), not those of one that does not; eval scores it.
func TestTrainDownsample(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.safetensors")
	args := []string{"train", "--data", "../../sample_data", "--downsample", "2", "--epochs", "1", "--depth", "2", "--base", "4",
		"--batch", "4", "--crop", "32", "--augment", "none", "--loss", "bce+dice", "--out", model, "-q"}
	code, stdout, errOut := runCmd(args...)
	if code != 0 {
		t.Fatalf("segment %v: exit %d: %s", args, code, errOut)
	}
	if !strings.Contains(stdout, "crops 32x32 of the images shrunk 2 times") {
		t.Errorf("train does not say it shrinks the images: %s", stdout)
	}
	img := "../../sample_data/val/images/0000.png"
	out := filepath.Join(dir, "pred")
	if code, _, errOut := runCmd("predict", img, "--model", model, "--out", out, "--probs", "-q"); code != 0 {
		t.Fatalf("predict: exit %d: %s", code, errOut)
	}
	mask, err := dataset.ReadImage(filepath.Join(out, "0000_mask.png"), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if mask.Width != 128 || mask.Height != 128 {
		t.Fatalf("the mask is %dx%d, want the image's 128x128", mask.Width, mask.Height)
	}
	got := gray16(t, filepath.Join(out, "0000_probs.png"))
	m, _, err := weights.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	im, err := dataset.ReadImage(img, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	probs := func(f int) []float32 {
		p, err := predict.New(m, predict.Options{Downsample: f})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		all := make([]float32, 0, 128*128)
		err = p.Predict(context.Background(), predict.FromImage(im), func(b predict.Band) error {
			all = append(all, b.Probs[:b.Rows*b.Width]...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return all
	}
	off := func(want []float32) float64 {
		d := 0.0
		for i, v := range want {
			d = max(d, math.Abs(float64(got[i])/65535-float64(v)))
		}
		return d
	}
	if shrunk, full := off(probs(2)), off(probs(1)); shrunk > 1.0/65535 || full < 1e-3 {
		t.Errorf("predict's probabilities are %g from the shrinking Predictor's, %g from the full-size one's", shrunk, full)
	}
	code, stdout, errOut = runCmd("eval", "--model", model, "--data", "../../sample_data/val", "--out", filepath.Join(dir, "eval"), "-q")
	if code != 0 || !strings.Contains(stdout, "Dice") {
		t.Fatalf("eval: exit %d: %s %s", code, stdout, errOut)
	}
}
