package objects

import (
	"math/rand/v2"
	"sync"
	"testing"
)

// benchMask is an 8192x8192 mask of nuclei: about 41,600 discs of radius 10 to 21 on a
// jittered grid 40 pixels apart, so that many touch their neighbours (a 16-bit label image
// cannot number many more objects).
var benchMask = sync.OnceValue(func() []uint8 {
	const side = 8192
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
})

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
