package chart

import (
	"math"
	"slices"
	"testing"
)

func TestNiceTicks(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		lo, hi float64
		n      int
		want   []float64
		step   float64
	}{
		{0, 1, 5, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}, 0.2},
		{0, 10, 5, []float64{0, 2, 4, 6, 8, 10}, 2},
		{0.23, 0.91, 5, []float64{0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9}, 0.1},
		{-1, 1, 4, []float64{-1, -0.5, 0, 0.5, 1}, 0.5},
		{-0.37, -0.02, 3, []float64{-0.3, -0.2, -0.1}, 0.1},
		{1, 937, 5, []float64{200, 400, 600, 800}, 200},
		{1e6, 5e6, 4, []float64{1e6, 2e6, 3e6, 4e6, 5e6}, 1e6},
		{0.001, 0.002, 5, []float64{0.001, 0.0012, 0.0014, 0.0016, 0.0018, 0.002}, 0.0002},
		{4.5, 5.5, 2, []float64{4.5, 5, 5.5}, 0.5},
		{0, 70, 1, []float64{0}, 100},
		{0, 70, 2, []float64{0, 50}, 50},
		{0.01, 1.41, 2, []float64{0.5, 1}, 0.5},
		{0.9, 1.05, 2, []float64{0.9, 1}, 0.1},
		{0.91, 1.05, 2, []float64{0.95, 1, 1.05}, 0.05},
		{5, 5, 5, nil, 0},
		{1, 0, 5, nil, 0},
		{nan, 1, 5, nil, 0},
		{0, inf, 5, nil, 0},
		{-math.MaxFloat64, math.MaxFloat64, 5, nil, 0},
	}
	for _, tt := range tests {
		got, step := niceTicks(tt.lo, tt.hi, tt.n)
		if !slices.Equal(got, tt.want) || step != tt.step {
			t.Errorf("niceTicks(%g, %g, %d) = %v, step %g; want %v, step %g", tt.lo, tt.hi, tt.n, got, step, tt.want, tt.step)
		}
	}
}

func TestLogTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		n      int
		want   []float64
		step   float64 // 0: log ticks
	}{
		{1, 1000, 5, []float64{1, 10, 100, 1000}, 0},
		{0.9, 1100, 5, []float64{1, 10, 100, 1000}, 0},
		{1e-8, 1, 5, []float64{1e-8, 1e-6, 1e-4, 1e-2, 1}, 0},
		{1e-3, 1e3, 3, []float64{1e-3, 1, 1e3}, 0},
		{0.5, 20, 5, []float64{0.5, 1, 2, 5, 10, 20}, 0},
		{0.02, 0.5, 5, []float64{0.02, 0.05, 0.1, 0.2, 0.5}, 0},
		{2, 9, 5, []float64{2, 5}, 0},
		{3, 4, 5, []float64{3, 3.2, 3.4, 3.6, 3.8, 4}, 0.2},
		{0, 10, 5, nil, 0},
		{-1, 10, 5, nil, 0},
		{5, 5, 5, nil, 0},
		{1, math.Inf(1), 5, nil, 0},
	}
	for _, tt := range tests {
		got, step := logTicks(tt.lo, tt.hi, tt.n)
		if !slices.Equal(got, tt.want) || step != tt.step {
			t.Errorf("logTicks(%g, %g, %d) = %v, step %g; want %v, step %g", tt.lo, tt.hi, tt.n, got, step, tt.want, tt.step)
		}
	}
}

func TestTickLabels(t *testing.T) {
	tests := []struct {
		ticks []float64
		step  float64
		want  []string
	}{
		{[]float64{0, 0.2, 0.4, 1}, 0.2, []string{"0.0", "0.2", "0.4", "1.0"}},
		{[]float64{-1, -0.5, 0, 0.5}, 0.5, []string{"-1.0", "-0.5", "0.0", "0.5"}},
		{[]float64{-0.1 + 0.1, 0.1}, 0.1, []string{"0.0", "0.1"}},
		{[]float64{200, 400, 600}, 200, []string{"200", "400", "600"}},
		{[]float64{0, 5e6, 1e7}, 5e6, []string{"0", "5e6", "1e7"}},
		{[]float64{1e6, 1.5e6, 2e6}, 5e5, []string{"1e6", "1.5e6", "2e6"}},
		{[]float64{1e-4, 2e-4, 3e-4}, 1e-4, []string{"1e-4", "2e-4", "3e-4"}},
		{[]float64{0.001, 0.0012}, 0.0002, []string{"0.0010", "0.0012"}},
		{[]float64{0.001, 0.02, 1, 500, 20000}, 0, []string{"0.001", "0.02", "1", "500", "20000"}},
		{[]float64{1e-5, 0.001, 0.02, 1, 500}, 0, []string{"1e-5", "1e-3", "2e-2", "1e0", "5e2"}},
		{[]float64{1, 1e5}, 0, []string{"1e0", "1e5"}},
	}
	for _, tt := range tests {
		if got := tickLabels(tt.ticks, tt.step); !slices.Equal(got, tt.want) {
			t.Errorf("tickLabels(%v, %g) = %q, want %q", tt.ticks, tt.step, got, tt.want)
		}
	}
}
