package dataset

import (
	"image"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"testing"
)

// rareSet writes four 64x64 images whose masks hold three classes: 0 (gray 0) most of the
// image, 1 (gray 100) a 16-pixel strip on the left, and 2 (gray 200) a 2x2 block, 0.1% of
// the pixels, at rare[i] in image i. It returns the masks as class indices.
func rareSet(t *testing.T, dir string, rare []image.Point) [][]int32 {
	t.Helper()
	const side = 64
	var masks [][]int32
	for i, at := range rare {
		img, mask := image.NewGray(image.Rect(0, 0, side, side)), image.NewGray(image.Rect(0, 0, side, side))
		idx := make([]int32, side*side)
		for y := range side {
			for x := range side {
				c := int32(0)
				switch {
				case x >= at.X && x < at.X+2 && y >= at.Y && y < at.Y+2:
					c = 2
				case x < 16:
					c = 1
				}
				idx[y*side+x] = c
				mask.SetGray(x, y, color.Gray{uint8(100 * c)})
				img.SetGray(x, y, color.Gray{uint8(x + y)})
			}
		}
		name := string(rune('a'+i)) + ".png"
		writeFile(t, filepath.Join(dir, "images", name), pngBytes(t, img))
		writeFile(t, filepath.Join(dir, "masks", name), pngBytes(t, mask))
		masks = append(masks, idx)
	}
	return masks
}

// holds reports whether the side x side window at (x0, y0) of a w-wide mask holds class c.
func holds(mask []int32, w, x0, y0, side int, c int32) bool {
	for y := y0; y < y0+side; y++ {
		for x := x0; x < x0+side; x++ {
			if mask[y*w+x] == c {
				return true
			}
		}
	}
	return false
}

// expectedRareShare is the share of crops holding class 2, worked out by enumerating every
// crop the sampler can draw rather than by drawing: a uniform crop takes each offset alike;
// a class crop picks one of the image's three classes in proportion to the inverse square
// root of the class's share of all the masks' pixels, then each of its pixels alike, and
// puts it at the crop's centre, moved inside the image.
func expectedRareShare(masks [][]int32, side, crop int, share float64) float64 {
	var pixels [3]float64
	for _, m := range masks {
		for _, v := range m {
			pixels[v]++
		}
	}
	var weight [3]float64
	for c := range weight {
		weight[c] = 1 / math.Sqrt(pixels[c]/float64(len(masks)*side*side))
	}
	sum := weight[0] + weight[1] + weight[2]
	var total float64
	for _, m := range masks {
		var uniform, n float64
		for y0 := 0; y0 <= side-crop; y0++ {
			for x0 := 0; x0 <= side-crop; x0++ {
				n++
				if holds(m, side, x0, y0, crop, 2) {
					uniform++
				}
			}
		}
		uniform /= n
		var centred float64
		for c := int32(0); c < 3; c++ {
			var hit, px float64
			for off, v := range m {
				if v != c {
					continue
				}
				px++
				x0 := min(max(off%side-crop/2, 0), side-crop)
				y0 := min(max(off/side-crop/2, 0), side-crop)
				if holds(m, side, x0, y0, crop, 2) {
					hit++
				}
			}
			centred += hit / px * weight[c] / sum
		}
		total += (1-share)*uniform + share*centred
	}
	return total / float64(len(masks))
}

