package unet

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// naiveGroupNorm normalises each (image, group) the slow obvious way; groups == c with
// batch == true pools each channel over the whole batch instead (batch norm).
func naiveNorm(x, gamma, beta []float64, n, c, hw, groups int, batch bool, eps float64) []float64 {
	out := make([]float64, len(x))
	var sets [][]int // element indices of each set
	if batch {
		for ch := 0; ch < c; ch++ {
			var s []int
			for i := 0; i < n; i++ {
				for p := 0; p < hw; p++ {
					s = append(s, (i*c+ch)*hw+p)
				}
			}
			sets = append(sets, s)
		}
	} else {
		cpg := c / groups
		for i := 0; i < n; i++ {
			for gr := 0; gr < groups; gr++ {
				var s []int
				for ch := gr * cpg; ch < (gr+1)*cpg; ch++ {
					for p := 0; p < hw; p++ {
						s = append(s, (i*c+ch)*hw+p)
					}
				}
				sets = append(sets, s)
			}
		}
	}
	for _, s := range sets {
		var mean, v float64
		for _, j := range s {
			mean += x[j]
		}
		mean /= float64(len(s))
		for _, j := range s {
			v += (x[j] - mean) * (x[j] - mean)
		}
		v /= float64(len(s))
		for _, j := range s {
			ch := j / hw % c
			out[j] = (x[j]-mean)/math.Sqrt(v+eps)*gamma[ch] + beta[ch]
		}
	}
	return out
}

var normCases = []struct{ n, c, h, w, groups int }{
	{2, 4, 3, 5, 2},
	{3, 6, 4, 4, 3},
	{4, 16, 128, 128, 4}, // groups of 65536 elements: where gorgonia's GroupNorm is wrong
	{1, 8, 2, 2, 8},      // one channel per group (instance norm)
}

func TestNormForward(t *testing.T) {
	for _, tc := range normCases {
		rng := rand.New(rand.NewSource(4))
		x := randTensor(rng, tc.n, tc.c, tc.h, tc.w)
		// An offset far from zero: the statistics must not lose digits to it.
		xd := x.Data().([]float64)
		for i := range xd {
			xd[i] = xd[i]*3 + 100
		}
		gamma, beta := randTensor(rng, tc.c), randTensor(rng, tc.c)
		for _, batch := range []bool{true, false} {
			for _, relu := range []bool{false, true} {
				want := naiveNorm(xd, gamma.Data().([]float64), beta.Data().([]float64), tc.n, tc.c, tc.h*tc.w, tc.groups, batch, 1e-5)
				if relu {
					for i, v := range want {
						want[i] = math.Max(v, 0)
					}
				}
				got := runGraph(t, func(g *G.ExprGraph) (*G.Node, error) {
					x, gm, b := node(g, x, "x"), node(g, gamma, "g"), node(g, beta, "b")
					switch {
					case batch && relu:
						return BatchNormReLU(x, gm, b, 1e-5, nil)
					case batch:
						return BatchNorm(x, gm, b, 1e-5, nil)
					case relu:
						return GroupNormReLU(x, gm, b, tc.groups, 1e-5)
					}
					return GroupNorm(x, gm, b, tc.groups, 1e-5)
				})
				if d := maxAbsDiff(got.Data().([]float64), want); d > 1e-10 {
					t.Errorf("%+v batch=%v relu=%v: max difference %g from the naive loop", tc, batch, relu, d)
				}
			}
		}
	}
}

func TestNormGradients(t *testing.T) {
	for _, tc := range normCases[:2] {
		for _, batch := range []bool{true, false} {
			tc, batch := tc, batch
			rng := rand.New(rand.NewSource(5))
			checkGrad(t, gradCase{
				name:   fmt.Sprintf("norm%+v/batch=%v", tc, batch),
				inputs: []*tensor.Dense{randTensor(rng, tc.n, tc.c, tc.h, tc.w), randTensor(rng, tc.c), randTensor(rng, tc.c)},
				diff:   []bool{true, true, true},
				build: func(in []*G.Node) (*G.Node, error) {
					if batch {
						return BatchNorm(in[0], in[1], in[2], 1e-5, nil)
					}
					return GroupNorm(in[0], in[1], in[2], tc.groups, 1e-5)
				},
			}, 1e-6)
			// Fused with a ReLU, which cuts about half of the outputs here.
			checkGrad(t, gradCase{
				name:   fmt.Sprintf("normReLU%+v/batch=%v", tc, batch),
				inputs: []*tensor.Dense{randTensor(rng, tc.n, tc.c, tc.h, tc.w), randTensor(rng, tc.c), randTensor(rng, tc.c)},
				diff:   []bool{true, true, true},
				build: func(in []*G.Node) (*G.Node, error) {
					if batch {
						return BatchNormReLU(in[0], in[1], in[2], 1e-5, nil)
					}
					return GroupNormReLU(in[0], in[1], in[2], tc.groups, 1e-5)
				},
			}, 1e-6)
		}
	}
}

