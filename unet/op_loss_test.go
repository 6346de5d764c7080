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

func TestSoftDiceByHand(t *testing.T) {
	// Binary, three pixels: logits 0 (p 0.5), ln 3 (p 0.75), and an ignored one; targets 1, 0.
	z := tensor.New(tensor.WithShape(1, 1, 1, 3), tensor.WithBacking([]float64{0, math.Log(3), 9}))
	y := tensor.New(tensor.WithShape(1, 1, 1, 3), tensor.WithBacking([]float64{1, 0, -1}))
	// inter = 0.5, sum p = 1.25, sum t = 1: 1 - (2*0.5+1)/(1.25+1+1).
	want := 1 - 2.0/3.25
	got := scalarOf(t, func(g *G.ExprGraph) (*G.Node, error) { return SoftDice(node(g, z, "z"), node(g, y, "y")) })
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("binary soft Dice = %v, want %v", got, want)
	}
	// Two classes, one pixel of class 1 with equal logits: p = (0.5, 0.5).
	// Class 0: (0+1)/(0.5+0+1); class 1: (2*0.5+1)/(0.5+1+1); loss 1 - mean.
	z2 := tensor.New(tensor.WithShape(1, 2, 1, 1), tensor.WithBacking([]float64{0, 0}))
	y2 := tensor.New(tensor.WithShape(1, 1, 1), tensor.WithBacking([]float64{1}))
	want2 := 1 - (1/1.5+2/2.5)/2
	got2 := scalarOf(t, func(g *G.ExprGraph) (*G.Node, error) { return SoftDice(node(g, z2, "z"), node(g, y2, "y")) })
	if math.Abs(got2-want2) > 1e-12 {
		t.Errorf("two-class soft Dice = %v, want %v", got2, want2)
	}
}

func TestFocalByHand(t *testing.T) {
	// gamma 2, binary: logit 0 with target 1 gives -(0.5^2) log 0.5.
	z := tensor.New(tensor.WithShape(1, 1, 1, 2), tensor.WithBacking([]float64{0, math.Log(3)}))
	y := tensor.New(tensor.WithShape(1, 1, 1, 2), tensor.WithBacking([]float64{1, 0}))
	// Pixel 2: p = 0.75, target 0: p_t = 0.25, -(0.75^2) log 0.25.
	want := (-(0.25)*math.Log(0.5) - 0.5625*math.Log(0.25)) / 2
	got := scalarOf(t, func(g *G.ExprGraph) (*G.Node, error) { return Focal(node(g, z, "z"), node(g, y, "y"), 2) })
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("focal = %v, want %v", got, want)
	}
	// gamma 0 is cross-entropy.
	bce := scalarOf(t, func(g *G.ExprGraph) (*G.Node, error) { return BCEWithLogits(node(g, z, "z"), node(g, y, "y")) })
	f0 := scalarOf(t, func(g *G.ExprGraph) (*G.Node, error) { return Focal(node(g, z, "z"), node(g, y, "y"), 0) })
	if math.Abs(bce-f0) > 1e-12 {
		t.Errorf("focal with gamma 0 = %v, BCE = %v", f0, bce)
	}
}

func TestDiceAndFocalGradients(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	bin := randTensor(rng, 2, 1, 3, 4)
	for i, v := range bin.Data().([]float64) {
		bin.Data().([]float64)[i] = math.Round((v + 1) / 2)
	}
	bin.Data().([]float64)[3] = -1
	cls := tensor.New(tensor.WithShape(2, 3, 4), tensor.WithBacking(make([]float64, 24)))
	for i := range cls.Data().([]float64) {
		cls.Data().([]float64)[i] = float64(rng.Intn(4)) - 1
	}
	for _, c := range []struct {
		name   string
		logits []int
		target *tensor.Dense
		build  func(in []*G.Node) (*G.Node, error)
	}{
		{"SoftDice/binary", []int{2, 1, 3, 4}, bin, func(in []*G.Node) (*G.Node, error) { return SoftDice(in[0], in[1]) }},
		{"SoftDice/3 classes", []int{2, 3, 3, 4}, cls, func(in []*G.Node) (*G.Node, error) { return SoftDice(in[0], in[1]) }},
		{"Focal/binary", []int{2, 1, 3, 4}, bin, func(in []*G.Node) (*G.Node, error) { return Focal(in[0], in[1], 2) }},
		{"Focal/3 classes", []int{2, 3, 3, 4}, cls, func(in []*G.Node) (*G.Node, error) { return Focal(in[0], in[1], 2) }},
		{"Focal/gamma 0.5", []int{2, 3, 3, 4}, cls, func(in []*G.Node) (*G.Node, error) { return Focal(in[0], in[1], 0.5) }},
	} {
		logits := randTensor(rng, c.logits...)
		for i, v := range logits.Data().([]float64) {
			logits.Data().([]float64)[i] = 3 * v
		}
		checkGrad(t, gradCase{name: c.name, inputs: []*tensor.Dense{logits, c.target}, diff: []bool{true, false}, build: c.build}, 1e-6)
	}
}

// TestLossSum checks that losses combine in the graph with gorgonia's own ops: BCE + Dice.
func TestLossSum(t *testing.T) {
	rng := rand.New(rand.NewSource(10))
	bin := randTensor(rng, 1, 1, 4, 4)
	for i, v := range bin.Data().([]float64) {
		bin.Data().([]float64)[i] = math.Round((v + 1) / 2)
	}
	checkGrad(t, gradCase{
		name:   "BCE+Dice",
		inputs: []*tensor.Dense{randTensor(rng, 1, 1, 4, 4), bin},
		diff:   []bool{true, false},
		build: func(in []*G.Node) (*G.Node, error) {
			a, err := BCEWithLogits(in[0], in[1])
			if err != nil {
				return nil, err
			}
			b, err := SoftDice(in[0], in[1])
			if err != nil {
				return nil, err
			}
			return G.Add(a, b)
		},
	}, 1e-6)
}
