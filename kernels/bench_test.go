package kernels

import (
	"fmt"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// benchShapes are U-Net convolution GEMMs, M x K x N: output channels x
// in_channels*9 x H*W.
var benchShapes = []struct {
	name          string
	m, k, n       int
	transA, trans bool
}{
	{name: "256x1152x16384", m: 256, k: 1152, n: 16384}, // the gorgonia notes' reference
	{name: "64x576x65536", m: 64, k: 576, n: 65536},
	{name: "512x4608x256", m: 512, k: 4608, n: 256},
}

func benchOperands(m, k, n int) (a, b, c []float32) {
	a, b, c = make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	for i := range a {
		a[i] = float32(i%7) - 3
	}
	for i := range b {
		b[i] = float32(i%5) - 2
	}
	return
}

// reportGFLOPS reports the rate in GFLOP per second of wall time, and per
// second of the process's CPU time since cpu0 (a figure less disturbed by
// other work on a shared machine; 0 skips it).
func reportGFLOPS(b *testing.B, m, n, k int, cpu0 float64) {
	flop := 2 * float64(m) * float64(n) * float64(k) * float64(b.N)
	b.ReportMetric(flop/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu := processCPU() - cpu0; cpu0 > 0 && cpu > 0 {
		b.ReportMetric(flop/cpu/1e9, "GFLOP/cpu-s")
	}
}

// BenchmarkSgemm measures C = A*B for each implementation and 1 and 2
// threads:
//
//	go test -run '^$' -bench Sgemm -count 5 ./kernels
func BenchmarkSgemm(b *testing.B) {
	for _, p := range impls {
		for _, nt := range []int{1, 2} {
			for _, s := range benchShapes {
				b.Run(fmt.Sprintf("impl=%s/threads=%d/%s", p.name, nt, s.name), func(b *testing.B) {
					x, y, z := benchOperands(s.m, s.k, s.n)
					cpu0 := processCPU()
					for b.Loop() {
						sgemm(p, nt, false, false, s.m, s.n, s.k, 1, x, s.k, y, s.n, 0, z, s.n)
					}
					reportGFLOPS(b, s.m, s.n, s.k, cpu0)
				})
			}
		}
	}
}

// BenchmarkSgemmGrad measures the transposed products of a convolution's
// gradients on the 256x1152x16384 layer: the input gradient
// dCol[K,N] = W^T dY (transA) and the weight gradient dW[M,K] = dY Col^T
// (transB), with the fastest implementation.
func BenchmarkSgemmGrad(b *testing.B) {
	p := impls[0]
	const m, k, n = 256, 1152, 16384
	for _, nt := range []int{1, 2} {
		b.Run(fmt.Sprintf("impl=%s/threads=%d/AT_B/%dx%dx%d", p.name, nt, k, m, n), func(b *testing.B) {
			w, _, _ := benchOperands(m, k, n) // w: m x k
			dy, dcol := make([]float32, m*n), make([]float32, k*n)
			cpu0 := processCPU()
			for b.Loop() {
				sgemm(p, nt, true, false, k, n, m, 1, w, k, dy, n, 0, dcol, n)
			}
			reportGFLOPS(b, k, n, m, cpu0)
		})
		b.Run(fmt.Sprintf("impl=%s/threads=%d/A_BT/%dx%dx%d", p.name, nt, m, n, k), func(b *testing.B) {
			dw, col, _ := benchOperands(m, k, n)
			dy := make([]float32, m*n)
			cpu0 := processCPU()
			for b.Loop() {
				sgemm(p, nt, false, true, m, k, n, 1, dy, n, col, n, 0, dw, k)
			}
			reportGFLOPS(b, m, k, n, cpu0)
		})
	}
}

// BenchmarkGonumSgemm is the baseline: gonum's native Sgemm on the same
// shapes, with GOMAXPROCS 1 and 2 (gonum uses one goroutine per
// processor).
func BenchmarkGonumSgemm(b *testing.B) {
	var impl gonum.Implementation
	for _, nt := range []int{1, 2} {
		for _, s := range benchShapes {
			b.Run(fmt.Sprintf("threads=%d/%s", nt, s.name), func(b *testing.B) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(nt))
				x, y, z := benchOperands(s.m, s.k, s.n)
				cpu0 := processCPU()
				for b.Loop() {
					impl.Sgemm(blas.NoTrans, blas.NoTrans, s.m, s.n, s.k, 1, x, s.k, y, s.n, 0, z, s.n)
				}
				reportGFLOPS(b, s.m, s.n, s.k, cpu0)
			})
		}
	}
}

// BenchmarkKernel measures a micro-kernel alone on packed panels that stay
// in L1 (k = 256), the ceiling for Sgemm.
func BenchmarkKernel(b *testing.B) {
	for _, p := range impls {
		b.Run("impl="+p.name, func(b *testing.B) {
			const k = 256
			ap, bp := alignedFloats(p.mr*k), alignedFloats(p.nr*k)
			c := alignedFloats(p.mr * p.nr)
			cpu0 := processCPU()
			for b.Loop() {
				p.kernel(k, &ap[0], &bp[0], &c[0], p.nr, 1, 1, 0)
			}
			reportGFLOPS(b, p.mr, p.nr, k, cpu0)
		})
	}
}
