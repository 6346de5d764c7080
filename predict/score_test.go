package predict

import (
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
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
// images. The foreground Dice must be the one computed the plain way (each mask decoded
// with image/png, each prediction thresholded at 0.5, TP, FP and FN counted, 2TP/(2TP+FP+FN)
// averaged over the images), and the validation Dice training recorded in the model.
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
	// The same counts give the same ratios; only the order of the mean's sum may differ,
	// a few ulps of a float64.
	if got, want := float64(s.ForegroundMean[metrics.Dice]), plainDice(t, p, val); math.Abs(got-want) > 1e-12 {
		t.Errorf("foreground Dice %.9f, computed the plain way %.9f", got, want)
	}
	// Training rounds what it records to 4 decimals.
	if got := float64(s.ForegroundMean[metrics.Dice]); math.Abs(got-rec.BestValDice) > 1e-4 {
		t.Errorf("foreground Dice %.6f, training recorded %.6f", got, rec.BestValDice)
	}
}

// plainDice predicts each image of dir/images with p and gives the mean over the images of
// the foreground Dice against dir/masks (0 background, 255 foreground), counted directly.
func plainDice(t *testing.T, p *Predictor, dir string) float64 {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "images", "*.png"))
	if err != nil || len(names) == 0 {
		t.Fatalf("committed sample data: no images in %s (%v)", dir, err)
	}
	var sum float64
	for _, name := range names {
		im, err := dataset.ReadImage(name, 1, 0)
		if err != nil {
			t.Fatalf("committed sample data: %v", err)
		}
		f, err := os.Open(filepath.Join(dir, "masks", filepath.Base(name)))
		if err != nil {
			t.Fatalf("committed sample data: %v", err)
		}
		mask, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("committed sample data: %s: %v", name, err)
		}
		b := mask.Bounds()
		h, w := b.Dy(), b.Dx()
		var probs []float32
		err = p.Predict(context.Background(), FromPlanes(im.Planes(), 1, h, w), func(bd Band) error {
			probs = append(probs, bd.Probs...)
			return nil
		})
		if err != nil || len(probs) != h*w {
			t.Fatalf("%s: %d probabilities for %dx%d pixels, %v", name, len(probs), w, h, err)
		}
		var tp, fp, fn int
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				gray := color.GrayModel.Convert(mask.At(b.Min.X+x, b.Min.Y+y)).(color.Gray).Y
				if gray != 0 && gray != 255 {
					t.Fatalf("%s: mask value %d, want 0 or 255", name, gray)
				}
				pred, gt := probs[y*w+x] > 0.5, gray == 255
				switch {
				case pred && gt:
					tp++
				case pred:
					fp++
				case gt:
					fn++
				}
			}
		}
		if tp+fp+fn == 0 {
			t.Fatalf("%s: no foreground in the mask or the prediction: the mean would leave it out", name)
		}
		sum += 2 * float64(tp) / float64(2*tp+fp+fn)
	}
	return sum / float64(len(names))
}
