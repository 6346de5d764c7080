package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestVector is the conformance suite of vector.go: at every length from 0 to 100, and at
// a few long ones, at unaligned starts, every implementation gives the same bits as the
// pure-Go one, and the reductions agree with a plain float64 loop to rounding (they only
// sum in another order). ReLUGrad is checked on signed zeros and NaNs of either sign, and
// nothing writes past its length.
func TestVector(t *testing.T) {
	old := Impl()
	defer SetImpl(old)
	rng := rand.New(rand.NewPCG(3, 4))
	nan, negNaN := float32(math.NaN()), math.Float32frombits(0xffc00000)
	negZero := float32(math.Copysign(0, -1))
	type result struct {
		sum, ss, dot float64
		relu, ax     []float32
	}
	compute := func(name string, d, x, y []float32, mean float64) result {
		if err := SetImpl(name); err != nil {
			t.Fatal(err)
		}
		n := len(d)
		r := result{sum: Sum64(x), ss: SumSquares(x, mean), dot: DotCentred(d, x, mean), relu: make([]float32, n+2), ax: make([]float32, n+2)}
		r.relu[n], r.relu[n+1], r.ax[n], r.ax[n+1] = 7, 7, 7, 7
		ReLUGrad(r.relu[:n], y, d)
		AXPBYC(r.ax[:n], d, x, 0.75, -1.5, 0.125)
		if r.relu[n] != 7 || r.relu[n+1] != 7 || r.ax[n] != 7 || r.ax[n+1] != 7 {
			t.Fatalf("%s, n %d: wrote past the end", name, n)
		}
		return r
	}
	lengths := []int{1000, 4099, 16384}
	for n := 0; n <= 100; n++ {
		lengths = append(lengths, n)
	}
	for _, n := range lengths {
		buf := make([]float32, 3*(n+1))
		for i := range buf {
			buf[i] = float32(rng.NormFloat64()*3 + 1)
		}
		d, x, y := buf[1:1+n], buf[n+2:2*n+2], buf[2*n+3:3*n+3] // unaligned
		for i := range y {
			switch rng.IntN(8) {
			case 0:
				y[i] = 0
			case 1:
				y[i] = negZero
			case 2:
				y[i] = nan
			case 3:
				y[i] = negNaN
			}
		}
		mean := 0.9
		want := compute("go", d, x, y, mean)
		var sum, ss, dot float64
		for i := range d {
			sum += float64(x[i])
			ss += (float64(x[i]) - mean) * (float64(x[i]) - mean)
			dot += float64(d[i]) * (float64(x[i]) - mean)
		}
		close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-12*(1+math.Abs(b)*float64(n)) }
		if !close(want.sum, sum) || !close(want.ss, ss) || !close(want.dot, dot) {
			t.Fatalf("n %d: go sums %v %v %v, plain loop %v %v %v", n, want.sum, want.ss, want.dot, sum, ss, dot)
		}
		for i := range d {
			g := float32(0)
			if !(y[i] <= 0) && math.Signbit(float64(y[i])) == false {
				g = d[i]
			}
			if math.Float32bits(want.relu[i]) != math.Float32bits(g) {
				t.Fatalf("n %d: ReLUGrad at y = %v gave %v, want %v", n, y[i], want.relu[i], g)
			}
			if a := (float32(0.75*d[i]) + float32(-1.5*x[i])) + 0.125; want.ax[i] != a {
				t.Fatalf("n %d: AXPBYC element %d is %v, want %v", n, i, want.ax[i], a)
			}
		}
		for _, name := range Impls() {
			got := compute(name, d, x, y, mean)
			if math.Float64bits(got.sum) != math.Float64bits(want.sum) || math.Float64bits(got.ss) != math.Float64bits(want.ss) || math.Float64bits(got.dot) != math.Float64bits(want.dot) {
				t.Fatalf("%s, n %d: sums %v %v %v, go's %v %v %v", name, n, got.sum, got.ss, got.dot, want.sum, want.ss, want.dot)
			}
			for i := range d {
				if math.Float32bits(got.relu[i]) != math.Float32bits(want.relu[i]) || math.Float32bits(got.ax[i]) != math.Float32bits(want.ax[i]) {
					t.Fatalf("%s, n %d, element %d: ReLUGrad %v AXPBYC %v, go's %v %v", name, n, i, got.relu[i], got.ax[i], want.relu[i], want.ax[i])
				}
			}
		}
	}
}
