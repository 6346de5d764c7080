package unet

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	"github.com/segment-dev/segment/internal/parallel"
	"github.com/segment-dev/segment/kernels"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// RunningStats are a batch norm's running mean and variance, the statistics it normalises
// with at inference. A training graph updates them in place on every forward pass.
type RunningStats struct {
	Mean, Var []float32
	Momentum  float64 // the weight of the new batch, 0.1 in PyTorch
}

// BatchNorm normalises x [N, C, H, W] per channel with the statistics of this batch (biased
// variance, as PyTorch in training mode), then scales by gamma [C] and shifts by beta [C].
// When stats is not nil every forward pass also moves the running statistics towards the
// batch's mean and unbiased variance, by the momentum.
func BatchNorm(x, gamma, beta *G.Node, eps float64, stats *RunningStats) (*G.Node, error) {
	return norm(x, gamma, beta, eps, 0, stats, false)
}

// BatchNormReLU is ReLU(BatchNorm(x, ...)) as one op each way: the normalised tensor is never
// written out, and the backward pass masks the gradient as it reads it instead of in a pass
// of its own.
func BatchNormReLU(x, gamma, beta *G.Node, eps float64, stats *RunningStats) (*G.Node, error) {
	return norm(x, gamma, beta, eps, 0, stats, true)
}

// GroupNormReLU is ReLU(GroupNorm(x, ...)), fused as BatchNormReLU is.
func GroupNormReLU(x, gamma, beta *G.Node, groups int, eps float64) (*G.Node, error) {
	if c := x.Shape()[1]; groups < 1 || c%groups != 0 {
		return nil, fmt.Errorf("GroupNorm: %d groups do not divide %d channels", groups, c)
	}
	return norm(x, gamma, beta, eps, groups, nil, true)
}

func norm(x, gamma, beta *G.Node, eps float64, groups int, stats *RunningStats, relu bool) (*G.Node, error) {
	st, err := G.ApplyOp(&normStatsOp{eps: eps, groups: groups, running: stats}, x)
	if err != nil {
		return nil, err
	}
	return G.ApplyOp(&normOp{eps: eps, groups: groups, relu: relu}, x, gamma, beta, st)
}

// GroupNorm normalises x [N, C, H, W] over each of groups groups of channels of each image
// (Wu and He, 2018; PyTorch's GroupNorm), then scales by gamma [C] and shifts by beta [C].
func GroupNorm(x, gamma, beta *G.Node, groups int, eps float64) (*G.Node, error) {
	if c := x.Shape()[1]; groups < 1 || c%groups != 0 {
		return nil, fmt.Errorf("GroupNorm: %d groups do not divide %d channels", groups, c)
	}
	return norm(x, gamma, beta, eps, groups, nil, false)
}

// BatchNormInference normalises x [N, C, H, W] with fixed statistics, as batch norm does at
// inference: (x - mean) / sqrt(var + eps) * gamma + beta, all per channel [C].
func BatchNormInference(x, gamma, beta, mean, variance *G.Node, eps float64) (*G.Node, error) {
	return G.ApplyOp(&bnInferOp{eps: eps}, x, gamma, beta, mean, variance)
}

// normGeom describes which elements a normalisation pools its statistics over. Each set of
// elements is a list of contiguous H*W blocks: for a batch norm set c, channel c of every
// image; for a group norm set (n, g), the channels of group g of image n.
type normGeom struct {
	n, c, hw int
	groups   int // 0: batch norm
}

func (g normGeom) sets() int {
	if g.groups == 0 {
		return g.c
	}
	return g.n * g.groups
}

func (g normGeom) setSize() int {
	if g.groups == 0 {
		return g.n * g.hw
	}
	return g.c / g.groups * g.hw
}

