package train

import (
	"math"
	"strings"
	"testing"
)

func TestClassWeights(t *testing.T) {
	near := func(a, b []float64) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if math.Abs(a[i]-b[i]) > 1e-12 {
				return false
			}
		}
		return true
	}
	for _, c := range []struct {
		pixels []int64
		want   []float64
	}{
		// Shares 1/5.04, 4/5.04, 0.04/5.04: inverse square roots in the ratio 1 : 1/2 : 5,
		// the median (class 0's) scaled to 1; class 3 has no pixels: 1.
		{[]int64{100, 400, 4, 0}, []float64{1, 0.5, 5, 1}},
		// Two classes: the median is the mean of 2 and 1 (times a common factor).
		{[]int64{100, 400}, []float64{4.0 / 3, 2.0 / 3}},
		// A class of one pixel in 20001 would weigh 100 times the others: clipped to 10.
		{[]int64{10000, 1, 10000}, []float64{1, 10, 1}},
		{[]int64{0, 0}, []float64{1, 1}},
	} {
		if got := AutoClassWeights(c.pixels); !near(got, c.want) {
			t.Errorf("AutoClassWeights(%v) = %v, want %v", c.pixels, got, c.want)
		}
	}
	px := []int64{1, 2, 3}
	for _, c := range []struct {
		spec string
		want []float64
		err  string
	}{
		{"", nil, ""}, {"none", nil, ""}, {"auto", AutoClassWeights(px), ""},
		{"1, 2.5,0.25", []float64{1, 2.5, 0.25}, ""},
		{"1,2", nil, "2 weights for 3 classes"},
		{"1,x,2", nil, `weight 1, "x", is not a positive number`},
		{"1,0,2", nil, "is not a positive number"},
		{"1,NaN,2", nil, "is not a positive number"},
	} {
		got, err := ClassWeights(c.spec, px)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ClassWeights(%q): %v, want an error about %q", c.spec, err, c.err)
			}
			continue
		}
		if err != nil || !near(got, c.want) || (got == nil) != (c.want == nil) {
			t.Errorf("ClassWeights(%q) = %v, %v; want %v", c.spec, got, err, c.want)
		}
	}
}
