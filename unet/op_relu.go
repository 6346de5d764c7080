package unet

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
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
	parallelRange(len(out), func(lo, hi int) {
		y, dy, o := in[0][lo:hi], in[1][lo:hi], out[lo:hi]
		for i, v := range y {
			if v > 0 {
				o[i] = dy[i]
			} else {
				o[i] = 0
			}
		}
	})
	return nil
}
