package unet

import (
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestMaxPoolByHand(t *testing.T) {
	x := tensor.New(tensor.WithShape(1, 1, 2, 4), tensor.WithBacking([]float64{
		1, 5, 2, 2,
		3, 4, 2, math.NaN(),
	}))
	got := runGraph(t, func(g *G.ExprGraph) (*G.Node, error) { return MaxPool(node(g, x, "x"), 2) }).Data().([]float64)
	if got[0] != 5 || !math.IsNaN(got[1]) {
		t.Errorf("MaxPool gave %v, want [5 NaN]", got)
	}
}

func TestMaxPoolGradient(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	checkGrad(t, gradCase{
		name:   "MaxPool",
		inputs: []*tensor.Dense{randTensor(rng, 2, 3, 6, 4)},
		diff:   []bool{true},
		build:  func(in []*G.Node) (*G.Node, error) { return MaxPool(in[0], 2) },
	}, 1e-7)
}

// TestNaNDoesNotCrash runs a training pass on an input holding NaN: the loss must come back
// NaN, not as a crash of the graph (gorgonia's own max pool panics on NaN).
func TestNaNDoesNotCrash(t *testing.T) {
	m, err := New(Config{InChannels: 1, Classes: 1, Depth: 2, BaseChannels: 4, Skip: SkipConcat, Norm: NormBatch, Up: UpTranspose}, 1)
	if err != nil {
		t.Fatal(err)
	}
	net, err := NewTrainNet(m, 1, 8, 8, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	x := make([]float32, 64)
	x[5] = float32(math.NaN())
	loss, err := net.Step(x, make([]float32, 64))
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(loss) {
		t.Errorf("loss %v from a NaN input", loss)
	}
}
