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

// Conv2d is an NCHW 2-D convolution of x [N, C, H, W] with weight w [Cout, C, k, k]
// (PyTorch's layout), stride s and zero padding p, plus a bias b [Cout] when b is not nil.
// The output is [N, Cout, (H+2p-k)/s+1, (W+2p-k)/s+1].
func Conv2d(x, w, b *G.Node, stride, pad int) (*G.Node, error) {
	k := w.Shape()[2]
	op := &convOp{k: k, s: stride, p: pad, bias: b != nil}
	if b != nil {
		return G.ApplyOp(op, x, w, b)
	}
	return G.ApplyOp(op, x, w)
}

// ConvTranspose2d is the transposed convolution (PyTorch's ConvTranspose2d, no output
// padding) of x [N, Cin, H, W] with weight w [Cin, Cout, k, k] and bias b [Cout] (or nil):
// the adjoint of Conv2d, giving [N, Cout, (H-1)s-2p+k, (W-1)s-2p+k]. With k = s = 2 it is
// the U-Net's learned 2x upsampling.
func ConvTranspose2d(x, w, b *G.Node, stride, pad int) (*G.Node, error) {
	k := w.Shape()[2]
	op := &convOp{k: k, s: stride, p: pad, bias: b != nil, transposed: true}
	if b != nil {
		return G.ApplyOp(op, x, w, b)
	}
	return G.ApplyOp(op, x, w)
}

// convOp is a convolution or, transposed, its adjoint. As the gradient of a strided
// convolution with respect to its input, a transposed op must be told the output size
// (outH, outW), because several input sizes give the same strided output size.
type convOp struct {
	opBase
	k, s, p    int
	bias       bool
	transposed bool
	outH, outW int // transposed only; 0 means (H-1)s-2p+k
}

func (op *convOp) String() string {
	name := "Conv2d"
	if op.transposed {
		name = "ConvTranspose2d"
	}
	return fmt.Sprintf("%s{k=%d,s=%d,p=%d,bias=%v,out=%dx%d}", name, op.k, op.s, op.p, op.bias, op.outH, op.outW)
}
func (op *convOp) WriteHash(h hash.Hash) { hashString(h, op) }
func (op *convOp) Hashcode() uint32      { return hashCode(op) }
func (op *convOp) Arity() int {
	if op.bias {
		return 3
	}
	return 2
}

func (op *convOp) Type() hm.Type {
	if op.bias {
		return fnType(4, 4, 1, 4)
	}
	return fnType(4, 4, 4)
}

// geom gives the convolution's geometry, always read as the forward convolution from the
// large side (H x W) to the small side (OH x OW), and the output channels of this op.
func (op *convOp) geom(x, w tensor.Shape) (convGeom, int, error) {
	if err := need4D(op, x, "input"); err != nil {
		return convGeom{}, 0, err
	}
	if err := need4D(op, w, "weight"); err != nil {
		return convGeom{}, 0, err
	}
	n, c, h, wd := nchw(x)
	_ = n
	if w[2] != op.k || w[3] != op.k {
		return convGeom{}, 0, fmt.Errorf("%v: weight %v is not %dx%d", op, w, op.k, op.k)
	}
	if !op.transposed {
		if w[1] != c {
			return convGeom{}, 0, fmt.Errorf("%v: weight %v wants %d input channels, input %v has %d", op, w, w[1], x, c)
		}
		g := newConvGeom(c, h, wd, op.k, op.s, op.p)
		if g.OH < 1 || g.OW < 1 {
			return convGeom{}, 0, fmt.Errorf("%v: input %v is smaller than the kernel", op, x)
		}
		return g, w[0], nil
	}
	if w[0] != c {
		return convGeom{}, 0, fmt.Errorf("%v: weight %v wants %d input channels, input %v has %d", op, w, w[0], x, c)
	}
	oh, ow := op.outH, op.outW
	if oh == 0 {
		oh, ow = (h-1)*op.s-2*op.p+op.k, (wd-1)*op.s-2*op.p+op.k
	}
	g := newConvGeom(w[1], oh, ow, op.k, op.s, op.p)
	if g.OH != h || g.OW != wd {
		return convGeom{}, 0, fmt.Errorf("%v: output %dx%d does not map back to input %dx%d", op, oh, ow, h, wd)
	}
	return g, w[1], nil
}

func (op *convOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	g, co, err := op.geom(s[0], s[1])
	if err != nil {
		return nil, err
	}
	if op.bias && (len(s[2]) != 1 || s[2][0] != co) {
		return nil, fmt.Errorf("%v: bias %v, want [%d]", op, s[2], co)
	}
	if op.transposed {
		return tensor.Shape{s[0][0], co, g.H, g.W}, nil
	}
	return tensor.Shape{s[0][0], co, g.OH, g.OW}, nil
}

func (op *convOp) Do(vals ...G.Value) (G.Value, error) {
	return run(op, vals, convDo[float32](op), convDo[float64](op))
}

func convDo[T float](op *convOp) kernel[T] {
	return func(out []T, in [][]T, s []tensor.Shape) error {
		if convModeErr != nil {
			return convModeErr
		}
		g, co, err := op.geom(s[0], s[1])
		if err != nil {
			return err
		}
		x, w := in[0], in[1]
		n := s[0][0]
		if !op.transposed {
			var ep *epilogue[T]
			if op.bias {
				ep = &epilogue[T]{shift: in[2]}
			}
			convForward(g, co, n, x, w, out, ep)
			return nil
		}
		var bias []T
		if op.bias {
			bias = in[2]
		}
		convData(g, s[0][1], n, x, w, out, bias)
		return nil
	}
}

