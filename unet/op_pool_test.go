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

// TestMaxPoolTiesAndNaN compares the pool and its gradient with a plain loop on data full
// of ties and NaNs, for the unrolled 2x2 window and the general one: the gradient must go
// to the first maximum in reading order, and a NaN counts as the maximum.
func TestMaxPoolTiesAndNaN(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for _, k := range []int{2, 3} {
		n, c, h, w := 2, 3, 6*k, 4*k
		x := make([]float64, n*c*h*w)
		for i := range x {
			x[i] = float64(rng.Intn(3))
			if rng.Intn(20) == 0 {
				x[i] = math.NaN()
			}
		}
		oh, ow := h/k, w/k
		dy := make([]float64, n*c*oh*ow)
		for i := range dy {
			dy[i] = rng.Float64()
		}
		wantY := make([]float64, len(dy))
		wantDx := make([]float64, len(x))
		for p := 0; p < n*c; p++ {
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					best := -1
					for i := 0; i < k*k; i++ {
						at := p*h*w + (oy*k+i/k)*w + ox*k + i%k
						if best < 0 || (!math.IsNaN(x[best]) && (math.IsNaN(x[at]) || x[at] > x[best])) {
							best = at
						}
					}
					o := (p*oh+oy)*ow + ox
					wantY[o] = x[best]
					wantDx[best] += dy[o]
				}
			}
		}
		xt := tensor.New(tensor.WithShape(n, c, h, w), tensor.WithBacking(x))
		dyt := tensor.New(tensor.WithShape(n, c, oh, ow), tensor.WithBacking(dy))
		y := runGraph(t, func(g *G.ExprGraph) (*G.Node, error) { return MaxPool(node(g, xt, "x"), k) }).Data().([]float64)
		dx := runGraph(t, func(g *G.ExprGraph) (*G.Node, error) {
			return G.ApplyOp(&poolOp{k: k, grad: true}, node(g, xt, "x"), node(g, dyt, "dy"))
		}).Data().([]float64)
		for i := range wantY {
			if math.Float64bits(y[i]) != math.Float64bits(wantY[i]) && !(math.IsNaN(y[i]) && math.IsNaN(wantY[i])) {
				t.Fatalf("k=%d: y[%d] = %v, want %v", k, i, y[i], wantY[i])
			}
		}
		for i := range wantDx {
			if dx[i] != wantDx[i] {
				t.Fatalf("k=%d: dx[%d] = %v, want %v", k, i, dx[i], wantDx[i])
			}
		}
	}
}
