package kernels

import "unsafe"

// affineFunc is the contract of the assembly epilogues: dst[i] = src[i]*a + b (and with
// the relu variant max(dst[i], 0)) for i < n, n a multiple of 8, exactly as affineGo.
type affineFunc func(n int, src, dst *float32, a, b float32)

// Affine sets dst[i] = src[i]*a + b for every i < len(src) and then, with relu,
// max(dst[i], 0): the epilogue a convolution applies to a band of one channel's output
// (a batch norm's scale and shift, a bias, a ReLU) while it is still in cache. The
// product is rounded before the sum, with no fused multiply-add, and the maximum is Go's
// (a NaN stays NaN, -0 becomes +0), so the assembly and the pure-Go twin give the same
// bits, and so does a plain Go loop `max(v*a+b, 0)`. dst must be at least as long as
// src and may be src itself.
func Affine(dst, src []float32, a, b float32, relu bool) {
	n := len(src)
	if n == 0 {
		return
	}
	dst = dst[:n]
	done := 0
	p := current.Load()
	f := p.affine
	if relu {
		f = p.affineRelu
	}
	if f != nil && n >= 8 {
		done = n &^ 7
		f(done, unsafe.SliceData(src), unsafe.SliceData(dst), a, b)
	}
	affineGo(dst[done:], src[done:], a, b, relu)
}

// affineGo is Affine in Go. The conversion rounds the product, which the Go spec
// otherwise allows a compiler to fuse with the sum.
func affineGo(dst, src []float32, a, b float32, relu bool) {
	dst = dst[:len(src)]
	if relu {
		for i, v := range src {
			dst[i] = max(float32(v*a)+b, 0)
		}
		return
	}
	for i, v := range src {
		dst[i] = float32(v*a) + b
	}
}
