package train

import (
	"math"
	"testing"
)

// TestWelchByHand: a = {1, 2, 3, 4} (mean 2.5, s² 5/3), b = {2, 4, 6} (mean 4, s² 4):
// se² = 5/12 + 4/3 = 7/4, ν = (7/4)² / ((5/12)²/3 + (4/3)²/2) = 3.0625 / 0.946759... =
// 3.23472, t(0.975, 3.23472) = 3.05571 (bisection on the numerically integrated t density,
// apart from gonum), so the interval is -1.5 ± 3.05571·1.32288 = [-5.54233, 2.54233].
func TestWelchByHand(t *testing.T) {
	d, lo, hi := welch([]float64{1, 2, 3, 4}, []float64{2, 4, 6})
	if d != -1.5 || math.Abs(lo-(-5.54233)) > 1e-4 || math.Abs(hi-2.54233) > 1e-4 {
		t.Errorf("difference %g, interval [%g, %g]; by hand -1.5, [-5.54233, 2.54233]", d, lo, hi)
	}
	if m, s := meanStd([]float64{1, math.NaN(), 3}); m != 2 || math.Abs(s-math.Sqrt2) > 1e-12 {
		t.Errorf("mean %g, std %g of {1, NaN, 3}; want 2, √2", m, s)
	}
	if _, lo, _ := welch([]float64{1}, []float64{2, 3}); !math.IsNaN(lo) {
		t.Errorf("one seed: interval from %g, want none", lo)
	}
}