func TestClassCropsRareClass(t *testing.T) {
	dir := t.TempDir()
	masks := rareSet(t, dir, []image.Point{{40, 40}, {50, 10}, {30, 55}, {20, 20}})
	d, err := Open(dir, Options{ValFraction: -1})
	if err != nil {
		t.Fatal(err)
	}
	if px, _ := d.ClassPixels(d.Train); float64(px[2])/float64(4*64*64) > 0.001 {
		t.Fatalf("class 2 covers %d of %d pixels, not 0.1%%", px[2], 4*64*64)
	}
	const crop, epochs = 16, 600
	for _, share := range []float64{0, DefaultClassCrops, 1} {
		want := expectedRareShare(masks, 64, crop, share)
		l, err := d.NewLoader(d.Train, LoaderOptions{BatchSize: 4, Crop: crop, Shuffle: true, Epochs: epochs, Seed: 3, ClassCrops: share})
		if err != nil {
			t.Fatal(err)
		}
		var hit, n float64
		for _, b := range collect(t, l) {
			for k := range b.N {
				n++
				if slices.Contains(b.Targets[k*crop*crop:(k+1)*crop*crop], 2) {
					hit++
				}
			}
		}
		// 2400 crops: a standard error of at most 0.0102; allow four.
		if got := hit / n; math.Abs(got-want) > 0.041 {
			t.Errorf("class crops %g: class 2 in %.4f of the crops, want %.4f", share, got, want)
		}
		cover, err := d.CropCoverage(d.Train, crop, share, 1, 2400, 5)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(cover[2]-want) > 0.041 {
			t.Errorf("class crops %g: CropCoverage %v, want class 2 at %.4f", share, cover, want)
		}
		t.Logf("class crops %g: class 2 in %.4f of the crops (expected %.4f)", share, hit/n, want)
	}
}

