package unet

import (
	"math"
	"math/rand"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestWeightedLossesByHand checks the class-weighted cross-entropies against sums worked
// out by hand, and that weights of one change nothing.
func TestWeightedLossesByHand(t *testing.T) {
	// Three classes, three pixels (classes 2, 0 and ignored), logits (1, 2, 3) and (0, 0, 0).
	z := tensor.New(tensor.WithShape(1, 3, 1, 3), tensor.WithBacking([]float64{1, 0, 7, 2, 0, 7, 3, 0, 7}))
	y := tensor.New(tensor.WithShape(1, 1, 3), tensor.WithBacking([]float64{2, 0, -1}))
	w := []float64{0.5, 9, 4}
	l2 := -math.Log(math.Exp(3) / (math.Exp(1) + math.Exp(2) + math.Exp(3)))
	l0 := math.Log(3)
	want := (4*l2 + 0.5*l0) / 4.5
	got := scalarOf(t, func(g *G.ExprGraph) (*G.Node, error) {
		return WeightedCrossEntropy(w)(node(g, z, "z"), node(g, y, "y"))
	})
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("weighted CE = %v, want %v", got, want)
	}
	plain := scalarOf(t, func(g *G.ExprGraph) (*G.Node, error) { return CrossEntropy(node(g, z, "z"), node(g, y, "y")) })
	ones := scalarOf(t, func(g *G.ExprGraph) (*G.Node, error) {
		return WeightedCrossEntropy([]float64{1, 1, 1})(node(g, z, "z"), node(g, y, "y"))
	})
	if math.Abs(plain-ones) > 1e-12 || math.Abs(plain-(l2+l0)/2) > 1e-12 {
		t.Errorf("CE %v, with weights of one %v, by hand %v", plain, ones, (l2+l0)/2)
	}
	// Binary: logits 0 (target 1) and ln 3 (target 0): BCE terms ln 2 and ln 4.
	bz := tensor.New(tensor.WithShape(1, 1, 1, 2), tensor.WithBacking([]float64{0, math.Log(3)}))
	by := tensor.New(tensor.WithShape(1, 1, 1, 2), tensor.WithBacking([]float64{1, 0}))
	bw := []float64{0.25, 3}
	bwant := (3*math.Ln2 + 0.25*2*math.Ln2) / 3.25
	bgot := scalarOf(t, func(g *G.ExprGraph) (*G.Node, error) {
		return WeightedBCEWithLogits(bw)(node(g, bz, "z"), node(g, by, "y"))
	})
	if math.Abs(bgot-bwant) > 1e-12 {
		t.Errorf("weighted BCE = %v, want %v", bgot, bwant)
	}
	// A weight per class, no more, no fewer.
	g := G.NewGraph()
	if _, err := WeightedCrossEntropy([]float64{1, 2})(node(g, z, "z"), node(g, y, "y")); err == nil || !strings.Contains(err.Error(), "2 class weights for 3 classes") {
		t.Errorf("two weights for three classes: %v", err)
	}
}

// TestSoftDicePerClassByHand: three classes, the target holding classes 0 and 2 only.
func TestSoftDicePerClassByHand(t *testing.T) {
	// Two pixels with equal logits (p = 1/3 each), targets 0 and 2.
	z := tensor.New(tensor.WithShape(1, 3, 1, 2), tensor.WithBacking(make([]float64, 6)))
	y := tensor.New(tensor.WithShape(1, 1, 2), tensor.WithBacking([]float64{0, 2}))
	// Classes 0 and 2: inter 1/3, sum p 2/3, sum t 1: (2/3+1)/(2/3+1+1) = 5/8 each.
	want := 1 - 5.0/8
	got := scalarOf(t, func(g *G.ExprGraph) (*G.Node, error) { return SoftDicePerClass(node(g, z, "z"), node(g, y, "y")) })
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("per-class soft Dice = %v, want %v", got, want)
	}
	// SoftDice also averages in class 1: (0+1)/(2/3+1) = 3/5.
	all := scalarOf(t, func(g *G.ExprGraph) (*G.Node, error) { return SoftDice(node(g, z, "z"), node(g, y, "y")) })
	if w := 1 - (5.0/8+5.0/8+3.0/5)/3; math.Abs(all-w) > 1e-12 {
		t.Errorf("soft Dice = %v, want %v", all, w)
	}
	// A binary batch without foreground has no class present: 0.
	bz := tensor.New(tensor.WithShape(1, 1, 1, 2), tensor.WithBacking([]float64{1, 2}))
	by := tensor.New(tensor.WithShape(1, 1, 1, 2), tensor.WithBacking([]float64{0, 0}))
	if got := scalarOf(t, func(g *G.ExprGraph) (*G.Node, error) { return SoftDicePerClass(node(g, bz, "z"), node(g, by, "y")) }); got != 0 {
		t.Errorf("per-class soft Dice of a batch without foreground = %v, want 0", got)
	}
}

// TestWeightedAndPerClassGradients checks the new losses' gradients against finite
// differences: weighted CE and BCE, and per-class soft Dice with a class absent.
func TestWeightedAndPerClassGradients(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	bin := randTensor(rng, 2, 1, 3, 4)
	for i, v := range bin.Data().([]float64) {
		bin.Data().([]float64)[i] = math.Round((v + 1) / 2)
	}
	bin.Data().([]float64)[3] = -1
	cls := tensor.New(tensor.WithShape(2, 4, 4), tensor.WithBacking(make([]float64, 32)))
	for i := range cls.Data().([]float64) {
		cls.Data().([]float64)[i] = float64(rng.Intn(3)) - 1 // classes 0 and 1 (of 4), and ignored
	}
	w := []float64{0.3, 2, 5, 1.5}
	for _, c := range []struct {
		name   string
		logits []int
		target *tensor.Dense
		build  func(in []*G.Node) (*G.Node, error)
	}{
		{"WeightedBCE", []int{2, 1, 3, 4}, bin, func(in []*G.Node) (*G.Node, error) { return WeightedBCEWithLogits(w[:2])(in[0], in[1]) }},
		{"WeightedCE", []int{2, 4, 4, 4}, cls, func(in []*G.Node) (*G.Node, error) { return WeightedCrossEntropy(w)(in[0], in[1]) }},
		{"SoftDicePerClass/binary", []int{2, 1, 3, 4}, bin, func(in []*G.Node) (*G.Node, error) { return SoftDicePerClass(in[0], in[1]) }},
		{"SoftDicePerClass/4 classes", []int{2, 4, 4, 4}, cls, func(in []*G.Node) (*G.Node, error) { return SoftDicePerClass(in[0], in[1]) }},
		{"ce+dice-per-class weighted", []int{2, 4, 4, 4}, cls, func(in []*G.Node) (*G.Node, error) {
			l, err := LookupLoss("ce+dice-per-class")
			if err != nil {
				return nil, err
			}
			f, err := l.WithWeights(w)
			if err != nil {
				return nil, err
			}
			return f(in[0], in[1])
		}},
	} {
		logits := randTensor(rng, c.logits...)
		for i, v := range logits.Data().([]float64) {
			logits.Data().([]float64)[i] = 3 * v
		}
		checkGrad(t, gradCase{name: c.name, inputs: []*tensor.Dense{logits, c.target}, diff: []bool{true, false}, build: c.build}, 1e-6)
	}
	if _, err := (Loss{Name: "dice", Func: SoftDice}).WithWeights(w); err == nil {
		t.Error("class weights for soft Dice alone were accepted")
	}
}
