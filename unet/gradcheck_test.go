package unet

import (
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// randTensor is a float64 tensor of the given shape with elements uniform in [-1, 1).
func randTensor(rng *rand.Rand, shape ...int) *tensor.Dense {
	n := 1
	for _, d := range shape {
		n *= d
	}
	data := make([]float64, n)
	for i := range data {
		data[i] = rng.Float64()*2 - 1
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
}

// gradCase is one finite-difference check: build applies the op under test to nodes that
// hold inputs; the inputs marked in diff are differentiated.
type gradCase struct {
	name   string
	inputs []*tensor.Dense
	diff   []bool
	build  func(in []*G.Node) (*G.Node, error)
}

// checkGrad compares the gradient that the graph computes for loss = sum(out * r), with r a
// fixed random tensor (so the op sees a general output gradient, not ones), against central
// finite differences in float64. It checks up to 40 elements of every differentiated input
// and requires the relative error of the whole sampled vector to stay under tol.
func checkGrad(t *testing.T, c gradCase, tol float64) {
	t.Helper()
	rng := rand.New(rand.NewSource(7))
	g := G.NewGraph()
	nodes := make([]*G.Node, len(c.inputs))
	for i, in := range c.inputs {
		if in.Shape().IsScalar() || in.Dims() == 0 {
			t.Fatalf("%s: input %d must be a tensor", c.name, i)
		}
		nodes[i] = G.NewTensor(g, tensor.Float64, in.Dims(), G.WithShape(in.Shape()...), G.WithValue(in), G.WithName(string(rune('a'+i))))
	}
	out, err := c.build(nodes)
	if err != nil {
		t.Fatalf("%s: build: %v", c.name, err)
	}
	var loss *G.Node
	if out.IsScalar() {
		r := G.NewScalar(g, tensor.Float64, G.WithValue(rng.Float64()+0.5), G.WithName("r"))
		loss = G.Must(G.Mul(out, r))
	} else {
		r := G.NewTensor(g, tensor.Float64, out.Dims(), G.WithShape(out.Shape()...), G.WithValue(randTensor(rng, out.Shape()...)), G.WithName("r"))
		loss = G.Must(G.Sum(G.Must(G.HadamardProd(out, r))))
	}
	var wrt G.Nodes
	var idx []int
	for i, d := range c.diff {
		if d {
			wrt = append(wrt, nodes[i])
			idx = append(idx, i)
		}
	}
	grads, err := G.Grad(loss, wrt...)
	if err != nil {
		t.Fatalf("%s: Grad: %v", c.name, err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	eval := func() float64 {
		m.Reset()
		if err := m.RunAll(); err != nil {
			t.Fatalf("%s: run: %v", c.name, err)
		}
		return loss.Value().Data().(float64)
	}
	eval()
	analytic := make([][]float64, len(grads))
	for i, gn := range grads {
		analytic[i] = append([]float64(nil), gn.Value().Data().([]float64)...)
	}
	const h = 1e-5
	for gi, i := range idx {
		data := c.inputs[i].Data().([]float64)
		picks := rng.Perm(len(data))
		if len(picks) > 40 {
			picks = picks[:40]
		}
		var num2, diff2 float64
		for _, j := range picks {
			orig := data[j]
			data[j] = orig + h
			up := eval()
			data[j] = orig - h
			down := eval()
			data[j] = orig
			num := (up - down) / (2 * h)
			num2 += num * num
			d := num - analytic[gi][j]
			diff2 += d * d
		}
		rel := math.Sqrt(diff2) / math.Max(math.Sqrt(num2), 1e-12)
		if rel > tol || math.IsNaN(rel) {
			t.Errorf("%s: gradient of input %d: relative error %.3g > %.3g", c.name, i, rel, tol)
		}
	}
}
