package unet

import (
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func scalarOf(t *testing.T, build func(g *G.ExprGraph) (*G.Node, error)) float64 {
	t.Helper()
	g := G.NewGraph()
	out, err := build(g)
	if err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	return out.Value().Data().(float64)
}

func TestBCEWithLogitsByHand(t *testing.T) {
	z := tensor.New(tensor.WithShape(1, 1, 1, 4), tensor.WithBacking([]float64{0, 2, -3, 800}))
	y := tensor.New(tensor.WithShape(1, 1, 1, 4), tensor.WithBacking([]float64{1, 0, -1, 1}))
	// Pixel 3 is ignored; pixel 4's huge logit must not overflow.
	want := (math.Log(2) + (2 + math.Log1p(math.Exp(-2))) + 0) / 3
	got := scalarOf(t, func(g *G.ExprGraph) (*G.Node, error) { return BCEWithLogits(node(g, z, "z"), node(g, y, "y")) })
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("BCE = %v, want %v", got, want)
	}
}

func TestCrossEntropyByHand(t *testing.T) {
	// Two pixels, three classes; the second pixel is ignored.
	z := tensor.New(tensor.WithShape(1, 3, 1, 2), tensor.WithBacking([]float64{1, 5, 2, 5, 3, 5}))
	y := tensor.New(tensor.WithShape(1, 1, 2), tensor.WithBacking([]float64{2, -1}))
	want := -math.Log(math.Exp(3) / (math.Exp(1) + math.Exp(2) + math.Exp(3)))
	got := scalarOf(t, func(g *G.ExprGraph) (*G.Node, error) { return CrossEntropy(node(g, z, "z"), node(g, y, "y")) })
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("CE = %v, want %v", got, want)
	}
	bad := tensor.New(tensor.WithShape(1, 1, 2), tensor.WithBacking([]float64{3, 0}))
	g := G.NewGraph()
	out, err := CrossEntropy(node(g, z, "z"), node(g, bad, "y"))
	if err != nil {
		t.Fatal(err)
	}
	_ = out
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err == nil {
		t.Error("a class index beyond the logits was accepted")
	}
}

func TestLossGradients(t *testing.T) {
	rng := rand.New(rand.NewSource(8))
	bin := randTensor(rng, 2, 1, 3, 4)
	for i, v := range bin.Data().([]float64) {
		bin.Data().([]float64)[i] = math.Round((v + 1) / 2)
	}
	bin.Data().([]float64)[5] = -1
	checkGrad(t, gradCase{
		name:   "BCEWithLogits",
		inputs: []*tensor.Dense{randTensor(rng, 2, 1, 3, 4), bin},
		diff:   []bool{true, false},
		build:  func(in []*G.Node) (*G.Node, error) { return BCEWithLogits(in[0], in[1]) },
	}, 1e-7)
	cls := tensor.New(tensor.WithShape(2, 3, 4), tensor.WithBacking(make([]float64, 24)))
	for i := range cls.Data().([]float64) {
		cls.Data().([]float64)[i] = float64(rng.Intn(4)) - 1 // -1 is ignored
	}
	checkGrad(t, gradCase{
		name:   "CrossEntropy",
		inputs: []*tensor.Dense{randTensor(rng, 2, 3, 3, 4), cls},
		diff:   []bool{true, false},
		build:  func(in []*G.Node) (*G.Node, error) { return CrossEntropy(in[0], in[1]) },
	}, 1e-7)
}
