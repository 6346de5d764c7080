package main

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
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

// TestTrainPlansDownsample trains without a --downsample flag on a set the plan halves
// (400x400 colour images of three wide classes) and on one it does not (the same with a
// thin class over 5% of the pixels): the model file records the plan's factor, and a
// --downsample flag overrides it.
func TestTrainPlansDownsample(t *testing.T) {
	dir := t.TempDir()
	for _, set := range []string{"wide", "thin"} {
		for _, sub := range []string{"images", "masks"} {
			if err := os.MkdirAll(filepath.Join(dir, set, sub), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 3 {
			img, mask := image.NewRGBA(image.Rect(0, 0, 400, 400)), image.NewGray(image.Rect(0, 0, 400, 400))
			for y := range 400 {
				for x := range 400 {
					c := uint8(0) // three bands of 133 pixels
					switch {
					case set == "thin" && x%10 < 2:
						c = 3 // lines 2 pixels wide: 20% of the pixels
					case y >= 266:
						c = 2
					case y >= 133:
						c = 1
					}
					mask.SetGray(x, y, color.Gray{c})
					img.Set(x, y, color.RGBA{80 * c, uint8(x + i), uint8(y), 255})
				}
			}
			name := fmt.Sprintf("%d.png", i)
			for sub, m := range map[string]image.Image{"images": img, "masks": mask} {
				if err := os.WriteFile(filepath.Join(dir, set, sub, name), pngBytes(t, m), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for _, c := range []struct {
		set   string
		flags []string
		want  int
	}{{"wide", nil, 2}, {"thin", nil, 1}, {"wide", []string{"--downsample", "1"}, 1}, {"thin", []string{"--downsample", "3"}, 3}} {
		out := filepath.Join(dir, "models", fmt.Sprintf("%s%v.safetensors", c.set, c.flags))
		args := append([]string{"train", "--data", filepath.Join(dir, c.set), "--epochs", "1", "--depth", "2", "--base", "4",
			"--batch", "2", "--crop", "32", "--out", out, "-q"}, c.flags...)
		code, stdout, errOut := runCmd(args...)
		if code != 0 {
			t.Fatalf("segment %v: exit %d: %s", args, code, errOut)
		}
		_, meta, err := weights.Load(out)
		if err != nil {
			t.Fatal(err)
		}
		if f, _ := meta.Downsample(); f != c.want {
			t.Errorf("%s %v: the model's downsample is %d, want %d\n%s", c.set, c.flags, f, c.want, stdout)
		}
	}
}
