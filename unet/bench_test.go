package unet

import (
	"fmt"
	"math/rand"
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
