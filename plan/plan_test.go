package plan

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/internal/sharedtest"
)

func planOf(t *testing.T, dir string, o dataset.Options, b Budget) (*Fingerprint, *Plan, error) {
	t.Helper()
	ds, err := dataset.Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Measure(ds)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Make(f, b)
	return f, p, err
}

// TestPlanShared requires the plans of the shared data sets to be the hand-picked flags
// their published figures were trained with, and the imbalance options and halved images
// on CamVid only (ISBI's membranes are thin; DSB's images are no larger than a crop).
func TestPlanShared(t *testing.T) {
	eleven := 11
	for _, c := range []struct {
		name                     string
		opts                     dataset.Options
		crop, batch, depth, base int
		augment, weights, loss   string
		classCrops               float64
		downsample               int
		lr                       float64
	}{
		{"isbi2012-em-membranes", dataset.Options{}, 256, 2, 4, 16, "default", "none", "bce+dice", 0, 1, 1e-3},
		{"dsb2018-nuclei-256", dataset.Options{}, 256, 2, 4, 16, "default", "none", "bce+dice", 0, 1, 1e-3},
		{"camvid-segnet-subset", dataset.Options{Ignore: &eleven}, 192, 4, 4, 16, "light", "auto", "ce+dice-per-class", 0.33, 2, 3e-3},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, p, err := planOf(t, sharedtest.Path(t, "data/"+c.name), c.opts, Budget{Time: 15 * 60e9})
			if err != nil {
				t.Fatal(err)
			}
			if p.Crop != c.crop || p.Batch != c.batch || p.Depth != c.depth || p.Base != c.base || p.Augment != c.augment ||
				p.ClassWeights != c.weights || p.Loss != c.loss || p.ClassCrops != c.classCrops || p.Downsample != c.downsample {
				t.Errorf("plan %+v, want crop %d batch %d depth %d base %d augment %s weights %s loss %s class crops %g downsample %d",
					*p, c.crop, c.batch, c.depth, c.base, c.augment, c.weights, c.loss, c.classCrops, c.downsample)
			}
			if len(p.Reasons) != 10 {
				t.Errorf("%d reasons, want one for each of the 10 choices", len(p.Reasons))
			}
			if p.LR != c.lr {
				t.Errorf("the 15-minute plan has learning rate %g, want %g", p.LR, c.lr)
			}
			var buf bytes.Buffer
			if err := p.Write(&buf); err != nil {
				t.Fatal(err)
			}
			if err := f.Write(&buf); err != nil {
				t.Fatal(err)
			}
			t.Log("\n" + buf.String())
		})
	}
}

