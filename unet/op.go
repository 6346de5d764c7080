package unet

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// float is the element type every kernel of the package is written for: float32 in models,
// float64 in the gradient checks.
type float interface{ ~float32 | ~float64 }

// opBase gives the package's ops the gorgonia methods they all answer the same way. No op
// overwrites its inputs, which keeps them safe for the tape machine to reorder and reuse
// registers around. Each op writes its output into the same buffer at every step (out):
// a graph runs each op once per pass, and what a pass produced is read (logits, gradients)
// before the next pass starts, so the buffer is free again by then, and a step allocates
// almost nothing.
// The buffer lives in a slot shared with other ops when planBuffers has placed the op.
type opBase struct {
	out  *tensor.Dense
	slot *slot
}

// buffer gives the op's output tensor for this dtype and shape, reusing last step's.
func (b *opBase) buffer(dt tensor.Dtype, shape tensor.Shape) *tensor.Dense {
	if b.out == nil || b.out.Dtype() != dt || !b.out.Shape().Eq(shape) {
		if n := shape.TotalSize(); b.slot != nil && n <= b.slot.size {
			b.out = tensor.New(tensor.WithShape(shape.Clone()...), tensor.WithBacking(b.slot.backing(dt, n)))
		} else {
			b.out = tensor.New(tensor.Of(dt), tensor.WithShape(shape.Clone()...))
		}
	}
	return b.out
}

// buffered is an op that keeps its output buffer (every op of the package, as a pointer).
type buffered interface {
	buffer(dt tensor.Dtype, shape tensor.Shape) *tensor.Dense
}

func (opBase) ReturnsPtr() bool     { return false }
func (opBase) CallsExtern() bool    { return false }
func (opBase) OverwritesInput() int { return -1 }
func (opBase) DiffWRT(n int) []bool { return make([]bool, n) }
func (opBase) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("op is not differentiable")
}

// hashString makes an op's hash from its String, which by convention names the op and every
// parameter: gorgonia merges nodes whose ops hash equal and whose inputs are the same, so a
// parameter left out of the string would silently merge two different ops.
func hashString(h hash.Hash, s fmt.Stringer) { fmt.Fprint(h, s.String()) }

func hashCode(s fmt.Stringer) uint32 {
	h := fnv.New32a()
	hashString(h, s)
	return h.Sum32()
}

// fnType is the type of an op whose inputs are tensors of the given numbers of dimensions
// and whose output has the last number of dimensions (0 for a scalar), all of one dtype.
func fnType(dims ...int) hm.Type {
	a := hm.TypeVariable('a')
	ts := make([]hm.Type, len(dims))
	for i, d := range dims {
		if d == 0 {
			ts[i] = a
		} else {
			ts[i] = G.TensorType{Dims: d, Of: a}
		}
	}
	return hm.NewFnType(ts...)
}

// shapesOf turns InferShape's arguments into shapes.
func shapesOf(in []G.DimSizer) ([]tensor.Shape, error) {
	out := make([]tensor.Shape, len(in))
	for i, d := range in {
		s, ok := d.(tensor.Shape)
		if !ok {
			return nil, fmt.Errorf("input %d has no shape (%T)", i, d)
		}
		out[i] = s
	}
	return out, nil
}

// kernel computes an op's output into out from its inputs' elements and shapes.
type kernel[T float] func(out []T, in [][]T, shapes []tensor.Shape) error

// run is the Do of every op: it checks the inputs, reads their elements as one dtype,
// allocates the output of the shape the op infers, and calls the kernel for that dtype.
// Scalar outputs come back as gorgonia scalars, as the graph's type system expects.
func run(op G.Op, vals []G.Value, k32 kernel[float32], k64 kernel[float64]) (G.Value, error) {
	if len(vals) != op.Arity() {
		return nil, fmt.Errorf("%v: %d inputs, want %d", op, len(vals), op.Arity())
	}
	shapes := make([]tensor.Shape, len(vals))
	dims := make([]G.DimSizer, len(vals))
	var dt tensor.Dtype
	for i, v := range vals {
		if d, ok := v.(*tensor.Dense); ok && d.IsMaterializable() {
			vals[i] = d.Materialize().(*tensor.Dense)
		}
		shapes[i] = vals[i].Shape()
		dims[i] = shapes[i]
		if i == 0 {
			dt = vals[i].Dtype()
		} else if vals[i].Dtype() != dt {
			return nil, fmt.Errorf("%v: input %d is %v, input 0 is %v", op, i, vals[i].Dtype(), dt)
		}
	}
	outShape, err := op.InferShape(dims...)
	if err != nil {
		return nil, err
	}
	var out *tensor.Dense
	if b, ok := op.(buffered); ok && !outShape.IsScalar() {
		out = b.buffer(dt, outShape)
	}
	switch dt {
	case tensor.Float32:
		return runT(outShape, vals, shapes, out, k32)
	case tensor.Float64:
		return runT(outShape, vals, shapes, out, k64)
	}
	return nil, fmt.Errorf("%v: dtype %v is not supported", op, dt)
}

func runT[T float](outShape tensor.Shape, vals []G.Value, shapes []tensor.Shape, buf *tensor.Dense, k kernel[T]) (G.Value, error) {
	in := make([][]T, len(vals))
	for i, v := range vals {
		switch d := v.Data().(type) {
		case []T:
			in[i] = d
		case T:
			in[i] = []T{d}
		default:
			return nil, fmt.Errorf("input %d holds %T", i, d)
		}
	}
	if outShape.IsScalar() {
		out := make([]T, 1)
		if err := k(out, in, shapes); err != nil {
			return nil, err
		}
		switch o := any(out[0]).(type) {
		case float32:
			return G.NewF32(o), nil
		case float64:
			return G.NewF64(o), nil
		}
	}
	if buf == nil {
		buf = tensor.New(tensor.WithShape(outShape.Clone()...), tensor.WithBacking(make([]T, outShape.TotalSize())))
	}
	if err := k(buf.Data().([]T), in, shapes); err != nil {
		return nil, err
	}
	return buf, nil
}

// nchw unpacks a 4-D shape.
func nchw(s tensor.Shape) (n, c, h, w int) { return s[0], s[1], s[2], s[3] }

// need4D checks that a shape is NCHW.
func need4D(op fmt.Stringer, s tensor.Shape, what string) error {
	if len(s) != 4 {
		return fmt.Errorf("%v: %s must be 4-D (NCHW), has shape %v", op, what, s)
	}
	return nil
}
