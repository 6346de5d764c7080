package unet

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ConvBNReLU is the inference form of 3x3 convolution => batch norm => ReLU in one op:
// conv(x, w) scaled and shifted per channel by the running statistics, then (with relu)
// clipped at zero, in the convolution's output pass. It saves the two passes over the
// activations and their buffers that the separate ops take. The scale and shift are made
// from gamma, beta, mean and variance at every pass, so training the shared weights is seen
// at once. It is not differentiable: training graphs use the separate ops.
func ConvBNReLU(x, w, gamma, beta, mean, variance *G.Node, pad int, eps float64, relu bool) (*G.Node, error) {
	op := &convBNOp{conv: convOp{k: w.Shape()[2], s: 1, p: pad}, eps: eps, relu: relu}
	return G.ApplyOp(op, x, w, gamma, beta, mean, variance)
}

type convBNOp struct {
	opBase
	conv convOp
	eps  float64
	relu bool
}

func (op *convBNOp) String() string {
	return fmt.Sprintf("ConvBNReLU{%v,eps=%g,relu=%v}", &op.conv, op.eps, op.relu)
}
func (op *convBNOp) WriteHash(h hash.Hash) { hashString(h, op) }
func (op *convBNOp) Hashcode() uint32      { return hashCode(op) }
func (op *convBNOp) Arity() int            { return 6 }
func (op *convBNOp) Type() hm.Type         { return fnType(4, 4, 1, 1, 1, 1, 4) }

func (op *convBNOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	out, err := op.conv.InferShape(in[:2]...)
	if err != nil {
		return nil, err
	}
	s, err := shapesOf(in[2:])
	if err != nil {
		return nil, err
	}
	for i, v := range s {
		if len(v) != 1 || v[0] != out[1] {
			return nil, fmt.Errorf("%v: input %d has shape %v, want [%d]", op, i+2, v, out[1])
		}
	}
	return out, nil
}

func (op *convBNOp) Do(vals ...G.Value) (G.Value, error) {
	return run(op, vals, convBNDo[float32](op), convBNDo[float64](op))
}

func convBNDo[T float](op *convBNOp) kernel[T] {
	return func(out []T, in [][]T, s []tensor.Shape) error {
		if convModeErr != nil {
			return convModeErr
		}
		g, co, err := op.conv.geom(s[0], s[1])
		if err != nil {
			return err
		}
		gamma, beta, mean, variance := in[2], in[3], in[4], in[5]
		ep := &epilogue[T]{scale: make([]T, co), shift: make([]T, co), relu: op.relu}
		for ch := range co {
			a := float64(gamma[ch]) / math.Sqrt(float64(variance[ch])+op.eps)
			ep.scale[ch], ep.shift[ch] = T(a), T(float64(beta[ch])-float64(mean[ch])*a)
		}
		convForward(g, co, s[0][0], in[0], in[1], out, ep)
		return nil
	}
}
