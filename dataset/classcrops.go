package dataset

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/segment-dev/segment/augment"
	"github.com/segment-dev/segment/internal/parallel"
)

// DefaultClassCrops is the share of training crops centred on a pixel of a chosen class,
// as nnU-Net's foreground oversampling (a third): enough that a rare class is seen in
// most epochs, few enough that the crops still show the images as they are.
const DefaultClassCrops = 0.33

// maxClassPositions bounds the pixel positions kept per image and class: 1024 int32s,
// 4 KiB, so that CamVid's 367 images of 11 classes keep at most 16 MiB. Beyond it the
// positions are an evenly spaced subset in raster order, which spreads over the class's
// whole extent as a random pick would, without a random generator.
const maxClassPositions = 1024

// classIndex says, per image, where each of its classes is: positions[c] holds up to
// maxClassPositions pixel offsets y*W+x of class c, nil when the image has none or c is
// no centre (a binary task's background).
type classIndex struct {
	positions [][]int32
	present   []int32   // the classes a class crop may be centred on, in class order
	cumWeight []float64 // running sums of present's draw weights (see classDrawWeights)
}

// classDrawWeights gives each class its weight in the draw of a class crop's class: the
// inverse square root of its share of the pixels, the rule --class-weights auto uses.
// A uniform draw over the classes present barely helps a rare class where most images hold
// most classes (CamVid: a sixth of the crops still miss the bicyclist), because it centres
// as many crops on the road as on a pole. Weighting by rarity spends them where they are
// needed; the square root keeps the commonest classes from vanishing from class crops.
func classDrawWeights(pixels []int64) []float64 {
	var total int64
	for _, n := range pixels {
		total += n
	}
	w := make([]float64, len(pixels))
	for c, n := range pixels {
		if n > 0 {
			w[c] = math.Sqrt(float64(total) / float64(n))
		}
	}
	return w
}

// indexClasses finds, for every pair, the pixels of each class (see classIndex). For a
// binary task only the foreground is a centre, as nnU-Net centres on foreground classes:
// centring on the background would be a uniform crop spent. Every class of a multi-class
// task is a class of interest (CamVid's first class, sky, is one of them).
func (d *Dataset) indexClasses(pairs []Pair, workers, downsample int) ([]classIndex, error) {
	out := make([]classIndex, len(pairs))
	nc := len(d.Classes.Values)
	first := int32(0)
	if d.Classes.Binary() {
		first = 1
	}
	errs := make([]error, len(pairs))
	perImage := make([][]int, len(pairs))
	parallel.For(len(pairs), workers, func(i int) {
		s, err := d.loadShrunk(pairs[i], downsample)
		if err != nil {
			errs[i] = err
			return
		}
		counts := make([]int, nc)
		for _, c := range s.Mask {
			if c >= 0 && int(c) < nc {
				counts[c]++
			}
		}
		ci := classIndex{positions: make([][]int32, nc)}
		seen := make([]int, nc)
		for c := int(first); c < nc; c++ {
			if counts[c] > 0 {
				ci.positions[c] = make([]int32, 0, min(counts[c], maxClassPositions))
				ci.present = append(ci.present, int32(c))
			}
		}
		for off, c := range s.Mask {
			if c < first || int(c) >= nc {
				continue
			}
			// Keep the j-th pixel of the class when it is the first at or past an even
			// step of counts/maxClassPositions: all of them when they fit.
			j, n := seen[c], counts[c]
			seen[c]++
			if n <= maxClassPositions || len(ci.positions[c]) < maxClassPositions && j*maxClassPositions >= len(ci.positions[c])*n {
				ci.positions[c] = append(ci.positions[c], int32(off))
			}
		}
		out[i] = ci
		perImage[i] = counts
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	// Summed in pair order after the workers are done, so the weights do not depend on
	// which worker finished first.
	pixels := make([]int64, nc)
	for _, counts := range perImage {
		for c, n := range counts {
			pixels[c] += int64(n)
		}
	}
	weights := classDrawWeights(pixels)
	for i := range out {
		sum := 0.0
		out[i].cumWeight = make([]float64, len(out[i].present))
		for k, c := range out[i].present {
			sum += weights[c]
			out[i].cumWeight[k] = sum
		}
	}
	return out, nil
}

// cropAt draws where the crop of dst's size from src starts: centred on a pixel of a
// class drawn from those present in the image, weighted by rarity (classDrawWeights), with probability share, else
// anywhere (as augment.Pipeline.Apply draws it). A centred crop is moved to stay inside
// the image (or to hold all of it, when the image is smaller), so its pixel stays inside.
// With share 0 it draws exactly what Apply draws.
func cropAt(r *rand.Rand, ci *classIndex, share float64, srcW, srcH, w, h int) (x0, y0 int) {
	if share > 0 && ci != nil && len(ci.present) > 0 && r.Float64() < share {
		c := ci.present[ci.drawClass(r.Float64())]
		pos := ci.positions[c]
		off := int(pos[r.IntN(len(pos))])
		return clampOffset(off%srcW-w/2, srcW, w), clampOffset(off/srcW-h/2, srcH, h)
	}
	return augment.RandomOffset(r, srcW, w), augment.RandomOffset(r, srcH, h)
}

// drawClass maps u, uniform in [0, 1), to an index into present with probability in
// proportion to its class's weight.
func (ci *classIndex) drawClass(u float64) int {
	total := ci.cumWeight[len(ci.cumWeight)-1]
	k, _ := slices.BinarySearchFunc(ci.cumWeight, u*total, func(cum, x float64) int {
		if cum <= x {
			return -1
		}
		return 1
	})
	return min(k, len(ci.cumWeight)-1)
}

// clampOffset moves an out-long window starting at x0 to lie within an n-long source, or
// to hold all of it when it is longer.
func clampOffset(x0, n, out int) int {
	if n >= out {
		return min(max(x0, 0), n-out)
	}
	return min(max(x0, n-out), 0)
}

// CropCoverage estimates, per class, the share of training crops that hold at least one
// of its pixels, when crops of side crop are cut from pairs with that share of class
// crops (LoaderOptions.ClassCrops): what tells whether a rare class is seen. It draws n
// crops as a Loader does, from the same seed, cycling over the pairs in order, and reads
// the crop's window in the mask (before augmentation, which moves it little).
func (d *Dataset) CropCoverage(pairs []Pair, crop int, share float64, downsample, n int, seed uint64) ([]float64, error) {
	nc := len(d.Classes.Values)
	cover := make([]float64, nc)
	if len(pairs) == 0 || n <= 0 || crop <= 0 {
		return cover, nil
	}
	index, err := d.indexClasses(pairs, 0, downsample)
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(seed, 0x636f766572)) // "cover"
	hits := make([]int, nc)
	in := make([]bool, nc)
	for k := range n {
		i := k % len(pairs)
		s, err := d.loadShrunk(pairs[i], downsample)
		if err != nil {
			return nil, err
		}
		x0, y0 := cropAt(r, &index[i], share, s.W, s.H, crop, crop)
		clear(in)
		for y := max(y0, 0); y < min(y0+crop, s.H); y++ {
			for _, c := range s.Mask[y*s.W+max(x0, 0) : y*s.W+min(x0+crop, s.W)] {
				if c >= 0 && int(c) < nc {
					in[c] = true
				}
			}
		}
		for c, ok := range in {
			if ok {
				hits[c]++
			}
		}
	}
	for c := range cover {
		cover[c] = float64(hits[c]) / float64(n)
	}
	return cover, nil
}
