package report

import (
	"fmt"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/segment-dev/segment/internal/sharedtest"
	"github.com/segment-dev/segment/metrics"
)

// binaryClasses are the classes of ISBI's masks: membranes 0, cells 255.
var binaryClasses = []Class{{Value: 0, Name: "membranes"}, {Value: 255, Name: "cells"}}

// evaluate scores the images as eval does, and returns them with the summary.
func evaluate(t testing.TB, classes []Class, ims []Image) ([]Image, metrics.Summary) {
	t.Helper()
	mc := make([]metrics.Class, len(classes))
	for i, c := range classes {
		mc[i] = metrics.Class{Value: c.Value, Name: c.Name}
	}
	acc, err := metrics.NewAccumulator(mc, len(classes), metrics.EmptyNaN)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ims {
		r, err := metrics.Evaluate(ims[i].Name, ims[i].Pred, ims[i].Truth, ims[i].Width, ims[i].Height, len(classes), len(classes), metrics.EmptyNaN)
		if err != nil {
			t.Fatal(err)
		}
		ims[i].Result = r
		if err := acc.AddResult(r); err != nil {
			t.Fatal(err)
		}
	}
	return ims, acc.Summary()
}

// readGray reads an 8-bit gray PNG.
func readGray(t testing.TB, path string) *image.Gray {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b := img.Bounds()
	g := image.NewGray(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			g.Set(x, y, img.At(x, y))
		}
	}
	return g
}

// isbiImages is a realistic evaluation of the ISBI 2012 test slices: the ground truth from
// the masks (0 membranes, 255 cells) and, as the "prediction", the image thresholded at
// 110: membranes are dark. No model is involved, only real data and a plausible, imperfect
// segmentation.
func isbiImages(t testing.TB) ([]Image, metrics.Summary) {
	t.Helper()
	dir := sharedtest.Path(t, "data/isbi2012-em-membranes/test")
	names, err := filepath.Glob(filepath.Join(dir, "images", "*.png"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no ISBI test images in %s (%v)", dir, err)
	}
	var ims []Image
	for _, p := range names {
		img := readGray(t, p)
		mask := readGray(t, filepath.Join(dir, "masks", filepath.Base(p)))
		w, h := img.Rect.Dx(), img.Rect.Dy()
		truth, pred := make([]int32, w*h), make([]int32, w*h)
		for i := range truth {
			if mask.Pix[i] >= 128 {
				truth[i] = 1
			}
			if img.Pix[i] > 110 {
				pred[i] = 1
			}
		}
		ims = append(ims, Image{Name: "slice " + filepath.Base(p), Path: p, Truth: truth, Pred: pred, Width: w, Height: h})
	}
	return evaluate(t, binaryClasses, ims)
}

// blobs draws a w x h class-index map of k classes: background with random discs of the
// other classes.
func blobs(rng *rand.Rand, w, h, k, n int) []int32 {
	m := make([]int32, w*h)
	for range n {
		cx, cy, r := rng.IntN(w), rng.IntN(h), 4+rng.IntN(w/6+1)
		c := int32(1 + rng.IntN(k-1))
		for y := max(cy-r, 0); y < min(cy+r, h); y++ {
			for x := max(cx-r, 0); x < min(cx+r, w); x++ {
				if (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r {
					m[y*w+x] = c
				}
			}
		}
	}
	return m
}

// syntheticImages makes n images of w x h with k classes: a ground truth of discs, a
// prediction that keeps a random share of its pixels' classes and replaces the others
// with new discs, and a gray picture of the truth with noise.
func syntheticImages(t testing.TB, seed uint64, n, w, h, k int, name func(i int) string) ([]Image, metrics.Summary) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	ims := make([]Image, n)
	for i := range ims {
		truth := blobs(rng, w, h, k, 3+rng.IntN(4))
		noise := blobs(rng, w, h, k, 1+rng.IntN(6))
		keep := rng.Float64()
		pred := make([]int32, w*h)
		for j := range pred {
			if rng.Float64() < keep || (j/w+j%w)%7 != 0 {
				pred[j] = truth[j]
			} else {
				pred[j] = noise[j]
			}
			if noise[j] != 0 && rng.Float64() > keep {
				pred[j] = noise[j]
			}
		}
		pic := image.NewGray(image.Rect(0, 0, w, h))
		for j, v := range truth {
			pic.Pix[j] = uint8(40 + 150*int(v)/(k-1) + rng.IntN(50))
		}
		ims[i] = Image{Name: name(i), Image: pic, Truth: truth, Pred: pred, Width: w, Height: h}
	}
	return evaluate(t, classesOf(k), ims)
}

// classesOf gives the classes of a synthetic task of k classes.
func classesOf(k int) []Class {
	if k == 2 {
		return binaryClasses
	}
	classes := make([]Class, k)
	for i := range classes {
		classes[i] = Class{Value: i, Name: fmt.Sprintf("class %d", i)}
	}
	return classes
}

// largeReport is a report of 2,000 images, written once for the tests that need one
// (writing it takes seconds); TestMain removes it.
var largeReport struct {
	once sync.Once
	dir  string
	err  error
	ims  []Image
}

const largeN = 2000

func largeReportDir(t testing.TB) string {
	t.Helper()
	largeReport.once.Do(func() {
		root, err := os.MkdirTemp("", "segment-report-large-")
		if err != nil {
			largeReport.err = err
			return
		}
		largeReport.dir = filepath.Join(root, "report")
		ims, sum := syntheticImages(t, 7, largeN, 128, 96, 2, func(i int) string { return fmt.Sprintf("tile_%04d.png", i) })
		w, err := Create(largeReport.dir, "2,000 synthetic tiles", binaryClasses)
		if err != nil {
			largeReport.err = err
			return
		}
		var wg sync.WaitGroup
		errs := make(chan error, len(ims))
		next := make(chan int)
		for range 4 {
			wg.Go(func() {
				for i := range next {
					if err := w.Add(ims[i]); err != nil {
						errs <- err
					}
				}
			})
		}
		for i := range ims {
			next <- i
		}
		close(next)
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			w.Abort()
			largeReport.err = err
			return
		}
		largeReport.err = w.Finish(sum, nil)
		for i := range ims { // keep the scores, drop the pixels
			ims[i].Image, ims[i].Truth, ims[i].Pred = nil, nil, nil
		}
		largeReport.ims = ims
	})
	if largeReport.err != nil {
		t.Fatal(largeReport.err)
	}
	return largeReport.dir
}

