package predict

import (
	"context"
	"encoding/json"
	"image"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/internal/samplemodel"
	"github.com/segment-dev/segment/metrics"
)

func grayMask(w, h int, pix ...uint8) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	copy(g.Pix, pix)
	return g
}

// TestScoreMasksByHand scores hand-made 4x4 masks whose Dice is worked out by hand, paired
// by name across the suffixes tools use.
func TestScoreMasksByHand(t *testing.T) {
	dir := t.TempDir()
	gt, pred := filepath.Join(dir, "gt"), filepath.Join(dir, "pred")
	// Image a: 4 foreground pixels in the truth; the prediction finds 2 of them and adds 2
	// wrong ones. Foreground: TP 2, FP 2, FN 2: Dice 4/8 = 0.5, IoU 2/6. Background (12
	// pixels each side, 10 shared): Dice 20/24.
	writePNG(t, filepath.Join(gt, "a.png"), grayMask(4, 4,
		255, 255, 0, 0,
		255, 255, 0, 0,
		0, 0, 0, 0,
		0, 0, 0, 0))
	writePNG(t, filepath.Join(pred, "a_mask.png"), grayMask(4, 4,
		255, 255, 255, 255,
		0, 0, 0, 0,
		0, 0, 0, 0,
		0, 0, 0, 0))
	// Image b: exact.
	writePNG(t, filepath.Join(gt, "b_mask.png"), grayMask(2, 1, 0, 255))
	writePNG(t, filepath.Join(pred, "b_pred.png"), grayMask(2, 1, 0, 255))
	// An overlay beside the predictions is not a prediction; c has no truth.
	writePNG(t, filepath.Join(pred, "a_overlay.png"), grayMask(4, 4))
	writePNG(t, filepath.Join(pred, "c_mask.png"), grayMask(4, 4))

	pairs, problems := PairMasks(pred, gt)
	if len(pairs) != 2 || pairs[0].Name != "a" || pairs[1].Name != "b" {
		t.Fatalf("pairs %+v", pairs)
	}
	if len(problems) != 1 || !strings.Contains(problems[0].Error(), "c_mask.png: no ground-truth mask") {
		t.Errorf("problems %v, want c_mask.png without truth", problems)
	}
	c, err := dataset.MaskClasses([]string{pairs[0].GT, pairs[0].Pred, pairs[1].GT, pairs[1].Pred}, dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := NewAccumulator(c, metrics.EmptyNaN)
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	if err := ScoreMasks(context.Background(), pairs, c, metrics.EmptyNaN, acc, 0, func(i int, err error) { errs = append(errs, err) }); err != nil {
		t.Fatal(err)
	}
	if len(errs) != 2 || errs[0] != nil || errs[1] != nil {
		t.Fatalf("errors %v", errs)
	}
	im := acc.Images()
	if len(im) != 2 || im[0].Name != "a" {
		t.Fatalf("images %+v", im)
	}
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("%s: %g, want %g", what, got, want)
		}
	}
	near("image a foreground Dice", im[0].Scores[1][metrics.Dice], 0.5)
	near("image a foreground IoU", im[0].Scores[1][metrics.IoU], 1.0/3)
	near("image a background Dice", im[0].Scores[0][metrics.Dice], 20.0/24)
	s := acc.Summary()
	near("mean foreground Dice", float64(s.Classes[1].Stats[metrics.Dice].Mean), 0.75)
	// Data set level: TP 3, FP 2, FN 2 over both images: 6/10.
	near("data-set foreground Dice", float64(s.Classes[1].Stats[metrics.Dice].Dataset), 0.6)
	if s.Classes[1].Value != 255 || s.Classes[1].Name != "foreground" || s.Classes[0].Name != "background" {
		t.Errorf("classes %+v", s.Classes)
	}

	// Two files pair whatever their names; a size mismatch names the prediction.
	writePNG(t, filepath.Join(dir, "other.png"), grayMask(3, 1, 0, 255, 0))
	pairs, problems = PairMasks(filepath.Join(dir, "other.png"), filepath.Join(gt, "b_mask.png"))
	if len(pairs) != 1 || len(problems) != 0 {
		t.Fatalf("two files: %+v %v", pairs, problems)
	}
	err = ScoreMasks(context.Background(), pairs, c, metrics.EmptyNaN, acc, 0, func(i int, err error) { errs = append(errs, err) })
	if err != nil || errs[2] == nil || !strings.HasPrefix(errs[2].Error(), filepath.Join(dir, "other.png")+":") {
		t.Errorf("size mismatch: %v", errs[2])
	}
}

// TestEvaluateSampleModel scores the embedded sample model on the sample data's validation
// images: the foreground Dice must be the validation Dice training recorded in the model.
func TestEvaluateSampleModel(t *testing.T) {
	const val = "../sample_data/val"
	if _, err := os.Stat(val); err != nil {
		t.Fatalf("committed sample data: %v", err)
	}
	m, meta, err := samplemodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		BestValDice float64 `json:"best_val_dice"`
	}
	if err := json.Unmarshal(meta.Train, &rec); err != nil || rec.BestValDice == 0 {
		t.Fatalf("the sample model records no validation Dice: %s (%v)", meta.Train, err)
	}
	d, err := dataset.Open(val, dataset.Options{Channels: 1, MaskValues: meta.ClassesFor(m.Config).Values, ValFraction: -1, CacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := NewAccumulator(d.Classes, metrics.EmptyNaN)
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Evaluate(context.Background(), d, d.Train, acc, func(i int, err error) {
		if err != nil {
			t.Error(err)
		}
	}); err != nil {
		t.Fatal(err)
	}
	s := acc.Summary()
	if s.Images != 8 {
		t.Errorf("%d images scored, want 8", s.Images)
	}
	if got := float64(s.ForegroundMean[metrics.Dice]); math.Abs(got-rec.BestValDice) > 1e-4 {
		t.Errorf("foreground Dice %.6f, training recorded %.6f", got, rec.BestValDice)
	}
}
