package unet

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ConcatChannels joins a [N, Ca, H, W] and b [N, Cb, H, W] into [N, Ca+Cb, H, W], a's
// channels first: the U-Net's skip join, torch.cat([skip, up], 1). It copies whole planes
// where gorgonia's Concat walks the tensors element by element with an iterator.
func ConcatChannels(a, b *G.Node) (*G.Node, error) { return G.ApplyOp(&concatOp{}, a, b) }

type concatOp struct{ opBase }

func (*concatOp) String() string           { return "ConcatChannels" }
func (op *concatOp) WriteHash(h hash.Hash) { hashString(h, op) }
func (op *concatOp) Hashcode() uint32      { return hashCode(op) }
func (*concatOp) Arity() int               { return 2 }
func (*concatOp) Type() hm.Type            { return fnType(4, 4, 4) }
func (*concatOp) DiffWRT(int) []bool       { return []bool{true, true} }

func (op *concatOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	if err := need4D(op, s[0], "first input"); err != nil {
		return nil, err
	}
	if err := need4D(op, s[1], "second input"); err != nil {
		return nil, err
	}
	a, b := s[0], s[1]
	if a[0] != b[0] || a[2] != b[2] || a[3] != b[3] {
		return nil, fmt.Errorf("%v: shapes %v and %v differ beyond the channels", op, a, b)
	}
	return tensor.Shape{a[0], a[1] + b[1], a[2], a[3]}, nil
}

func (op *concatOp) Do(v ...G.Value) (G.Value, error) {
	return run(op, v, concatDo[float32], concatDo[float64])
}

func concatDo[T float](out []T, in [][]T, s []tensor.Shape) error {
	n := s[0][0]
	ea, eb := len(in[0])/n, len(in[1])/n // elements of one image of a and of b
	for i := 0; i < n; i++ {
		copy(out[i*(ea+eb):], in[0][i*ea:(i+1)*ea])
		copy(out[i*(ea+eb)+ea:], in[1][i*eb:(i+1)*eb])
	}
	return nil
}

func (op *concatOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	ca := in[0].Shape()[1]
	da, err := G.ApplyOp(&sliceOp{from: 0, to: ca}, grad)
	if err != nil {
		return nil, err
	}
	db, err := G.ApplyOp(&sliceOp{from: ca, to: ca + in[1].Shape()[1]}, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{da, db}, nil
}

// sliceOp takes channels [from, to) of a [N, C, H, W] tensor: the gradient of a concatenation.
type sliceOp struct {
	opBase
	from, to int
}

func (op *sliceOp) String() string        { return fmt.Sprintf("SliceChannels{%d:%d}", op.from, op.to) }
func (op *sliceOp) WriteHash(h hash.Hash) { hashString(h, op) }
func (op *sliceOp) Hashcode() uint32      { return hashCode(op) }
func (*sliceOp) Arity() int               { return 1 }
func (*sliceOp) Type() hm.Type            { return fnType(4, 4) }

func (op *sliceOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	if err := need4D(op, s[0], "input"); err != nil {
		return nil, err
	}
	if op.from < 0 || op.to > s[0][1] || op.from >= op.to {
		return nil, fmt.Errorf("%v: input %v", op, s[0])
	}
	return tensor.Shape{s[0][0], op.to - op.from, s[0][2], s[0][3]}, nil
}

func (op *sliceOp) Do(v ...G.Value) (G.Value, error) {
	return run(op, v, sliceDo[float32](op), sliceDo[float64](op))
}

func sliceDo[T float](op *sliceOp) kernel[T] {
	return func(out []T, in [][]T, s []tensor.Shape) error {
		n, c, h, w := nchw(s[0])
		plane := h * w
		k := (op.to - op.from) * plane
		for i := 0; i < n; i++ {
			copy(out[i*k:(i+1)*k], in[0][(i*c+op.from)*plane:])
		}
		return nil
	}
}