// TestBatchNormRunningStats checks the update against numbers worked out by hand: channel 0
// holds 1, 2, 3, 4 (mean 2.5, unbiased variance 5/3), channel 1 holds 0 everywhere.
func TestBatchNormRunningStats(t *testing.T) {
	x := tensor.New(tensor.WithShape(2, 2, 1, 2), tensor.WithBacking([]float32{1, 2, 0, 0, 3, 4, 0, 0}))
	gamma := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float32{1, 1}))
	beta := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float32{0, 0}))
	rs := &RunningStats{Mean: []float32{0, 1}, Var: []float32{1, 2}, Momentum: 0.1}
	g := G.NewGraph()
	out, err := BatchNorm(node(g, x, "x"), node(g, gamma, "g"), node(g, beta, "b"), 1e-5, rs)
	if err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	wantMean := []float64{0.9*0 + 0.1*2.5, 0.9 * 1}
	wantVar := []float64{0.9*1 + 0.1*5.0/3, 0.9 * 2}
	for c := 0; c < 2; c++ {
		if math.Abs(float64(rs.Mean[c])-wantMean[c]) > 1e-6 || math.Abs(float64(rs.Var[c])-wantVar[c]) > 1e-6 {
			t.Errorf("channel %d: running mean %v var %v, want %v %v", c, rs.Mean[c], rs.Var[c], wantMean[c], wantVar[c])
		}
	}
	// Normalised with the batch's biased variance 1.25: (1-2.5)/sqrt(1.25+1e-5).
	if got, want := out.Value().Data().([]float32)[0], -1.5/math.Sqrt(1.25+1e-5); math.Abs(float64(got)-want) > 1e-6 {
		t.Errorf("first output %v, want %v", got, want)
	}
}

func TestBatchNormInference(t *testing.T) {
	x := tensor.New(tensor.WithShape(1, 2, 1, 2), tensor.WithBacking([]float64{1, 2, 3, 4}))
	v := func(a, b float64) *tensor.Dense {
		return tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{a, b}))
	}
	got := runGraph(t, func(g *G.ExprGraph) (*G.Node, error) {
		return BatchNormInference(node(g, x, "x"), node(g, v(3, 1), "g"), node(g, v(0.5, 0), "b"), node(g, v(1, 3), "m"), node(g, v(4, 1), "v"), 0)
	}).Data().([]float64)
	// channel 0: (x-1)/2*3+0.5; channel 1: (x-3)/1*1. Channel 0's scale is not 1, so a
	// mean subtracted after scaling instead of before shows.
	want := []float64{0.5, 2, 0, 1}
	if d := maxAbsDiff(got, want); d > 1e-12 {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestReLU(t *testing.T) {
	x := tensor.New(tensor.WithShape(1, 1, 2, 2), tensor.WithBacking([]float64{-1, 0.5, 0, 2}))
	got := runGraph(t, func(g *G.ExprGraph) (*G.Node, error) { return ReLU(node(g, x, "x")) }).Data().([]float64)
	if d := maxAbsDiff(got, []float64{0, 0.5, 0, 2}); d != 0 {
		t.Errorf("ReLU gave %v", got)
	}
	rng := rand.New(rand.NewSource(6))
	checkGrad(t, gradCase{
		name:   "ReLU",
		inputs: []*tensor.Dense{randTensor(rng, 2, 3, 4, 5)},
		diff:   []bool{true},
		build:  func(in []*G.Node) (*G.Node, error) { return ReLU(in[0]) },
	}, 1e-7)
}

// TestReLUGrad32 checks the bit-masking float32 ReLU gradient against the plain rule on the
// values where a sign trick could go wrong: both zeros, the smallest subnormals, infinities.
func TestReLUGrad32(t *testing.T) {
	ys := []float32{-1, 1, 0, float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
		math.MaxFloat32, -math.MaxFloat32, float32(math.Inf(1)), float32(math.Inf(-1)), 0.5, -0.5}
	dy := make([]float32, len(ys))
	for i := range dy {
		dy[i] = float32(i) + 0.25
	}
	got := make([]float32, len(ys))
	reluGrad32(got, ys, dy)
	for i, y := range ys {
		want := float32(0)
		if y > 0 {
			want = dy[i]
		}
		if got[i] != want {
			t.Errorf("y=%v: gradient %v, want %v", y, got[i], want)
		}
	}
}
