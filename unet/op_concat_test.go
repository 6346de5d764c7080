package unet

import (
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestConcatChannelsByHand(t *testing.T) {
	a := tensor.New(tensor.WithShape(2, 1, 1, 2), tensor.WithBacking([]float64{1, 2, 3, 4}))
	b := tensor.New(tensor.WithShape(2, 2, 1, 2), tensor.WithBacking([]float64{5, 6, 7, 8, 9, 10, 11, 12}))
	got := runGraph(t, func(g *G.ExprGraph) (*G.Node, error) { return ConcatChannels(node(g, a, "a"), node(g, b, "b")) })
	want := []float64{1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12}
	if d := maxAbsDiff(got.Data().([]float64), want); d != 0 || !got.Shape().Eq(tensor.Shape{2, 3, 1, 2}) {
		t.Errorf("concat gave %v %v, want %v", got.Shape(), got.Data(), want)
	}
}

func TestConcatChannelsGradient(t *testing.T) {
	rng := rand.New(rand.NewSource(12))
	checkGrad(t, gradCase{
		name:   "ConcatChannels",
		inputs: []*tensor.Dense{randTensor(rng, 2, 3, 4, 5), randTensor(rng, 2, 2, 4, 5)},
		diff:   []bool{true, true},
		build:  func(in []*G.Node) (*G.Node, error) { return ConcatChannels(in[0], in[1]) },
	}, 1e-7)
}