func addChannelBias[T float](out, b []T, n, c int) {
	hw := len(out) / (n * c)
	parallel.For(n*c, parallel.Workers(), func(p int) {
		v := b[p%c]
		row := out[p*hw : (p+1)*hw]
		for k := range row {
			row[k] += v
		}
	})
}

func (op *convOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}

func (op *convOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	x, w := in[0], in[1]
	var dx, dw *G.Node
	var err error
	fg := &filterGradOp{k: op.k, s: op.s, p: op.p}
	if op.transposed {
		if dx, err = G.ApplyOp(&convOp{k: op.k, s: op.s, p: op.p}, grad, w); err != nil {
			return nil, err
		}
		dw, err = G.ApplyOp(fg, grad, x)
	} else {
		xs := x.Shape()
		if dx, err = G.ApplyOp(&convOp{k: op.k, s: op.s, p: op.p, transposed: true, outH: xs[2], outW: xs[3]}, grad, w); err != nil {
			return nil, err
		}
		dw, err = G.ApplyOp(fg, x, grad)
	}
	if err != nil {
		return nil, err
	}
	if !op.bias {
		return G.Nodes{dx, dw}, nil
	}
	db, err := G.ApplyOp(&channelSumOp{}, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dw, db}, nil
}

// filterGradOp is the gradient of a convolution's weight: from the large side x [N, C, H, W]
// and the small side dy [N, Co, OH, OW] it gives [Co, C, k, k]. For a transposed convolution
// the roles swap: the large side is the output gradient, the small side the input.
type filterGradOp struct {
	opBase
	k, s, p int
}

func (op *filterGradOp) String() string {
	return fmt.Sprintf("Conv2dFilterGrad{k=%d,s=%d,p=%d}", op.k, op.s, op.p)
}
func (op *filterGradOp) WriteHash(h hash.Hash) { hashString(h, op) }
func (op *filterGradOp) Hashcode() uint32      { return hashCode(op) }
func (op *filterGradOp) Arity() int            { return 2 }
func (op *filterGradOp) Type() hm.Type         { return fnType(4, 4, 4) }

func (op *filterGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	if err := need4D(op, s[0], "input"); err != nil {
		return nil, err
	}
	if err := need4D(op, s[1], "output gradient"); err != nil {
		return nil, err
	}
	g := newConvGeom(s[0][1], s[0][2], s[0][3], op.k, op.s, op.p)
	if s[0][0] != s[1][0] || g.OH != s[1][2] || g.OW != s[1][3] {
		return nil, fmt.Errorf("%v: input %v and output gradient %v do not match", op, s[0], s[1])
	}
	return tensor.Shape{s[1][1], s[0][1], op.k, op.k}, nil
}

func (op *filterGradOp) Do(vals ...G.Value) (G.Value, error) {
	return run(op, vals, filterGradDo[float32](op), filterGradDo[float64](op))
}

func filterGradDo[T float](op *filterGradOp) kernel[T] {
	return func(out []T, in [][]T, s []tensor.Shape) error {
		n, c, h, w := nchw(s[0])
		g := newConvGeom(c, h, w, op.k, op.s, op.p)
		convFilter(g, s[1][1], n, in[0], in[1], out)
		return nil
	}
}

// channelSumOp sums a [N, C, H, W] tensor over everything but the channel: the gradient of
// a per-channel bias or shift.
type channelSumOp struct{ opBase }

func (*channelSumOp) String() string           { return "ChannelSum" }
func (op *channelSumOp) WriteHash(h hash.Hash) { hashString(h, op) }
func (op *channelSumOp) Hashcode() uint32      { return hashCode(op) }
func (*channelSumOp) Arity() int               { return 1 }
func (*channelSumOp) Type() hm.Type            { return fnType(4, 1) }

func (op *channelSumOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	if err := need4D(op, s[0], "input"); err != nil {
		return nil, err
	}
	return tensor.Shape{s[0][1]}, nil
}

func (op *channelSumOp) Do(vals ...G.Value) (G.Value, error) {
	return run(op, vals, channelSumDo[float32], channelSumDo[float64])
}

func channelSumDo[T float](out []T, in [][]T, s []tensor.Shape) error {
	n, c, h, w := nchw(s[0])
	hw := h * w
	parallel.For(c, parallel.Workers(), func(j int) {
		var acc float64
		for i := 0; i < n; i++ {
			off := (i*c + j) * hw
			acc += sum64(in[0][off : off+hw])
		}
		out[j] = T(acc)
	})
	return nil
}

// sum64 adds in float64 whatever the element type, so that long float32 sums keep their
// digits, with four accumulators so the additions overlap.
func sum64[T float](xs []T) float64 {
	if x, ok := any(xs).([]float32); ok {
		return kernels.Sum64(x)
	}
	var a, b, c, d float64
	i := 0
	for ; i+4 <= len(xs); i += 4 {
		a += float64(xs[i])
		b += float64(xs[i+1])
		c += float64(xs[i+2])
		d += float64(xs[i+3])
	}
	for ; i < len(xs); i++ {
		a += float64(xs[i])
	}
	return a + b + c + d
}
