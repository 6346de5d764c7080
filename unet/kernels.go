package unet

import (
	"github.com/segment-dev/segment/internal/parallel"
	"github.com/segment-dev/segment/kernels"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// The heavy arithmetic of the ops goes through the functions of this file, so that faster
// kernels can replace them without touching the ops or the model.

var blasImpl gonum.Implementation

// gemm computes c = op(a) * op(b) + beta*c for row-major matrices, where op transposes when
// asked: op(a) is m x k, op(b) is k x n, c is m x n. float32 goes through the project's SIMD
// kernels; float64, which only the gradient checks use, through gonum.
func gemm[T float](transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	tA, tB := blas.NoTrans, blas.NoTrans
	if transA {
		tA = blas.Trans
	}
	if transB {
		tB = blas.Trans
	}
	switch a := any(a).(type) {
	case []float32:
		kernels.Sgemm(transA, transB, m, n, k, 1, a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		blasImpl.Dgemm(tA, tB, m, n, k, 1, a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}

// gemmSerial is gemm on the calling goroutine alone, for work the caller already splits
// over the cores.
func gemmSerial[T float](transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if a32, ok := any(a).([]float32); ok {
		kernels.SgemmSerial(transA, transB, m, n, k, 1, a32, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
		return
	}
	gemm(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc)
}

// convGeom is the geometry of one 2-D convolution: C channels of H x W in, kernel K, stride S,
// padding P, giving OH x OW positions out. The same geometry, read backwards, is that of the
// transposed convolution from OH x OW back to H x W.
type convGeom struct {
	C, H, W, K, S, P int
	OH, OW           int
}

func newConvGeom(c, h, w, k, s, p int) convGeom {
	return convGeom{C: c, H: h, W: w, K: k, S: s, P: p, OH: (h+2*p-k)/s + 1, OW: (w+2*p-k)/s + 1}
}

// direct says whether the columns matrix is the input itself (a 1x1 convolution without
// stride or padding), so that im2col can be skipped.
func (g convGeom) direct() bool { return g.K == 1 && g.S == 1 && g.P == 0 }

// rows and cols of the columns matrix: one row per (channel, kernel row, kernel column),
// one column per output position.
func (g convGeom) rows() int { return g.C * g.K * g.K }
func (g convGeom) cols() int { return g.OH * g.OW }

// im2col lays out, for every output position of rows [oy0, oy1), the input values under the
// kernel: cols[(c*K+ky)*K+kx][(oy-oy0)*OW+ox] = x[c][oy*S-P+ky][ox*S-P+kx], zero outside the
// image. The channels are split over the cores when par is set.
func im2col[T float](g convGeom, x, cols []T, oy0, oy1 int, par bool) {
	n := (oy1 - oy0) * g.OW
	nw := 1
	if par {
		nw = parallel.Workers()
	}
	parallel.For(g.C, nw, func(c int) {
		xc := x[c*g.H*g.W : (c+1)*g.H*g.W]
		for ky := 0; ky < g.K; ky++ {
			for kx := 0; kx < g.K; kx++ {
				row := cols[((c*g.K+ky)*g.K+kx)*n:][:n]
				for oy := oy0; oy < oy1; oy++ {
					iy := oy*g.S - g.P + ky
					dst := row[(oy-oy0)*g.OW : (oy-oy0+1)*g.OW]
					if iy < 0 || iy >= g.H {
						clear(dst)
						continue
					}
					src := xc[iy*g.W : (iy+1)*g.W]
					if g.S == 1 {
						// Contiguous run: zeros where the kernel hangs over the left or right edge.
						lo, hi := g.P-kx, g.W+g.P-kx // ox range whose ix lies inside
						lo = max(lo, 0)
						hi = min(hi, g.OW)
						clear(dst[:min(lo, g.OW)])
						if hi > lo {
							copy(dst[lo:hi], src[lo-g.P+kx:hi-g.P+kx])
						}
						if hi < g.OW {
							clear(dst[max(hi, 0):])
						}
						continue
					}
					for ox := range dst {
						ix := ox*g.S - g.P + kx
						if ix < 0 || ix >= g.W {
							dst[ox] = 0
						} else {
							dst[ox] = src[ix]
						}
					}
				}
			}
		}
	})
}

// col2im is the adjoint of im2col for output rows [oy0, oy1): it adds every column entry back
// onto the input position it was read from. x is added to, not overwritten. Channels are
// independent, so they are split over the cores when par is set.
//
// With tiled, for a kernel that tiles the input (K = S, P = 0), where each input position
// has exactly one entry, it writes the entry instead, plus bias[c] when bias is not nil.
func col2im[T float](g convGeom, cols, x []T, oy0, oy1 int, par, tiled bool, bias []T) {
	n := (oy1 - oy0) * g.OW
	nw := 1
	if par {
		nw = parallel.Workers()
	}
	parallel.For(g.C, nw, func(c int) {
		xc := x[c*g.H*g.W : (c+1)*g.H*g.W]
		for ky := 0; ky < g.K; ky++ {
			for kx := 0; kx < g.K; kx++ {
				row := cols[((c*g.K+ky)*g.K+kx)*n:][:n]
				// With stride 1 the valid outputs of a kernel offset form one run [lo, hi)
				// whose inputs are contiguous too.
				lo, hi := max(g.P-kx, 0), min(g.W+g.P-kx, g.OW)
				for oy := oy0; oy < oy1; oy++ {
					iy := oy*g.S - g.P + ky
					if iy < 0 || iy >= g.H {
						continue
					}
					src := row[(oy-oy0)*g.OW : (oy-oy0+1)*g.OW]
					dst := xc[iy*g.W : (iy+1)*g.W]
					if g.S == 1 {
						if hi > lo {
							addTo(dst[lo-g.P+kx:hi-g.P+kx], src[lo:hi])
						}
						continue
					}
					if tiled {
						var b T
						if bias != nil {
							b = bias[c]
						}
						for ox, v := range src {
							dst[ox*g.S+kx] = v + b
						}
						continue
					}
					for ox, v := range src {
						ix := ox*g.S - g.P + kx
						if ix >= 0 && ix < g.W {
							dst[ix] += v
						}
					}
				}
			}
		}
	})
}

// addTo adds src to dst elementwise.
func addTo[T float](dst, src []T) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] += v
	}
}

// parallelRange splits [0, n) into one contiguous range per core and runs f on each; small
// n runs on the calling goroutine, where starting goroutines would cost more than it saves.
func parallelRange(n int, f func(lo, hi int)) {
	if n < 1<<14 {
		f(0, n)
		return
	}
	parallel.Range(n, parallel.Workers(), f)
}
