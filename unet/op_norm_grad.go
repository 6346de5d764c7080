package unet

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/segment-dev/segment/internal/parallel"
	"github.com/segment-dev/segment/kernels"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// normGradOp is a normalisation's gradient with respect to its input (scale false) or its
// scale gamma (scale true), from x, gamma, the output gradient dy and the statistics of x.
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
func (op *normGradOp) Arity() int            { return 4 }
func (op *normGradOp) Type() hm.Type {
	if op.scale {
		return fnType(4, 1, 4, 1, 1)
	}
	return fnType(4, 1, 4, 1, 4)
}

func (op *normGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	g, err := normGeomOf(op, s[0], op.groups)
	if err != nil {
		return nil, err
	}
	if err := checkStats(op, g, s[3]); err != nil {
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
		x, gamma, dy, st := in[0], in[1], in[2], in[3]
		sets := g.sets()
		m := float64(g.setSize())
		if op.scale {
			// Per channel: a channel lies in one set, but a batch-norm set spans images, so
			// sum per (set, channel) block into a per-block slot first, then per channel.
			clear(out)
			if g.groups == 0 {
				parallel.For(sets, parallel.Workers(), func(set int) {
					mean, inv := float64(st[set]), float64(st[sets+set])
					var acc float64
					g.blocks(set, func(off, _ int) { acc += dotCentred(dy[off:off+g.hw], x[off:off+g.hw], mean) })
					out[set] = T(acc * inv)
				})
				return nil
			}
			for set := 0; set < sets; set++ {
				mean, inv := float64(st[set]), float64(st[sets+set])
				g.blocks(set, func(off, ch int) {
					out[ch] += T(dotCentred(dy[off:off+g.hw], x[off:off+g.hw], mean) * inv)
				})
			}
			return nil
		}
		parallel.For(sets, parallel.Workers(), func(set int) {
			mean, inv := float64(st[set]), float64(st[sets+set])
			var sg, sgx float64
			g.blocks(set, func(off, ch int) {
				gm := float64(gamma[ch])
				sg += gm * sum64(dy[off:off+g.hw])
				sgx += gm * inv * dotCentred(dy[off:off+g.hw], x[off:off+g.hw], mean)
			})
			sg /= m
			sgx /= m
			// dx = inv * (dy*gamma - sg - xhat*sgx) = a*dy + b*x + c per block.
			g.blocks(set, func(off, ch int) {
				gm := float64(gamma[ch])
				a := inv * gm
				b := -inv * inv * sgx
				c := -inv*sg + inv*inv*sgx*mean
				dst, d, xs := out[off:off+g.hw], dy[off:off+g.hw], x[off:off+g.hw]
				ta, tb, tc := T(a), T(b), T(c)
				if dst32, ok := any(dst).([]float32); ok {
					kernels.AXPBYC(dst32, any(d).([]float32), any(xs).([]float32), float32(ta), float32(tb), float32(tc))
					return
				}
				for i := range dst {
					dst[i] = ta*d[i] + tb*xs[i] + tc
				}
			})
		})
		return nil
	}
}

// dotCentred is the sum of d * (x - mean), in float64.
func dotCentred[T float](d, x []T, mean float64) float64 {
	if d32, ok := any(d).([]float32); ok {
		return kernels.DotCentred(d32, any(x).([]float32), mean)
	}
	var a, b float64
	i := 0
	for ; i+2 <= len(d); i += 2 {
		a += float64(d[i]) * (float64(x[i]) - mean)
		b += float64(d[i+1]) * (float64(x[i+1]) - mean)
	}
	for ; i < len(d); i++ {
		a += float64(d[i]) * (float64(x[i]) - mean)
	}
	return a + b
}
