package unet

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// benchShapes are the speed issue's three configurations (base channels, side, batch), and
// the one segment train's ISBI and DSB runs use.
var benchShapes = []struct{ base, size, batch int }{{16, 128, 4}, {32, 256, 2}, {64, 256, 1}, {16, 256, 2}}

func benchModel(b *testing.B, base int) *Model {
	cfg := DefaultConfig()
	cfg.BaseChannels = base
	m, err := New(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func randInput(n int) []float32 {
	rng := rand.New(rand.NewSource(1))
	x := make([]float32, n)
	for i := range x {
		x[i] = rng.Float32()
	}
	return x
}

// BenchmarkTrainStep times forward, loss and backward of one batch (the optimiser step is
// not part of the graph yet).
func BenchmarkTrainStep(b *testing.B) {
	for _, s := range benchShapes {
		b.Run(fmt.Sprintf("base%d_%dx%d_batch%d", s.base, s.size, s.size, s.batch), func(b *testing.B) {
			m := benchModel(b, s.base)
			net, err := NewTrainNet(m, s.batch, s.size, s.size, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer net.Close()
			x := randInput(s.batch * s.size * s.size)
			t := make([]float32, len(x))
			for i, v := range x {
				if v > 0.5 {
					t[i] = 1
				}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := net.Step(x, t); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkInfer times one inference forward pass of one batch.
func BenchmarkInfer(b *testing.B) {
	for _, s := range benchShapes {
		b.Run(fmt.Sprintf("base%d_%dx%d_batch%d", s.base, s.size, s.size, s.batch), func(b *testing.B) {
			m := benchModel(b, s.base)
			net, err := NewInferNet(m, s.batch, s.size, s.size)
			if err != nil {
				b.Fatal(err)
			}
			defer net.Close()
			x := randInput(s.batch * s.size * s.size)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := net.Forward(x); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkConv3x3 times every 3x3 convolution shape of the bench configurations (forward;
// the input gradients are the same shapes with the channels swapped) by each algorithm,
// side by side, the measurement behind winogradFor's rule:
// go test ./unet -run '^$' -bench Conv3x3 -benchtime 20x -count 3
func BenchmarkConv3x3(b *testing.B) {
	type shape struct{ n, c, co, s int }
	var shapes []shape
	seen := map[shape]bool{}
	for _, cfg := range benchShapes[:3] {
		for _, l := range benchLayers(cfg.base, cfg.size) {
			for _, sh := range []shape{{cfg.batch, l[0], l[1], l[2]}, {cfg.batch, l[1], l[0], l[2]}} {
				if sh.c > 1 && !seen[sh] {
					seen[sh] = true
					shapes = append(shapes, sh)
				}
			}
		}
	}
	for _, sh := range shapes {
		g := newConvGeom(sh.c, sh.s, sh.s, 3, 1, 1)
		// winograd-fresh transforms the filters at every pass, as a training step's forward
		// pass does (its input gradient then reads the same transform).
		for _, mode := range []string{"direct", "winograd", "winograd-fresh", "winograd4"} {
			b.Run(fmt.Sprintf("n%d_%dx%d_c%d_co%d/%s", sh.n, sh.s, sh.s, sh.c, sh.co, mode), func(b *testing.B) {
				x, w, _, _ := randConv(1, sh.n, sh.c, sh.s, sh.s, sh.co)
				y := make([]float32, sh.n*sh.co*sh.s*sh.s)
				fresh := strings.HasSuffix(mode, "-fresh")
				b.ResetTimer()
				withConvMode(strings.TrimSuffix(mode, "-fresh"), func() {
					for range b.N {
						if fresh {
							resetWinoCache()
						}
						convForward(g, sh.co, sh.n, x, w, y, nil)
					}
				})
				b.ReportMetric(2*9*float64(sh.n*sh.c*sh.co*sh.s*sh.s)*float64(b.N)/b.Elapsed().Seconds()/1e9, "eff-GFLOP/s")
			})
		}
	}
}
