package train

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/metrics"
	"github.com/segment-dev/segment/predict"
	"github.com/segment-dev/segment/unet"
	"github.com/segment-dev/segment/weights"
)

// threeClassSet writes n 32x32 pairs with three classes: 0 around, 1 a band, 2 a small
// square (about 1.5% of the pixels) at a place that moves with the image.
func threeClassSet(t *testing.T, dir string, n int) {
	t.Helper()
	for _, split := range []string{"train", "val"} {
		for _, sub := range []string{"images", "masks"} {
			if err := os.MkdirAll(filepath.Join(dir, split, sub), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for i := range n {
			img, mask := image.NewGray(image.Rect(0, 0, 32, 32)), image.NewGray(image.Rect(0, 0, 32, 32))
			sx, sy := 3+5*i%24, 20-3*i%16
			for y := range 32 {
				for x := range 32 {
					c := uint8(0)
					switch {
					case x >= sx && x < sx+4 && y >= sy && y < sy+4:
						c = 2
					case y >= 8 && y < 14:
						c = 1
					}
					mask.SetGray(x, y, color.Gray{c})
					img.SetGray(x, y, color.Gray{uint8(40 + 90*int(c) + (x*7+y*3+i)%20)})
				}
			}
			name := string(rune('a'+i)) + ".png"
			for sub, m := range map[string]image.Image{"images": img, "masks": mask} {
				var buf bytes.Buffer
				if err := png.Encode(&buf, m); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, split, sub, name), buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		n = 3
	}
}

// TestClassesRun trains a three-class model with class crops, auto class weights and the
// per-class Dice, and checks what the run shows and records of them: the crop coverage
// at the start, each class's Dice in the epoch lines and the CSV log, the options in the
// model file; and that stopping and resuming gives the uninterrupted run's weights.
func TestClassesRun(t *testing.T) {
	data := t.TempDir()
	threeClassSet(t, data, 8)
	dir := t.TempDir()
	opts := func(out string) Options {
		return Options{Data: data, Out: filepath.Join(dir, out), Epochs: 2, Batch: 2, Crop: 16, LR: 3e-3, Seed: 5, Threads: 2,
			Model:      unet.Config{Depth: 2, BaseChannels: 4, Skip: unet.SkipConcat, Norm: unet.NormBatch, Up: unet.UpTranspose},
			ClassCrops: 0.5, ClassWeights: "auto", Loss: "ce+dice-per-class", Plan: json.RawMessage(`{"crop":16}`)}
	}
	var log bytes.Buffer
	o := opts("whole/m.safetensors")
	o.Log = &log
	whole, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	text := log.String()
	t.Log("\n" + text)
	for _, want := range []string{"class  pixels  weight  in crops (anywhere -> 0.5 class crops)", "Dice per class: 0:", " 2:"} {
		if !strings.Contains(text, want) {
			t.Errorf("the log has no %q:\n%s", want, text)
		}
	}
	for _, e := range whole.History {
		if len(e.ClassDice) != 3 {
			t.Fatalf("epoch %d: %d class Dice scores, want 3", e.Epoch, len(e.ClassDice))
		}
		// The mean validation Dice is the mean of the foreground classes' (1 and 2),
		// those defined.
		var sum, n float64
		for _, d := range e.ClassDice[1:] {
			if !math.IsNaN(float64(d)) {
				sum += float64(d)
				n++
			}
		}
		if mean := sum / n; math.Abs(mean-float64(e.ValDice)) > 1e-12 {
			t.Errorf("epoch %d: classes 1 and 2 %v average %v, the mean validation Dice is %v", e.Epoch, e.ClassDice[1:], mean, e.ValDice)
		}
	}
	// The last epoch's scores are each class's Dice of the last model on the validation
	// images, as segment eval gives them.
	ds, err := dataset.Open(data, dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pred, err := predict.New(whole.Model, predict.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pred.Close()
	acc, err := predict.NewAccumulator(ds.Classes, metrics.EmptyNaN)
	if err != nil {
		t.Fatal(err)
	}
	if err := pred.Evaluate(context.Background(), ds, ds.Val, acc, func(_ int, err error) {
		if err != nil {
			t.Error(err)
		}
	}); err != nil {
		t.Fatal(err)
	}
	last := whole.History[len(whole.History)-1].ClassDice
	for c, cs := range acc.Summary().Classes {
		if got, want := float64(last[c]), float64(cs.Stats[metrics.Dice].Mean); got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("class %d: Dice %v in the log, %v by segment eval's reckoning", c, got, want)
		}
	}
	csv, err := os.ReadFile(whole.Paths.CSV)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(csv), "epoch,steps,time_s,loss,val_dice,val_iou,lr,images_per_s,val_dice_0,val_dice_1,val_dice_2\n") {
		t.Errorf("CSV log:\n%s", csv)
	}
	_, meta, err := weights.Load(whole.Paths.Best)
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		ClassCrops   float64         `json:"class_crops"`
		ClassWeights []float64       `json:"class_weights"`
		Plan         json.RawMessage `json:"plan"`
		Loss         string          `json:"loss"`
	}
	if err := json.Unmarshal(meta.Train, &rec); err != nil || rec.ClassCrops != 0.5 || len(rec.ClassWeights) != 3 || string(rec.Plan) != `{"crop":16}` || rec.Loss != "ce+dice-per-class" {
		t.Errorf("train record %s (%v)", meta.Train, err)
	}
	// The rare class weighs most, the common one least.
	if w := rec.ClassWeights; !(w[2] > w[1] && w[1] > w[0]) {
		t.Errorf("auto class weights %v, want class 2 > class 1 > class 0", w)
	}

	p := opts("parts/m.safetensors")
	p.StopAfter = 5
	if _, err := Run(context.Background(), p); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("stopped run: %v", err)
	}
	p.StopAfter, p.Resume = 0, true
	parts, err := Run(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	for _, prm := range whole.Model.Config.Params() {
		x, y := whole.Model.Data(prm.Name), parts.Model.Data(prm.Name)
		for i := range x {
			if x[i] != y[i] {
				t.Fatalf("%s[%d]: %v uninterrupted, %v resumed", prm.Name, i, x[i], y[i])
			}
		}
	}
}
