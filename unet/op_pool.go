package unet

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/segment-dev/segment/internal/parallel"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MaxPool takes the maximum of each k x k window, stride k, of x [N, C, H, W] (H and W
// multiples of k). Unlike gorgonia's MaxPool2D it cannot be thrown by a NaN: a NaN is the
// maximum of its window and passes on, so that a diverging loss is reported, not a crash.
// The gradient goes to the first maximum of each window, as in PyTorch.
func MaxPool(x *G.Node, k int) (*G.Node, error) {
	return G.ApplyOp(&poolOp{k: k}, x)
}

type poolOp struct {
	opBase
	k    int
	grad bool // the backward op: inputs x and dy, output dx
}

func (op *poolOp) String() string        { return fmt.Sprintf("MaxPool{k=%d,grad=%v}", op.k, op.grad) }
func (op *poolOp) WriteHash(h hash.Hash) { hashString(h, op) }
func (op *poolOp) Hashcode() uint32      { return hashCode(op) }
func (op *poolOp) Arity() int {
	if op.grad {
		return 2
	}
	return 1
}
func (op *poolOp) Type() hm.Type {
	if op.grad {
		return fnType(4, 4, 4)
	}
	return fnType(4, 4)
}

func (op *poolOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	if err := need4D(op, s[0], "input"); err != nil {
		return nil, err
	}
	n, c, h, w := nchw(s[0])
	if op.k < 1 || h%op.k != 0 || w%op.k != 0 {
		return nil, fmt.Errorf("%v: input %v is not a multiple of the window", op, s[0])
	}
	out := tensor.Shape{n, c, h / op.k, w / op.k}
	if op.grad {
		if !s[1].Eq(out) {
			return nil, fmt.Errorf("%v: output gradient %v, want %v", op, s[1], out)
		}
		return s[0].Clone(), nil
	}
	return out, nil
}

func (op *poolOp) Do(v ...G.Value) (G.Value, error) {
	return run(op, v, poolDo[float32](op), poolDo[float64](op))
}

// poolDo computes the pooled maxima, or (grad) routes each output gradient to the position
// of its window's first maximum.
func poolDo[T float](op *poolOp) kernel[T] {
	return func(out []T, in [][]T, s []tensor.Shape) error {
		n, c, h, w := nchw(s[0])
		k := op.k
		oh, ow := h/k, w/k
		x := in[0]
		if op.grad {
			clear(out)
		}
		parallel.For(n*c, parallel.Workers(), func(p int) {
			plane := x[p*h*w : (p+1)*h*w]
			if k == 2 {
				var dy []T
				if op.grad {
					dy = in[1][p*oh*ow : (p+1)*oh*ow]
				}
				pool2(plane, dy, out, p, w, op.grad)
				return
			}
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					best := (oy*k)*w + ox*k
					for dy := 0; dy < k; dy++ {
						row := (oy*k + dy) * w
						for dx := 0; dx < k; dx++ {
							i := row + ox*k + dx
							if v := plane[i]; v > plane[best] || (v != v && plane[best] == plane[best]) {
								best = i
							}
						}
					}
					o := p*oh*ow + oy*ow + ox
					if op.grad {
						out[p*h*w+best] += in[1][o]
					} else {
						out[o] = plane[best]
					}
				}
			}
		})
		return nil
	}
}

func (op *poolOp) DiffWRT(int) []bool {
	if op.grad {
		return []bool{false, false}
	}
	return []bool{true}
}

func (op *poolOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(&poolOp{k: op.k, grad: true}, in[0], grad)
	return G.Nodes{dx}, err
}

// pool2 is poolDo's loop for the U-Net's 2x2 window, unrolled, on plane p of the batch: the
// maxima into out (grad false), or the gradient dy routed into out (grad true).
func pool2[T float](plane, dy, out []T, p, w int, grad bool) {
	h := len(plane) / w
	ow := w / 2
	for oy := 0; oy < h/2; oy++ {
		r0 := plane[2*oy*w : (2*oy+1)*w]
		r1 := plane[(2*oy+1)*w : (2*oy+2)*w]
		if !grad {
			// Only the value is needed: the builtin max keeps NaN and compiles without
			// the branches that the search for the maximum's position mispredicts.
			o := out[p*(h/2)*ow+oy*ow:][:ow]
			for ox := range o {
				o[ox] = max(max(r0[2*ox], r0[2*ox+1]), max(r1[2*ox], r1[2*ox+1]))
			}
			continue
		}
		for ox := 0; ox < ow; ox++ {
			// The first maximum in reading order, NaN beating any number.
			best, at := r0[2*ox], 2*oy*w+2*ox
			if v := r0[2*ox+1]; v > best || (v != v && best == best) {
				best, at = v, 2*oy*w+2*ox+1
			}
			if v := r1[2*ox]; v > best || (v != v && best == best) {
				best, at = v, (2*oy+1)*w+2*ox
			}
			if v := r1[2*ox+1]; v > best || (v != v && best == best) {
				best, at = v, (2*oy+1)*w+2*ox+1
			}
			o := oy*ow + ox
			if grad {
				out[p*h*w+at] += dy[o]
			} else {
				out[p*(h/2)*ow+o] = best
			}
		}
	}
}