// blocks calls f with the offset and channel of each H*W block of a set.
func (g normGeom) blocks(set int, f func(off, ch int)) {
	if g.groups == 0 {
		for i := 0; i < g.n; i++ {
			f((i*g.c+set)*g.hw, set)
		}
		return
	}
	i, gr, cpg := set/g.groups, set%g.groups, g.c/g.groups
	for ch := gr * cpg; ch < (gr+1)*cpg; ch++ {
		f((i*g.c+ch)*g.hw, ch)
	}
}

// setStats gives a set's mean and biased variance, in float64 and in two passes, because the
// one-pass formula loses every digit when the mean is large against the spread.
func setStats[T float](g normGeom, x []T, set int) (mean, variance float64) {
	var s float64
	g.blocks(set, func(off, _ int) { s += sum64(x[off : off+g.hw]) })
	mean = s / float64(g.setSize())
	var ss float64
	g.blocks(set, func(off, _ int) { ss += sumSquares(x[off:off+g.hw], mean) })
	return mean, ss / float64(g.setSize())
}

// sumSquares is the sum of (v - mean)^2, with four accumulators so the additions overlap.
func sumSquares[T float](xs []T, mean float64) float64 {
	if x, ok := any(xs).([]float32); ok {
		return kernels.SumSquares(x, mean)
	}
	var a, b, c, d float64
	i := 0
	for ; i+4 <= len(xs); i += 4 {
		d0, d1, d2, d3 := float64(xs[i])-mean, float64(xs[i+1])-mean, float64(xs[i+2])-mean, float64(xs[i+3])-mean
		a += d0 * d0
		b += d1 * d1
		c += d2 * d2
		d += d3 * d3
	}
	for ; i < len(xs); i++ {
		v := float64(xs[i]) - mean
		a += v * v
	}
	return a + b + c + d
}

func normGeomOf(op fmt.Stringer, s tensor.Shape, groups int) (normGeom, error) {
	if err := need4D(op, s, "input"); err != nil {
		return normGeom{}, err
	}
	n, c, h, w := nchw(s)
	if groups > 0 && c%groups != 0 {
		return normGeom{}, fmt.Errorf("%v: %d groups do not divide %d channels", op, groups, c)
	}
	return normGeom{n: n, c: c, hw: h * w, groups: groups}, nil
}

func checkChannelVectors(op fmt.Stringer, s []tensor.Shape) error {
	c := s[0][1]
	for i, v := range s[1:] {
		if len(v) != 1 || v[0] != c {
			return fmt.Errorf("%v: input %d has shape %v, want [%d]", op, i+1, v, c)
		}
	}
	return nil
}

// normStatsOp computes the statistics a normalisation pools: the mean and 1/sqrt(var+eps) of
// each set, as [2*sets] (means first). The forward op and both gradient ops read them, so
// that they are computed once per step instead of three times. As batch norm in training
// it also moves the running statistics. Its gradient is part of the ops that use it (their
// formulas already count how the statistics depend on x), so it is not differentiated.
type normStatsOp struct {
	opBase
	eps     float64
	groups  int
	running *RunningStats
}

func (op *normStatsOp) String() string {
	return fmt.Sprintf("NormStats{eps=%g,groups=%d,running=%p}", op.eps, op.groups, op.running)
}
func (op *normStatsOp) WriteHash(h hash.Hash) { hashString(h, op) }
func (op *normStatsOp) Hashcode() uint32      { return hashCode(op) }
func (op *normStatsOp) Arity() int            { return 1 }
func (op *normStatsOp) Type() hm.Type         { return fnType(4, 1) }

func (op *normStatsOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	g, err := normGeomOf(op, s[0], op.groups)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{2 * g.sets()}, nil
}

func (op *normStatsOp) Do(vals ...G.Value) (G.Value, error) {
	return run(op, vals, normStatsDo[float32](op), normStatsDo[float64](op))
}

