package unet

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

// TestConvFilterIsRepeatable runs the weight gradient of a convolution cut into many bands
// side by side, again and again: the per-worker partial sums must group the bands the same
// way every time, so that every run gives the same bits (what resuming a run exactly needs).
// With bands handed to whichever worker is free, nearly every run differed.
func TestConvFilterIsRepeatable(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	defer func(b, m int) { bandFloats, minBandCols = b, m }(bandFloats, minBandCols)
	bandFloats, minBandCols = 1, 1
	g := newConvGeom(8, 32, 32, 3, 1, 1)
	n, co := 4, 8
	if p := g.plan(n); p.workers < 2 || p.per < 2 {
		t.Fatalf("plan %+v: want bands side by side", p)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x, dy := make([]float32, n*g.C*g.H*g.W), make([]float32, n*co*g.cols())
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	for i := range dy {
		dy[i] = float32(rng.NormFloat64())
	}
	first := make([]float32, co*g.rows())
	convFilter(g, co, n, x, dy, first)
	dw := make([]float32, len(first))
	for run := range 50 {
		convFilter(g, co, n, x, dy, dw)
		if !slices.Equal(dw, first) {
			t.Fatalf("run %d: the weight gradient differs from the first run's", run+2)
		}
	}
}
