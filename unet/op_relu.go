package unet

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/segment-dev/segment/kernels"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ReLU is max(x, 0) elementwise, as one op with a one-op gradient (gorgonia builds it from
// a comparison and a product, two passes and two temporaries each way).
func ReLU(x *G.Node) (*G.Node, error) { return G.ApplyOp(&reluOp{dims: x.Dims()}, x) }

type reluOp struct {
	opBase
	dims int
}

func (op *reluOp) String() string        { return fmt.Sprintf("ReLU{%dD}", op.dims) }
func (op *reluOp) WriteHash(h hash.Hash) { hashString(h, op) }
func (op *reluOp) Hashcode() uint32      { return hashCode(op) }
func (op *reluOp) Arity() int            { return 1 }
func (op *reluOp) Type() hm.Type         { return fnType(op.dims, op.dims) }
func (op *reluOp) DiffWRT(int) []bool    { return []bool{true} }
func (op *reluOp) Do(v ...G.Value) (G.Value, error) {
	return run(op, v, reluDo[float32], reluDo[float64])
}

func (op *reluOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	return s[0].Clone(), nil
}

func reluDo[T float](out []T, in [][]T, _ []tensor.Shape) error {
	parallelRange(len(out), func(lo, hi int) {
		for i, v := range in[0][lo:hi] {
			out[lo+i] = max(v, 0)
		}
	})
	return nil
}

func (op *reluOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(&reluGradOp{dims: op.dims}, out, grad)
	return G.Nodes{dx}, err
}

// reluGradOp passes the output gradient where the ReLU's output is positive.
type reluGradOp struct {
	opBase
	dims int
}

func (op *reluGradOp) String() string        { return fmt.Sprintf("ReLUGrad{%dD}", op.dims) }
func (op *reluGradOp) WriteHash(h hash.Hash) { hashString(h, op) }
func (op *reluGradOp) Hashcode() uint32      { return hashCode(op) }
func (op *reluGradOp) Arity() int            { return 2 }
func (op *reluGradOp) Type() hm.Type         { return fnType(op.dims, op.dims, op.dims) }
func (op *reluGradOp) Do(v ...G.Value) (G.Value, error) {
	return run(op, v, reluGradDo[float32], reluGradDo[float64])
}

func (op *reluGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	if !s[0].Eq(s[1]) {
		return nil, fmt.Errorf("%v: output %v and gradient %v differ", op, s[0], s[1])
	}
	return s[0].Clone(), nil
}

func reluGradDo[T float](out []T, in [][]T, _ []tensor.Shape) error {
	parallelRange(len(out), func(lo, hi int) { reluGrad(out[lo:hi], in[0][lo:hi], in[1][lo:hi]) })
	return nil
}

// reluGrad sets dx to dy where y > 0 and to 0 elsewhere. The sign of activations is a coin
// toss, so a branch on it mispredicts half the time; float32 (every model) masks the bits
// instead.
func reluGrad[T float](dx, y, dy []T) {
	y, dy = y[:len(dx)], dy[:len(dx)]
	if d32, ok := any(dx).([]float32); ok {
		reluGrad32(d32, any(y).([]float32), any(dy).([]float32))
		return
	}
	for i, v := range y {
		d := dy[i]
		if !(v > 0) {
			d = 0
		}
		dx[i] = d
	}
}

// reluGrad32 is reluGrad in float32 by the sign of y as an int32 (kernels.ReLUGrad): a
// NaN with a clear sign bit, where the pass has gone to NaN already, lets the gradient
// through, and -0 does not, as the float64 test !(y > 0) would not.
func reluGrad32(dx, y, dy []float32) { kernels.ReLUGrad(dx, y, dy) }
