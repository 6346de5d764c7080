package unet

import (
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
)

// TestConvBNReLUMatchesSeparateOps compares the fused inference op with the convolution,
// batch norm at inference and ReLU it replaces, with and without the ReLU.
func TestConvBNReLUMatchesSeparateOps(t *testing.T) {
	rng := rand.New(rand.NewSource(13))
	x, w := randTensor(rng, 2, 3, 7, 6), randTensor(rng, 4, 3, 3, 3)
	gamma, beta, mean := randTensor(rng, 4), randTensor(rng, 4), randTensor(rng, 4)
	variance := randTensor(rng, 4)
	for i, v := range variance.Data().([]float64) {
		variance.Data().([]float64)[i] = v*v + 0.1
	}
	for _, relu := range []bool{true, false} {
		got := runGraph(t, func(g *G.ExprGraph) (*G.Node, error) {
			return ConvBNReLU(node(g, x, "x"), node(g, w, "w"), node(g, gamma, "g"), node(g, beta, "b"), node(g, mean, "m"), node(g, variance, "v"), 1, 1e-5, relu)
		})
		want := runGraph(t, func(g *G.ExprGraph) (*G.Node, error) {
			y, err := Conv2d(node(g, x, "x"), node(g, w, "w"), nil, 1, 1)
			if err != nil {
				return nil, err
			}
			if y, err = BatchNormInference(y, node(g, gamma, "g"), node(g, beta, "b"), node(g, mean, "m"), node(g, variance, "v"), 1e-5); err != nil || !relu {
				return y, err
			}
			return ReLU(y)
		})
		if d := maxAbsDiff(got.Data().([]float64), want.Data().([]float64)); d > 1e-12 {
			t.Errorf("relu=%v: fused op differs from the separate ops by %g", relu, d)
		}
	}
}
