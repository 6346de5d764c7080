//go:build !noasm

package kernels

import (
	"testing"

	"golang.org/x/sys/cpu"
)

// BenchmarkPeak measures the FMA throughput of one core with registers
// only: the ceiling for BenchmarkKernel and BenchmarkSgemm. On the Zen 5
// machine this package was tuned on both give about 115 GFLOP/s: zmm
// FMAs issue at half the rate of ymm ones.
func BenchmarkPeak(b *testing.B) {
	for _, v := range []struct {
		name  string
		ok    bool
		f     func(int)
		lanes int
	}{
		{"avx512", cpu.X86.HasAVX512F, fmaPeakAVX512, 16},
		{"avx2", cpu.X86.HasAVX2 && cpu.X86.HasFMA, fmaPeakAVX2, 8},
	} {
		b.Run("isa="+v.name, func(b *testing.B) {
			if !v.ok {
				b.Skip("CPU lacks " + v.name)
			}
			const n = 1000
			for b.Loop() {
				v.f(n)
			}
			flop := float64(b.N) * n * 24 * 2 * float64(v.lanes) // 24 FMAs per step
			b.ReportMetric(flop/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
