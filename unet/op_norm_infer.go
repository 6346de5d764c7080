package unet

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	"github.com/segment-dev/segment/kernels"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

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
				affineRelu(out[off:off+h*w], x[off:off+h*w], T(a), T(b), false)
			}
		}
		return nil
	}
}

// reluInPlace sets the negative elements of xs to 0.
func reluInPlace[T float](xs []T) {
	affineRelu(xs, xs, 1, 0, true)
}

// affineRelu sets dst[i] = src[i]*a + b, then with relu max(dst[i], 0): in float32
// through kernels.Affine's vector loops, which give the bits of this plain loop.
func affineRelu[T float](dst, src []T, a, b T, relu bool) {
	if d, ok := any(dst).([]float32); ok {
		kernels.Affine(d, any(src).([]float32), float32(a), float32(b), relu)
		return
	}
	dst = dst[:len(src)]
	for i, v := range src {
		x := T(v*a) + b
		if relu {
			x = max(x, 0)
		}
		dst[i] = x
	}
}
