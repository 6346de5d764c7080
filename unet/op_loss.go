package unet

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BCEWithLogits is the mean binary cross-entropy between sigmoid(logits) and target, both
// [N, 1, H, W], computed from the logits directly so that it stays finite for any logit.
// Target pixels below zero (the data set's ignore value) count for nothing.
func BCEWithLogits(logits, target *G.Node) (*G.Node, error) {
	return G.ApplyOp(&lossOp{kind: lossBCE}, logits, target)
}

// CrossEntropy is the mean softmax cross-entropy of logits [N, C, H, W] against target
// [N, H, W], which holds class indices as floats. Target pixels below zero are ignored and
// the mean is over the others, as PyTorch's ignore_index does.
func CrossEntropy(logits, target *G.Node) (*G.Node, error) {
	return G.ApplyOp(&lossOp{kind: lossCE}, logits, target)
}

type lossKind int

const (
	lossBCE lossKind = iota
	lossCE
)

func (k lossKind) String() string { return [...]string{"BCEWithLogits", "CrossEntropy"}[k] }

// targetDims is the rank of the target the loss takes.
func (k lossKind) targetDims() int {
	if k == lossCE {
		return 3
	}
	return 4
}

func (k lossKind) checkShapes(op fmt.Stringer, logits, target tensor.Shape) error {
	if err := need4D(op, logits, "logits"); err != nil {
		return err
	}
	n, c, h, w := nchw(logits)
	want := tensor.Shape{n, 1, h, w}
	if k == lossCE {
		want = tensor.Shape{n, h, w}
	} else if c != 1 {
		return fmt.Errorf("%v: logits %v must have one channel", op, logits)
	}
	if !target.Eq(want) {
		return fmt.Errorf("%v: target %v, want %v for logits %v", op, target, want, logits)
	}
	return nil
}

// lossOp is a mean loss of logits against a target: a scalar.
type lossOp struct {
	opBase
	kind lossKind
}

func (op *lossOp) String() string        { return op.kind.String() }
func (op *lossOp) WriteHash(h hash.Hash) { hashString(h, op) }
func (op *lossOp) Hashcode() uint32      { return hashCode(op) }
func (op *lossOp) Arity() int            { return 2 }
func (op *lossOp) Type() hm.Type         { return fnType(4, op.kind.targetDims(), 0) }
func (op *lossOp) DiffWRT(int) []bool    { return []bool{true, false} }

func (op *lossOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	return tensor.ScalarShape(), op.kind.checkShapes(op, s[0], s[1])
}

func (op *lossOp) Do(v ...G.Value) (G.Value, error) {
	return run(op, v, lossDo[float32](op.kind, false), lossDo[float64](op.kind, false))
}

func (op *lossOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(&lossGradOp{kind: op.kind}, in[0], in[1], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, nil}, nil
}

// lossGradOp is the gradient of a lossOp with respect to the logits, from logits, target
// and the gradient of the loss.
type lossGradOp struct {
	opBase
	kind lossKind
}

func (op *lossGradOp) String() string        { return op.kind.String() + "Grad" }
func (op *lossGradOp) WriteHash(h hash.Hash) { hashString(h, op) }
func (op *lossGradOp) Hashcode() uint32      { return hashCode(op) }
func (op *lossGradOp) Arity() int            { return 3 }
func (op *lossGradOp) Type() hm.Type         { return fnType(4, op.kind.targetDims(), 0, 4) }

func (op *lossGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	return s[0].Clone(), op.kind.checkShapes(op, s[0], s[1])
}

func (op *lossGradOp) Do(v ...G.Value) (G.Value, error) {
	return run(op, v, lossDo[float32](op.kind, true), lossDo[float64](op.kind, true))
}

// lossDo computes the loss (grad false, out has one element) or its gradient with respect to
// the logits (grad true, scaled by the loss's own gradient, in[2][0]).
func lossDo[T float](kind lossKind, grad bool) kernel[T] {
	return func(out []T, in [][]T, s []tensor.Shape) error {
		z, t := in[0], in[1]
		n, c, h, w := nchw(s[0])
		hw := h * w
		count := 0
		for _, v := range t {
			if v >= 0 {
				count++
			}
		}
		if grad {
			clear(out)
		}
		if count == 0 {
			if !grad {
				out[0] = 0
			}
			return nil
		}
		var scale float64
		if grad {
			scale = float64(in[2][0]) / float64(count)
		}
		var total float64
		switch kind {
		case lossBCE:
			for i, zi := range z {
				ti := float64(t[i])
				if ti < 0 {
					continue
				}
				x := float64(zi)
				if grad {
					out[i] = T((sigmoid(x) - ti) * scale)
				} else {
					total += math.Max(x, 0) - x*ti + math.Log1p(math.Exp(-math.Abs(x)))
				}
			}
		case lossCE:
			for i := 0; i < n; i++ {
				for p := 0; p < hw; p++ {
					cls := t[i*hw+p]
					if cls < 0 {
						continue
					}
					k := int(cls)
					if k >= c || float64(k) != float64(cls) {
						return fmt.Errorf("%v: target %v is not a class index below %d", kind, cls, c)
					}
					base := i*c*hw + p
					zmax := math.Inf(-1)
					for j := 0; j < c; j++ {
						zmax = math.Max(zmax, float64(z[base+j*hw]))
					}
					var se float64
					for j := 0; j < c; j++ {
						se += math.Exp(float64(z[base+j*hw]) - zmax)
					}
					if !grad {
						total += zmax + math.Log(se) - float64(z[base+k*hw])
						continue
					}
					for j := 0; j < c; j++ {
						pj := math.Exp(float64(z[base+j*hw])-zmax) / se
						if j == k {
							pj--
						}
						out[base+j*hw] = T(pj * scale)
					}
				}
			}
		}
		if !grad {
			out[0] = T(total / float64(count))
		}
		return nil
	}
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}
