// Package plan derives a training setup from the data: it fingerprints a data set (sizes,
// channels, classes and their shares, typical object size, intensities) and, from that,
// the memory and time budgets, chooses crop, batch, network depth and width,
// augmentation, class-aware sampling, class weights and loss, each with a one-line
// reason, as nnU-Net plans its runs. segment train follows the plan for every choice not
// given as a flag; segment plan prints it.
package plan

import (
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/objects"
)

// maxObjectImages bounds the images whose objects are labelled to measure object sizes:
// the median area settles long before, and labelling every class of every image of a
// large set would cost more than the rest of the fingerprint.
const maxObjectImages = 64

// Fingerprint is what a plan is made from: the training images' sizes and channels, the
// classes with their shares, and the intensities.
type Fingerprint struct {
	Dir    string
	Images int // training images (the held-out validation ones not counted)
	// MinSide, MedianW, MedianH and MaxSide describe the images' sizes: the smallest side
	// of any image, the median width and height, the largest side of any.
	MinSide, MedianW, MedianH, MaxSide int
	Channels                           int
	Classes                            dataset.Classes
	// Share is each class's share of the training mask pixels (ignored ones left out);
	// ImagesWith the number of training images holding it.
	Share      []float64
	ImagesWith []int
	// ObjectArea is each class's typical object size: the area, in pixels, of the
	// connected component (8-connected) that the median pixel of the class lies in, over
	// up to maxObjectImages images; NaN for a class never seen. Weighing by pixels keeps
	// the specks of a noisy mask from passing for the objects.
	ObjectArea []float64
	// HalfWidth is each class's typical half-width: the median, over the class's pixels
	// in the same images, of the chessboard distance to the nearest pixel of another
	// class (1 on the class's edge; the image's border is no edge); NaN for a class never
	// seen. It tells thin structures (membranes, poles: 1 or 2) from wide ones: what
	// shrinking the images would cost.
	HalfWidth []float64
	// IntensityMin, IntensityMax and IntensityMean are the training images' pixel values
	// on the 0-1 scale images are read to (1/255, or 1/65535 for 16-bit).
	IntensityMin, IntensityMax, IntensityMean float64
}

// Measure fingerprints the training images of an opened data set.
func Measure(ds *dataset.Dataset) (*Fingerprint, error) {
	pairs := ds.Train
	if len(pairs) == 0 {
		return nil, fmt.Errorf("%s: no training images to plan from", ds.Dir)
	}
	nc := len(ds.Classes.Values)
	f := &Fingerprint{Dir: ds.Dir, Images: len(pairs), Channels: ds.Channels, Classes: ds.Classes,
		Share: make([]float64, nc), ImagesWith: make([]int, nc), ObjectArea: make([]float64, nc), HalfWidth: make([]float64, nc),
		MinSide: math.MaxInt, IntensityMin: math.Inf(1), IntensityMax: math.Inf(-1)}
	ws, hs := make([]int, len(pairs)), make([]int, len(pairs))
	for i, p := range pairs {
		ws[i], hs[i] = p.Width, p.Height
		f.MinSide = min(f.MinSide, p.Width, p.Height)
		f.MaxSide = max(f.MaxSide, p.Width, p.Height)
	}
	f.MedianW, f.MedianH = median(ws), median(hs)
	pixels, _ := ds.ClassPixels(pairs)
	var total int64
	for _, n := range pixels {
		total += n
	}
	for c, n := range pixels {
		f.Share[c] = float64(n) / float64(max(total, 1))
	}
	areas := make([][]float64, nc)
	widths := make([][]int64, nc) // per class, pixels by half-width (capped at maxHalfWidth)
	for c := range widths {
		widths[c] = make([]int64, maxHalfWidth+1)
	}
	step := max(1, (len(pairs)+maxObjectImages-1)/maxObjectImages)
	var sum, count float64
	for i, p := range pairs {
		s, err := ds.Load(p)
		if err != nil {
			return nil, err
		}
		for _, v := range s.Image {
			x := float64(v)
			f.IntensityMin, f.IntensityMax = min(f.IntensityMin, x), max(f.IntensityMax, x)
			sum += x
		}
		count += float64(len(s.Image))
		in := make([]bool, nc)
		for _, c := range s.Mask {
			if c >= 0 && int(c) < nc {
				in[c] = true
			}
		}
		for c, ok := range in {
			if ok {
				f.ImagesWith[c]++
			}
		}
		if i%step == 0 {
			if err := objectAreas(s.Mask, p.Width, p.Height, in, areas); err != nil {
				return nil, fmt.Errorf("%s: %w", p.Mask, err)
			}
			halfWidths(s.Mask, p.Width, p.Height, widths)
		}
	}
	f.IntensityMean = sum / max(count, 1)
	for c := range areas {
		f.ObjectArea[c] = math.NaN()
		f.ObjectArea[c] = pixelMedian(areas[c])
		f.HalfWidth[c] = histMedian(widths[c])
	}
	return f, nil
}