func normStatsDo[T float](op *normStatsOp) kernel[T] {
	return func(out []T, in [][]T, s []tensor.Shape) error {
		g, err := normGeomOf(op, s[0], op.groups)
		if err != nil {
			return err
		}
		sets := g.sets()
		parallel.For(sets, parallel.Workers(), func(set int) {
			mean, variance := setStats(g, in[0], set)
			out[set] = T(mean)
			out[sets+set] = T(1 / math.Sqrt(variance+op.eps))
			if r := op.running; r != nil && g.groups == 0 {
				m := r.Momentum
				unbiased := variance
				if n := g.setSize(); n > 1 {
					unbiased = variance * float64(n) / float64(n-1)
				}
				r.Mean[set] = float32((1-m)*float64(r.Mean[set]) + m*mean)
				r.Var[set] = float32((1-m)*float64(r.Var[set]) + m*unbiased)
			}
		})
		return nil
	}
}

// checkStats checks that a statistics input fits the geometry.
func checkStats(op fmt.Stringer, g normGeom, s tensor.Shape) error {
	if len(s) != 1 || s[0] != 2*g.sets() {
		return fmt.Errorf("%v: statistics %v, want [%d]", op, s, 2*g.sets())
	}
	return nil
}

// normOp is batch norm in training mode (groups == 0) or group norm, on x, gamma, beta and
// the statistics of x, followed by a ReLU when relu is set.
type normOp struct {
	opBase
	eps    float64
	groups int
	relu   bool
}

func (op *normOp) String() string {
	if op.groups == 0 {
		return fmt.Sprintf("BatchNorm{eps=%g,relu=%v}", op.eps, op.relu)
	}
	return fmt.Sprintf("GroupNorm{eps=%g,groups=%d,relu=%v}", op.eps, op.groups, op.relu)
}
func (op *normOp) WriteHash(h hash.Hash) { hashString(h, op) }
func (op *normOp) Hashcode() uint32      { return hashCode(op) }
func (op *normOp) Arity() int            { return 4 }
func (op *normOp) Type() hm.Type         { return fnType(4, 1, 1, 1, 4) }

func (op *normOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	g, err := normGeomOf(op, s[0], op.groups)
	if err != nil {
		return nil, err
	}
	if err := checkChannelVectors(op, s[:3]); err != nil {
		return nil, err
	}
	if err := checkStats(op, g, s[3]); err != nil {
		return nil, err
	}
	return s[0].Clone(), nil
}

func (op *normOp) Do(vals ...G.Value) (G.Value, error) {
	return run(op, vals, normDo[float32](op), normDo[float64](op))
}

func normDo[T float](op *normOp) kernel[T] {
	return func(out []T, in [][]T, s []tensor.Shape) error {
		g, err := normGeomOf(op, s[0], op.groups)
		if err != nil {
			return err
		}
		x, gamma, beta, st := in[0], in[1], in[2], in[3]
		sets := g.sets()
		parallel.For(sets, parallel.Workers(), func(set int) {
			mean, inv := float64(st[set]), float64(st[sets+set])
			g.blocks(set, func(off, ch int) {
				a := float64(gamma[ch]) * inv
				affineRelu(out[off:off+g.hw], x[off:off+g.hw], T(a), T(float64(beta[ch])-mean*a), op.relu)
			})
		})
		return nil
	}
}

func (op *normOp) DiffWRT(int) []bool { return []bool{true, true, true, false} }

// SymDiff gives the gradients with respect to x, gamma and beta. After a fused ReLU the
// gradient first goes through the ReLU's own gradient op.
func (op *normOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if op.relu {
		var err error
		if grad, err = G.ApplyOp(&reluGradOp{dims: 4}, out, grad); err != nil {
			return nil, err
		}
	}
	dx, err := G.ApplyOp(&normGradOp{eps: op.eps, groups: op.groups}, in[0], in[1], grad, in[3])
	if err != nil {
		return nil, err
	}
	dgamma, err := G.ApplyOp(&normGradOp{eps: op.eps, groups: op.groups, scale: true}, in[0], in[1], grad, in[3])
	if err != nil {
		return nil, err
	}
	dbeta, err := G.ApplyOp(&channelSumOp{}, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dgamma, dbeta, nil}, nil
}
