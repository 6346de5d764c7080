package unet

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
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
	return G.ApplyOp(&normOp{eps: eps, running: stats}, x, gamma, beta)
}

// GroupNorm normalises x [N, C, H, W] over each of groups groups of channels of each image
// (Wu and He, 2018; PyTorch's GroupNorm), then scales by gamma [C] and shifts by beta [C].
func GroupNorm(x, gamma, beta *G.Node, groups int, eps float64) (*G.Node, error) {
	if c := x.Shape()[1]; groups < 1 || c%groups != 0 {
		return nil, fmt.Errorf("GroupNorm: %d groups do not divide %d channels", groups, c)
	}
	return G.ApplyOp(&normOp{eps: eps, groups: groups}, x, gamma, beta)
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

// stats gives a set's mean and biased variance, in float64 and in two passes, because the
// one-pass formula loses every digit when the mean is large against the spread.
func setStats[T float](g normGeom, x []T, set int) (mean, variance float64) {
	var s float64
	g.blocks(set, func(off, _ int) {
		for _, v := range x[off : off+g.hw] {
			s += float64(v)
		}
	})
	mean = s / float64(g.setSize())
	var ss float64
	g.blocks(set, func(off, _ int) {
		for _, v := range x[off : off+g.hw] {
			d := float64(v) - mean
			ss += d * d
		}
	})
	return mean, ss / float64(g.setSize())
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

// normOp is batch norm in training mode (groups == 0) or group norm, on x, gamma, beta.
type normOp struct {
	opBase
	eps     float64
	groups  int
	running *RunningStats
}

func (op *normOp) String() string {
	if op.groups == 0 {
		return fmt.Sprintf("BatchNorm{eps=%g,running=%p}", op.eps, op.running)
	}
	return fmt.Sprintf("GroupNorm{eps=%g,groups=%d}", op.eps, op.groups)
}
func (op *normOp) WriteHash(h hash.Hash) { hashString(h, op) }
func (op *normOp) Hashcode() uint32      { return hashCode(op) }
func (op *normOp) Arity() int            { return 3 }
func (op *normOp) Type() hm.Type         { return fnType(4, 1, 1, 4) }

func (op *normOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	if _, err := normGeomOf(op, s[0], op.groups); err != nil {
		return nil, err
	}
	if err := checkChannelVectors(op, s); err != nil {
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
		x, gamma, beta := in[0], in[1], in[2]
		for set := 0; set < g.sets(); set++ {
			mean, variance := setStats(g, x, set)
			inv := 1 / math.Sqrt(variance+op.eps)
			g.blocks(set, func(off, ch int) {
				a := float64(gamma[ch]) * inv
				b := float64(beta[ch]) - mean*a
				src, dst := x[off:off+g.hw], out[off:off+g.hw]
				for i, v := range src {
					dst[i] = T(float64(v)*a + b)
				}
			})
			if r := op.running; r != nil && g.groups == 0 {
				m := r.Momentum
				unbiased := variance
				if n := g.setSize(); n > 1 {
					unbiased = variance * float64(n) / float64(n-1)
				}
				r.Mean[set] = float32((1-m)*float64(r.Mean[set]) + m*mean)
				r.Var[set] = float32((1-m)*float64(r.Var[set]) + m*unbiased)
			}
		}
		return nil
	}
}

func (op *normOp) DiffWRT(int) []bool { return []bool{true, true, true} }

func (op *normOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(&normGradOp{eps: op.eps, groups: op.groups}, in[0], in[1], grad)
	if err != nil {
		return nil, err
	}
	dgamma, err := G.ApplyOp(&normGradOp{eps: op.eps, groups: op.groups, scale: true}, in[0], in[1], grad)
	if err != nil {
		return nil, err
	}
	dbeta, err := G.ApplyOp(channelSumOp{}, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dgamma, dbeta}, nil
}

// normGradOp is a normalisation's gradient with respect to its input (scale false) or its
// scale gamma (scale true), from x, gamma and the output gradient dy. It recomputes the
// statistics from x rather than keeping them from the forward pass, so that the ops stay
// free of state shared between forward and backward.
type normGradOp struct {
	opBase
	eps    float64
	groups int
	scale  bool
}

func (op *normGradOp) String() string {
	wrt := "input"
	if op.scale {
		wrt = "scale"
	}
	return fmt.Sprintf("NormGrad{eps=%g,groups=%d,wrt=%s}", op.eps, op.groups, wrt)
}
func (op *normGradOp) WriteHash(h hash.Hash) { hashString(h, op) }
func (op *normGradOp) Hashcode() uint32      { return hashCode(op) }
func (op *normGradOp) Arity() int            { return 3 }
func (op *normGradOp) Type() hm.Type {
	if op.scale {
		return fnType(4, 1, 4, 1)
	}
	return fnType(4, 1, 4, 4)
}

func (op *normGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	if _, err := normGeomOf(op, s[0], op.groups); err != nil {
		return nil, err
	}
	if !s[2].Eq(s[0]) {
		return nil, fmt.Errorf("%v: output gradient %v, input %v", op, s[2], s[0])
	}
	if op.scale {
		return tensor.Shape{s[0][1]}, nil
	}
	return s[0].Clone(), nil
}

func (op *normGradOp) Do(vals ...G.Value) (G.Value, error) {
	return run(op, vals, normGradDo[float32](op), normGradDo[float64](op))
}

// normGradDo: with xhat the normalised input and g = dy * gamma, a set of M elements has
// dx = invstd * (g - mean(g) - xhat * mean(g * xhat)) and dgamma[c] = sum over c of dy * xhat.
func normGradDo[T float](op *normGradOp) kernel[T] {
	return func(out []T, in [][]T, s []tensor.Shape) error {
		g, err := normGeomOf(op, s[0], op.groups)
		if err != nil {
			return err
		}
		x, gamma, dy := in[0], in[1], in[2]
		if op.scale {
			clear(out)
		}
		m := float64(g.setSize())
		for set := 0; set < g.sets(); set++ {
			mean, variance := setStats(g, x, set)
			inv := 1 / math.Sqrt(variance+op.eps)
			if op.scale {
				g.blocks(set, func(off, ch int) {
					var acc float64
					for i, v := range x[off : off+g.hw] {
						acc += float64(dy[off+i]) * (float64(v) - mean) * inv
					}
					out[ch] += T(acc)
				})
				continue
			}
			var sg, sgx float64
			g.blocks(set, func(off, ch int) {
				gm := float64(gamma[ch])
				for i, v := range x[off : off+g.hw] {
					gi := float64(dy[off+i]) * gm
					sg += gi
					sgx += gi * (float64(v) - mean) * inv
				}
			})
			sg /= m
			sgx /= m
			g.blocks(set, func(off, ch int) {
				gm := float64(gamma[ch])
				for i, v := range x[off : off+g.hw] {
					xhat := (float64(v) - mean) * inv
					out[off+i] = T(inv * (float64(dy[off+i])*gm - sg - xhat*sgx))
				}
			})
		}
		return nil
	}
}

// bnInferOp is batch norm at inference, on x, gamma, beta, running mean and running variance.
type bnInferOp struct {
	opBase
	eps float64
}

func (op *bnInferOp) String() string        { return fmt.Sprintf("BatchNormInference{eps=%g}", op.eps) }
func (op *bnInferOp) WriteHash(h hash.Hash) { hashString(h, op) }
func (op *bnInferOp) Hashcode() uint32      { return hashCode(op) }
func (op *bnInferOp) Arity() int            { return 5 }
func (op *bnInferOp) Type() hm.Type         { return fnType(4, 1, 1, 1, 1, 4) }

func (op *bnInferOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	if err := need4D(op, s[0], "input"); err != nil {
		return nil, err
	}
	if err := checkChannelVectors(op, s); err != nil {
		return nil, err
	}
	return s[0].Clone(), nil
}

func (op *bnInferOp) Do(vals ...G.Value) (G.Value, error) {
	return run(op, vals, bnInferDo[float32](op), bnInferDo[float64](op))
}

func bnInferDo[T float](op *bnInferOp) kernel[T] {
	return func(out []T, in [][]T, s []tensor.Shape) error {
		n, c, h, w := nchw(s[0])
		x, gamma, beta, mean, variance := in[0], in[1], in[2], in[3], in[4]
		for ch := 0; ch < c; ch++ {
			a := float64(gamma[ch]) / math.Sqrt(float64(variance[ch])+op.eps)
			b := float64(beta[ch]) - float64(mean[ch])*a
			for i := 0; i < n; i++ {
				off := (i*c + ch) * h * w
				affine(out[off:off+h*w], x[off:off+h*w], T(a), T(b))
			}
		}
		return nil
	}
}

func affine[T float](dst, src []T, a, b T) {
	for i, v := range src {
		dst[i] = v*a + b
	}
}