// objectAreas adds the area of every connected component of each class present in mask
// to areas[class].
func objectAreas(mask []int32, w, h int, present []bool, areas [][]float64) error {
	one := make([]uint8, len(mask))
	for c, ok := range present {
		if !ok {
			continue
		}
		for i, v := range mask {
			one[i] = 0
			if v == int32(c) {
				one[i] = 1
			}
		}
		l, err := objects.Label(one, w, h)
		if err != nil {
			return err
		}
		for _, a := range l.Areas()[1:] {
			areas[c] = append(areas[c], float64(a))
		}
	}
	return nil
}

// maxHalfWidth caps the half-widths counted: beyond it a class is wide whatever its
// exact width, and the cap bounds the histograms.
const maxHalfWidth = 255

// halfWidths adds, for every pixel of a class (ignored pixels left out), its chessboard
// distance to the nearest pixel of another label into widths[class]. It is the two-pass
// chamfer transform (Rosenfeld and Pfaltz) with every pixel of another label a source:
// exact for the chessboard distance, since for a pixel of label A the sources are all
// the pixels not of A, and passing on a distance through a source never shortens it.
func halfWidths(mask []int32, w, h int, widths [][]int64) {
	const far = math.MaxInt32
	d := make([]int32, len(mask))
	for i := range d {
		d[i] = far
	}
	relax := func(i, x, y, dx, dy int) {
		nx, ny := x+dx, y+dy
		if nx < 0 || nx >= w || ny < 0 || ny >= h {
			return
		}
		j := ny*w + nx
		if mask[j] != mask[i] {
			d[i] = 1
		} else if d[j] != far && d[j]+1 < d[i] {
			d[i] = d[j] + 1
		}
	}
	for y := range h {
		for x := range w {
			i := y*w + x
			relax(i, x, y, -1, -1)
			relax(i, x, y, 0, -1)
			relax(i, x, y, 1, -1)
			relax(i, x, y, -1, 0)
		}
	}
	for y := h - 1; y >= 0; y-- {
		for x := w - 1; x >= 0; x-- {
			i := y*w + x
			relax(i, x, y, 1, 1)
			relax(i, x, y, 0, 1)
			relax(i, x, y, -1, 1)
			relax(i, x, y, 1, 0)
		}
	}
	for i, c := range mask {
		if c >= 0 && int(c) < len(widths) {
			widths[c][min(d[i], maxHalfWidth)]++ // far (one class fills the image) counts as wide
		}
	}
}

// histMedian is the median of values counted by value (hist[v] values equal to v); NaN
// when there are none.
func histMedian(hist []int64) float64 {
	var total, sum int64
	for _, n := range hist {
		total += n
	}
	if total == 0 {
		return math.NaN()
	}
	for v, n := range hist {
		if sum += n; 2*sum >= total {
			return float64(v)
		}
	}
	return float64(len(hist) - 1)
}

// pixelMedian is the area of the component holding the median pixel: the smallest area
// whose components, with all smaller ones, hold half the pixels. NaN for no components.
func pixelMedian(areas []float64) float64 {
	if len(areas) == 0 {
		return math.NaN()
	}
	slices.Sort(areas)
	var total, sum float64
	for _, a := range areas {
		total += a
	}
	for _, a := range areas {
		if sum += a; sum >= total/2 {
			return a
		}
	}
	return areas[len(areas)-1]
}

func median(v []int) int {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// Rarest gives the class with the smallest share of pixels among those with any (the
// foreground only, for a binary task, whose background is no class of interest), and
// that share; -1 when no class has pixels.
func (f *Fingerprint) Rarest() (class int, share float64) {
	class, share = -1, math.Inf(1)
	for c, s := range f.Share {
		if s > 0 && s < share && !(f.Classes.Binary() && c == 0) {
			class, share = c, s
		}
	}
	return class, share
}

// Write prints the fingerprint, a line per quantity and one per class.
func (f *Fingerprint) Write(w io.Writer) error {
	fmt.Fprintf(w, "fingerprint of %s\n", f.Dir)
	fmt.Fprintf(w, "  images     %d for training, %d channel(s)\n", f.Images, f.Channels)
	fmt.Fprintf(w, "  sizes      median %dx%d, sides %d to %d\n", f.MedianW, f.MedianH, f.MinSide, f.MaxSide)
	fmt.Fprintf(w, "  intensity  %.3f to %.3f, mean %.3f (0-1 scale)\n", f.IntensityMin, f.IntensityMax, f.IntensityMean)
	fmt.Fprintf(w, "  classes    %s\n", f.Classes)
	fmt.Fprintf(w, "  %-12s %8s %8s %14s %10s\n", "class", "pixels", "images", "typical object", "half-width")
	for c := range f.Share {
		area, half := "-", "-"
		if !math.IsNaN(f.ObjectArea[c]) {
			area = fmt.Sprintf("%.0f px", f.ObjectArea[c])
		}
		if !math.IsNaN(f.HalfWidth[c]) {
			half = fmt.Sprintf("%.0f px", f.HalfWidth[c])
		}
		_, err := fmt.Fprintf(w, "  %-12s %7.2f%% %8d %14s %10s\n", f.Classes.Name(c), 100*f.Share[c], f.ImagesWith[c], area, half)
		if err != nil {
			return err
		}
	}
	return nil
}
