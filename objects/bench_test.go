package objects

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// benchMask is an 8192x8192 mask of nuclei: about 41,600 discs of radius 10 to 21 on a
// jittered grid 40 pixels apart, so that many touch their neighbours (a 16-bit label image
// cannot number many more objects).
var benchMask = sync.OnceValue(func() []uint8 { return nucleiMask(8192) })

// nucleiMask makes a side x side mask of nuclei as benchMask describes, the same density
// at every size, so that times per pixel compare across sizes.
func nucleiMask(side int) []uint8 {
	m := make([]uint8, side*side)
	r := rand.New(rand.NewPCG(9, 10))
	for gy := 24; gy < side-24; gy += 40 {
		for gx := 24; gx < side-24; gx += 40 {
			cx, cy := gx+r.IntN(7)-3, gy+r.IntN(7)-3
			rad := 10 + r.IntN(12)
			for y := cy - rad; y <= cy+rad; y++ {
				for x := cx - rad; x <= cx+rad; x++ {
					if (x-cx)*(x-cx)+(y-cy)*(y-cy) <= rad*rad {
						m[y*side+x] = 1
					}
				}
			}
		}
	}
	return m
}

// The object steps on an 8192x8192 mask. Run them alone: go test ./objects -run '^$'
// -bench . -benchtime 1x.
func BenchmarkLabel(b *testing.B) {
	m := benchMask()
	b.ResetTimer()
	for range b.N {
		if _, err := Label(m, 8192, 8192); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSquaredDistances(b *testing.B) {
	l, err := Label(benchMask(), 8192, 8192)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		l.SquaredDistances()
	}
}

// BenchmarkSplit times the whole split: distance transform, maxima, seeds and flood.
func BenchmarkSplit(b *testing.B) {
	l0, err := Label(benchMask(), 8192, 8192)
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		b.StopTimer()
		l := &Labels{W: l0.W, H: l0.H, Pix: append([]uint16(nil), l0.Pix...), Class: append([]int(nil), l0.Class...)}
		b.StartTimer()
		if err := l.Split(8); err != nil {
			b.Fatal(err)
		}
		if b.N == 1 {
			b.ReportMetric(float64(l0.N()), "objects-before")
			b.ReportMetric(float64(l.N()), "objects-after")
		}
	}
}

// objectSteps runs what predict --instances --split does to a mask: labelling, the split
// (distance transform, maxima, watershed), and the object table.
func objectSteps(tb testing.TB, m []uint8, side int) {
	l, err := Label(m, side, side)
	if err != nil {
		tb.Fatal(err)
	}
	if err := l.Split(8); err != nil {
		tb.Fatal(err)
	}
	if _, err := l.Objects(nil); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkObjects8192 times the object steps of predict --instances --split on an
// 8192x8192 mask, and reports them per pixel.
func BenchmarkObjects8192(b *testing.B) {
	m := benchMask()
	b.ResetTimer()
	for range b.N {
		objectSteps(b, m, 8192)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(8192*8192), "ns/pixel")
}

// BenchmarkObjectsLinear checks that the object steps are linear in the pixels: it reports
// the time per pixel on a 2048x2048 and an 8192x8192 mask of the same density, and their
// ratio ("ratio-8192/2048"), which stays near 1 (within a factor of 1.5 on a quiet
// machine) when the time is linear. A benchmark, not a test: a loaded machine changes
// times, and the ratio is for people to read.
func BenchmarkObjectsLinear(b *testing.B) {
	perPixel := func(side int) float64 {
		m := nucleiMask(side)
		best := math.Inf(1)
		for range 2 {
			start := time.Now()
			objectSteps(b, m, side)
			best = min(best, float64(time.Since(start).Nanoseconds())/float64(side*side))
		}
		return best
	}
	for range b.N {
		small, large := perPixel(2048), perPixel(8192)
		b.ReportMetric(small, "ns/pixel-2048")
		b.ReportMetric(large, "ns/pixel-8192")
		b.ReportMetric(large/small, "ratio-8192/2048")
	}
}