// writeSet writes n pairs of the given sizes (cycled) into dir: images of channels 1
// (8- or 16-bit) or 3, masks with a square of foreground in a corner.
func writeSet(t *testing.T, dir string, n, channels int, deep bool, sizes ...image.Point) {
	t.Helper()
	for _, sub := range []string{"images", "masks"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		s := sizes[i%len(sizes)]
		r := image.Rect(0, 0, s.X, s.Y)
		var img image.Image
		switch {
		case channels == 3:
			m := image.NewRGBA(r)
			for j := range m.Pix {
				m.Pix[j] = uint8(j * 7)
			}
			img = m
		case deep:
			m := image.NewGray16(r)
			for y := range s.Y {
				for x := range s.X {
					m.SetGray16(x, y, color.Gray16{uint16(1000 + 37*x + 11*y)})
				}
			}
			img = m
		default:
			m := image.NewGray(r)
			for j := range m.Pix {
				m.Pix[j] = uint8(j * 3)
			}
			img = m
		}
		mask := image.NewGray(r)
		for y := range s.Y / 3 {
			for x := range s.X / 3 {
				mask.SetGray(x, y, color.Gray{255})
			}
		}
		name := string(rune('a'+i)) + ".png"
		for sub, m := range map[string]image.Image{"images": img, "masks": mask} {
			var buf bytes.Buffer
			if err := png.Encode(&buf, m); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, sub, name), buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestPlanEdgeCases: each odd data set gets a plan that trains (crop a multiple of
// 2^depth, batch within the images), or an error naming the problem.
func TestPlanEdgeCases(t *testing.T) {
	for _, c := range []struct {
		name     string
		n, ch    int
		deep     bool
		sizes    []image.Point
		crop     int
		batch    int
		depth    int
		errAbout string
	}{
		{"one image", 1, 1, false, []image.Point{{100, 80}}, 112, 1, 4, ""},
		{"12x12 images", 6, 1, false, []image.Point{{12, 12}}, 12, 2, 1, ""},
		{"6x6 images", 4, 1, false, []image.Point{{6, 6}}, 0, 0, 0, "a side of 6 pixels"},
		{"very different sizes", 5, 1, false, []image.Point{{40, 30}, {600, 400}, {64, 64}}, 64, 2, 4, ""},
		{"16-bit gray", 4, 1, true, []image.Point{{64, 48}}, 64, 2, 3, ""},
		{"RGB", 4, 3, false, []image.Point{{300, 200}}, 256, 2, 4, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeSet(t, dir, c.n, c.ch, c.deep, c.sizes...)
			f, p, err := planOf(t, dir, dataset.Options{ValFraction: -1}, Budget{})
			if c.errAbout != "" {
				if err == nil || !strings.Contains(err.Error(), c.errAbout) || !strings.Contains(err.Error(), dir) {
					t.Fatalf("error %v, want one naming %s and %q", err, dir, c.errAbout)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Crop != c.crop || p.Batch != c.batch || p.Depth != c.depth || p.Crop%(1<<p.Depth) != 0 || p.Batch > f.Images {
				t.Errorf("crop %d batch %d depth %d, want %d %d %d", p.Crop, p.Batch, p.Depth, c.crop, c.batch, c.depth)
			}
			if f.Channels != c.ch {
				t.Errorf("%d channels, want %d", f.Channels, c.ch)
			}
			if c.deep && (f.IntensityMax > 0.1 || f.IntensityMin < 1000.0/65535-1e-6) {
				t.Errorf("16-bit intensities %g to %g, want them on the 1/65535 scale", f.IntensityMin, f.IntensityMax)
			}
		})
	}
}

// TestFingerprintByHand checks the shares, the images holding each class and the median
// object areas against a set drawn by hand: two 30x30 images, image a with two 3x3
// squares of class 1, image b with one 5x5 square.
func TestFingerprintByHand(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"images", "masks"} {
		os.MkdirAll(filepath.Join(dir, sub), 0o755)
	}
	squares := map[string][][3]int{"a": {{0, 0, 3}, {10, 10, 3}}, "b": {{5, 5, 5}}}
	for name, sq := range squares {
		img, mask := image.NewGray(image.Rect(0, 0, 30, 30)), image.NewGray(image.Rect(0, 0, 30, 30))
		img.Pix[0] = 255
		for _, s := range sq {
			for y := s[1]; y < s[1]+s[2]; y++ {
				for x := s[0]; x < s[0]+s[2]; x++ {
					mask.SetGray(x, y, color.Gray{255})
				}
			}
		}
		for sub, m := range map[string]image.Image{"images": img, "masks": mask} {
			var buf bytes.Buffer
			png.Encode(&buf, m)
			os.WriteFile(filepath.Join(dir, sub, name+".png"), buf.Bytes(), 0o644)
		}
	}
	ds, err := dataset.Open(dir, dataset.Options{ValFraction: -1})
	if err != nil {
		t.Fatal(err)
	}
	f, err := Measure(ds)
	if err != nil {
		t.Fatal(err)
	}
	fg := (9.0 + 9 + 25) / 1800
	// Areas of class 1: 9, 9, 25: the median of its 43 pixels lies in the 25. Class 0: one
	// component per image, 900-18 and 900-25: the median pixel lies in the 882.
	if math.Abs(f.Share[1]-fg) > 1e-12 || f.ImagesWith[0] != 2 || f.ImagesWith[1] != 2 || f.ObjectArea[1] != 25 || f.ObjectArea[0] != 882 {
		t.Errorf("shares %v, images %v, areas %v; want foreground %g, 2 images each, areas 882 and 25", f.Share, f.ImagesWith, f.ObjectArea, fg)
	}
	if f.IntensityMax != 1 || f.IntensityMin != 0 || math.Abs(f.IntensityMean-1.0/900) > 1e-9 {
		t.Errorf("intensity %g to %g, mean %g", f.IntensityMin, f.IntensityMax, f.IntensityMean)
	}
	// Half-widths of class 1: a square of 3 at the corner (the border is no edge) has
	// distances 3, 2 (3 pixels) and 1 (5); the other 3x3 eight 1s and a 2; the 5x5 sixteen
	// 1s, eight 2s and a 3. 29 of the 43 pixels are at 1: the median is 1.
	if f.HalfWidth[1] != 1 {
		t.Errorf("half-width of class 1: %g, want 1", f.HalfWidth[1])
	}
	if c, s := f.Rarest(); c != 1 || s != f.Share[1] {
		t.Errorf("rarest %d at %g", c, s)
	}
	// A tight memory budget cuts the batch, then the crop.
	p, err := Make(f, Budget{Memory: 1})
	if err != nil {
		t.Fatal(err)
	}
	if p.Batch != 1 || p.Crop != 1<<p.Depth {
		t.Errorf("with 1 byte: batch %d crop %d, want 1 and %d", p.Batch, p.Crop, 1<<p.Depth)
	}
}

// TestHalfWidthsBruteForce checks halfWidths on random masks of three classes and an
// ignored value, blocky so that classes have width, against the chessboard distance to the
// nearest pixel of another label found by trying every pixel.
func TestHalfWidthsBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for trial := range 20 {
		w, h := 5+r.IntN(30), 5+r.IntN(30)
		mask := make([]int32, w*h)
		block := 1 + r.IntN(5)
		labels := make([]int32, (w/block+1)*(h/block+1))
		for i := range labels {
			labels[i] = int32(r.IntN(4)) - 1 // -1 is an ignored pixel
		}
		for y := range h {
			for x := range w {
				mask[y*w+x] = labels[(y/block)*(w/block+1)+x/block]
			}
		}
		got := make([][]int64, 3)
		want := make([][]int64, 3)
		for c := range got {
			got[c], want[c] = make([]int64, maxHalfWidth+1), make([]int64, maxHalfWidth+1)
		}
		halfWidths(mask, w, h, got)
		for i, c := range mask {
			if c < 0 {
				continue
			}
			d := maxHalfWidth
			for j, o := range mask {
				if o != c {
					d = min(d, max(abs(i%w-j%w), abs(i/w-j/w)))
				}
			}
			want[c][d]++
		}
		for c := range got {
			if !slices.Equal(got[c], want[c]) {
				t.Fatalf("trial %d (%dx%d, blocks of %d), class %d: counts by half-width differ from brute force", trial, w, h, block, c)
			}
		}
	}
}

func abs(x int) int { return max(x, -x) }

// TestPlanDownsample checks the resolution rule on fingerprints made up to sit on each
// side of its thresholds: images at least four crops in area with wide classes are
// halved (and the crop and depth are planned on the halved size); a crop's worth of
// image, thin classes at 5% of the pixels, or images too small to halve are not.
func TestPlanDownsample(t *testing.T) {
	classes := dataset.Classes{Values: []int{0, 1, 2}}
	fp := func(w, h int, thinShare float64) *Fingerprint {
		return &Fingerprint{Dir: "set", Images: 10, MinSide: min(w, h), MedianW: w, MedianH: h, MaxSide: max(w, h), Channels: 3,
			Classes: classes, Share: []float64{0.5 - thinShare, 0.5, thinShare}, ImagesWith: []int{10, 10, 10},
			ObjectArea: []float64{1000, 1000, 50}, HalfWidth: []float64{20, 10, 3}}
	}
	// Several classes plan batch 4 and a crop of 192 at full size: four crops are 147,456
	// pixels.
	for _, c := range []struct {
		name      string
		f         *Fingerprint
		want      int
		crop, dep int
		why       string
	}{
		{"halved", fp(384, 384, 0.049), 2, 192, 4, "halved"},
		{"one pixel short of four crops", fp(384, 383, 0.01), 1, 192, 4, "full resolution"},
		{"thin classes at 5%", fp(480, 360, 0.05), 1, 192, 4, "thin classes (class 2: half-width under 4 pixels) hold 5.0%"},
		{"wide, large", fp(1000, 1000, 0), 2, 192, 4, "no class is thin"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := Make(c.f, Budget{})
			if err != nil {
				t.Fatal(err)
			}
			if p.Downsample != c.want || p.Crop != c.crop || p.Depth != c.dep {
				t.Errorf("downsample %d crop %d depth %d, want %d %d %d", p.Downsample, p.Crop, p.Depth, c.want, c.crop, c.dep)
			}
			if r := p.Reasons[0]; r.Flag != "downsample" || !strings.Contains(r.Why, c.why) {
				t.Errorf("first reason %+v, want downsample saying %q", r, c.why)
			}
		})
	}
	// Halved, the crop and depth follow the halved image: 4000x60 becomes 2000x30, whose
	// short side keeps depth 2 (a bottleneck of 7), so the crop rounds to a multiple of 4.
	// 20000x14 would halve to a 7-pixel side, too small for any U-Net.
	p, err := Make(fp(4000, 60, 0), Budget{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Downsample != 2 || p.Depth != 2 || p.Crop != 184 {
		t.Errorf("4000x60: downsample %d depth %d crop %d, want 2, 2 and 184", p.Downsample, p.Depth, p.Crop)
	}
	if p, err = Make(fp(20000, 14, 0), Budget{}); err != nil {
		t.Fatal(err)
	}
	if p.Downsample != 1 || !strings.Contains(p.Reasons[0].Why, "too small") {
		t.Errorf("20000x14: downsample %d (%s), want 1 as too small to halve", p.Downsample, p.Reasons[0].Why)
	}
}

// TestPlanLR: several classes in a run of minutes train at three times Adam's usual rate;
// a binary task, or a run of an hour or more, at the usual 1e-3.
func TestPlanLR(t *testing.T) {
	several := func() *Fingerprint {
		return &Fingerprint{Dir: "d", Images: 20, Channels: 3, MinSide: 300, MedianW: 400, MedianH: 300, MaxSide: 400,
			Classes: dataset.Classes{Values: []int{0, 1, 2}}, Share: []float64{0.5, 0.3, 0.2}, ImagesWith: []int{20, 20, 20},
			ObjectArea: []float64{1000, 1000, 1000}, HalfWidth: []float64{20, 20, 20}}
	}
	binary := several()
	binary.Classes.Values, binary.Share, binary.ImagesWith = []int{0, 255}, []float64{0.7, 0.3}, []int{20, 20}
	binary.ObjectArea, binary.HalfWidth = []float64{1000, 1000}, []float64{20, 20}
	for _, c := range []struct {
		name string
		f    *Fingerprint
		time time.Duration
		want float64
	}{
		{"several classes, 15 minutes", several(), 15 * time.Minute, 3e-3},
		{"several classes, no bound", several(), 0, 3e-3},
		{"several classes, an hour", several(), time.Hour, 1e-3},
		{"binary, 15 minutes", binary, 15 * time.Minute, 1e-3},
	} {
		p, err := Make(c.f, Budget{Time: c.time})
		if err != nil {
			t.Fatal(err)
		}
		last := p.Reasons[len(p.Reasons)-1]
		if p.LR != c.want || last.Flag != "lr" || last.Value != fmt.Sprint(c.want) {
			t.Errorf("%s: learning rate %g (reason %+v), want %g", c.name, p.LR, last, c.want)
		}
	}
}