func TestClassCropsExact(t *testing.T) {
	dir := t.TempDir()
	rareSet(t, dir, []image.Point{{40, 40}, {50, 10}, {30, 55}, {20, 20}, {5, 5}})
	d, err := Open(dir, Options{ValFraction: -1})
	if err != nil {
		t.Fatal(err)
	}
	o := LoaderOptions{BatchSize: 2, Crop: 16, Shuffle: true, Epochs: 3, Seed: 7, ClassCrops: 0.5}
	run := func(workers, epoch, step int) []*Batch {
		o := o
		o.Workers, o.StartEpoch, o.StartStep = workers, epoch, step
		l, err := d.NewLoader(d.Train, o)
		if err != nil {
			t.Fatal(err)
		}
		return collect(t, l)
	}
	a, b, c := run(1, 0, 0), run(3, 0, 0), run(2, 1, 1)
	same := func(x, y *Batch) bool {
		return slices.Equal(x.Inputs, y.Inputs) && slices.Equal(x.Targets, y.Targets) && slices.Equal(x.Names, y.Names)
	}
	for i := range a {
		if !same(a[i], b[i]) {
			t.Fatalf("batch %d differs between 1 and 3 workers", i)
		}
	}
	// Three steps an epoch (five pairs, the last batch of one): starting at epoch 1, step 1
	// gives what the uninterrupted loader gave from there on.
	skip := len(a) - len(c)
	for i := range c {
		if !same(a[skip+i], c[i]) {
			t.Fatalf("resumed batch %d differs from the uninterrupted one", i)
		}
	}
	for _, bad := range []LoaderOptions{{Crop: 16, ClassCrops: 1.5}, {Crop: 16, ClassCrops: math.NaN()}, {ClassCrops: 0.3}} {
		if _, err := d.NewLoader(d.Train, bad); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

// squareSet writes one black 64x64 image per point, whose binary mask is foreground in the
// side x side square with its top left corner at the point.
func squareSet(t *testing.T, dir string, side int, at ...image.Point) {
	t.Helper()
	for i, p := range at {
		img, mask := image.NewGray(image.Rect(0, 0, 64, 64)), image.NewGray(image.Rect(0, 0, 64, 64))
		for y := p.Y; y < p.Y+side; y++ {
			for x := p.X; x < p.X+side; x++ {
				mask.SetGray(x, y, color.Gray{255})
			}
		}
		name := string(rune('a'+i)) + ".png"
		writeFile(t, filepath.Join(dir, "images", name), pngBytes(t, img))
		writeFile(t, filepath.Join(dir, "masks", name), pngBytes(t, mask))
	}
}

// TestClassCropsCentred: with every crop a class crop, a binary set whose foreground is
// one pixel away from the edges gets it at the centre of every crop, (crop/2, crop/2).
func TestClassCropsCentred(t *testing.T) {
	dir := t.TempDir()
	squareSet(t, dir, 1, image.Point{30, 30}, image.Point{20, 41})
	d, err := Open(dir, Options{ValFraction: -1})
	if err != nil {
		t.Fatal(err)
	}
	const crop = 16
	l, err := d.NewLoader(d.Train, LoaderOptions{BatchSize: 2, Crop: crop, Shuffle: true, Epochs: 5, Seed: 1, ClassCrops: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range collect(t, l) {
		for k := range b.N {
			m := b.Targets[k*crop*crop : (k+1)*crop*crop]
			if at := slices.Index(m, 1); at != crop/2*crop+crop/2 {
				t.Fatalf("%s: the foreground pixel at (%d, %d) of the crop, want (%d, %d)", b.Names[k], at%crop, at/crop, crop/2, crop/2)
			}
		}
	}
}

// TestClassCropsShrunk: with the images shrunk twice, class crops are centred on the
// class in the shrunk image. The foreground is a 2x2 block on even coordinates, which
// shrinks to the one pixel (x/2, y/2), and every crop of 16 of the 32x32 shrunk images
// has it at its centre; CropCoverage, which reads the same shrunk masks, finds it in every
// crop.
func TestClassCropsShrunk(t *testing.T) {
	dir := t.TempDir()
	squareSet(t, dir, 2, image.Point{30, 30}, image.Point{20, 42})
	d, err := Open(dir, Options{ValFraction: -1})
	if err != nil {
		t.Fatal(err)
	}
	const crop = 16
	l, err := d.NewLoader(d.Train, LoaderOptions{BatchSize: 2, Crop: crop, Shuffle: true, Epochs: 5, Seed: 1, ClassCrops: 1, Downsample: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range collect(t, l) {
		for k := range b.N {
			m := b.Targets[k*crop*crop : (k+1)*crop*crop]
			if at, n := slices.Index(m, 1), countOf(m, 1); at != crop/2*crop+crop/2 || n != 1 {
				t.Fatalf("%s: %d foreground pixels, the first at (%d, %d) of the crop; want 1 at (%d, %d)", b.Names[k], n, at%crop, at/crop, crop/2, crop/2)
			}
		}
	}
	cover, err := d.CropCoverage(d.Train, crop, 1, 2, 50, 3)
	if err != nil {
		t.Fatal(err)
	}
	if cover[1] != 1 {
		t.Fatalf("the foreground is in %.2f of the shrunk class crops, want all", cover[1])
	}
}

// countOf counts the elements of m equal to v.
func countOf(m []int32, v int32) int {
	n := 0
	for _, u := range m {
		if u == v {
			n++
		}
	}
	return n
}

// TestClassIndexBounded: a class of up to maxClassPositions pixels keeps them all, a larger
// one the pixels at ceil(m n / maxClassPositions), m = 0, 1, ...: evenly spread, bounded.
func TestClassIndexBounded(t *testing.T) {
	dir := t.TempDir()
	masks := rareSet(t, dir, []image.Point{{40, 40}, {50, 10}})
	d, err := Open(dir, Options{ValFraction: -1})
	if err != nil {
		t.Fatal(err)
	}
	index, err := d.indexClasses(d.Train, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range masks {
		for c := range int32(3) {
			var all []int32
			for off, v := range m {
				if v == c {
					all = append(all, int32(off))
				}
			}
			want := all
			if n := len(all); n > maxClassPositions {
				want = nil
				for k := range maxClassPositions {
					want = append(want, all[(k*n+maxClassPositions-1)/maxClassPositions])
				}
			}
			if got := index[i].positions[c]; !slices.Equal(got, want) {
				t.Errorf("image %d, class %d: %d positions, want %d (first %v, want %v)", i, c, len(got), len(want), got[:min(4, len(got))], want[:min(4, len(want))])
			}
		}
		if !slices.Equal(index[i].present, []int32{0, 1, 2}) {
			t.Errorf("image %d: centres %v, want classes 0, 1, 2", i, index[i].present)
		}
	}
}