// byDice gives the names of ims ordered by the Dice of class c, worst first (best first
// with desc), undefined last; ties keep the page's first order, by foreground Dice (the
// mean over classes 1.., undefined last), then the order of ims. An independent computation
// of the page's order.
func byDice(ims []Image, c int, desc bool) []string {
	idx := make([]int, len(ims))
	for i := range idx {
		idx[i] = i
	}
	fg := func(i int) float64 {
		var v []float64
		for c := 1; c < len(ims[i].Result.Scores); c++ {
			v = append(v, ims[i].Result.Scores[c][metrics.Dice])
		}
		return metrics.NaNMean(v)
	}
	// cmp orders x before y when x is worse, undefined last.
	cmp := func(x, y float64, desc bool) int {
		switch {
		case math.IsNaN(x) && math.IsNaN(y):
			return 0
		case math.IsNaN(x):
			return 1
		case math.IsNaN(y):
			return -1
		case desc:
			return -cmpFloat(x, y)
		}
		return cmpFloat(x, y)
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		if r := cmp(ims[a].Result.Scores[c][metrics.Dice], ims[b].Result.Scores[c][metrics.Dice], desc); r != 0 {
			return r
		}
		return cmp(fg(a), fg(b), false)
	})
	names := make([]string, len(idx))
	for i, j := range idx {
		names[i] = ims[j].Name
	}
	return names
}

func cmpFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func TestMain(m *testing.M) {
	code := m.Run()
	if largeReport.dir != "" {
		os.RemoveAll(filepath.Dir(largeReport.dir))
	}
	os.Exit(code)
}
