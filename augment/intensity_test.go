package augment

import (
	"math"
	"math/rand/v2"
	"testing"
)

// formulaSample is two channels whose means (about 0.3 and 0.7) are far from 0, so that
// scaling about the mean and scaling about 0 give different results.
func formulaSample() *Sample {
	s := NewSample(2, 6, 7)
	for i := range s.Image {
		c := i / (6 * 7)
		s.Image[i] = float32(0.1+0.4*float64(c)) + float32(i%7)*0.06
	}
	return s
}

// TestIntensityFormulas checks each intensity step against its documented formula, computed
// here in float64 from the untouched image and the same random draws (a second generator
// of the same seed makes them, in the order the doc comments give).
func TestIntensityFormulas(t *testing.T) {
	const seed = 42
	check := func(name string, got *Sample, want []float64, tol float64) {
		t.Helper()
		for i, w := range want {
			if d := math.Abs(float64(got.Image[i]) - w); !(d <= tol) {
				t.Fatalf("%s: value %d is %g, the formula gives %g", name, i, got.Image[i], w)
			}
		}
	}

	t.Run("brightness", func(t *testing.T) {
		src, s := formulaSample(), formulaSample()
		Brightness{P: 1, Max: 0.2}.Adjust(rand.New(rand.NewPCG(seed, 1)), s)
		r := rand.New(rand.NewPCG(seed, 1))
		d := -0.2 + r.Float64()*0.4
		want := make([]float64, len(src.Image))
		for i, v := range src.Image {
			want[i] = float64(v) + float64(float32(d))
		}
		check("brightness", s, want, 1e-6)
	})

	t.Run("contrast about each channel's mean", func(t *testing.T) {
		src, s := formulaSample(), formulaSample()
		Contrast{P: 1, Max: 0.5}.Adjust(rand.New(rand.NewPCG(seed, 2)), s)
		r := rand.New(rand.NewPCG(seed, 2))
		f := 0.5 + r.Float64()*1.0
		n := src.H * src.W
		want := make([]float64, len(src.Image))
		for c := range src.C {
			var mean float64
			for _, v := range src.Image[c*n : (c+1)*n] {
				mean += float64(v)
			}
			mean /= float64(n)
			for i := c * n; i < (c+1)*n; i++ {
				want[i] = mean + f*(float64(src.Image[i])-mean)
			}
		}
		check("contrast", s, want, 1e-6)
		// Scaling about the mean keeps each channel's mean.
		for c := range src.C {
			var a, b float64
			for i := c * n; i < (c+1)*n; i++ {
				a += float64(src.Image[i])
				b += float64(s.Image[i])
			}
			if math.Abs(a-b)/float64(n) > 1e-6 {
				t.Errorf("channel %d mean moved from %g to %g", c, a/float64(n), b/float64(n))
			}
		}
	})

	t.Run("gamma", func(t *testing.T) {
		src, s := formulaSample(), formulaSample()
		Gamma{P: 1, Max: 2}.Adjust(rand.New(rand.NewPCG(seed, 3)), s)
		r := rand.New(rand.NewPCG(seed, 3))
		l := math.Log(2)
		g := math.Exp(-l + r.Float64()*2*l)
		want := make([]float64, len(src.Image))
		for i, v := range src.Image {
			want[i] = math.Pow(float64(v), g)
		}
		// The step interpolates v^g linearly in a table of step h = 1/1024: the error is at
		// most h^2/8 max|d2/dv2 v^g| = h^2/8 g|g-1| v^(g-2), under 2e-6 for g in [1/2, 2] and
		// v >= 0.1 (the smallest value here), plus float32 rounding.
		check("gamma", s, want, 1e-5)
	})

	t.Run("noise", func(t *testing.T) {
		src, s := formulaSample(), formulaSample()
		Noise{P: 1, Sigma: 0.1}.Adjust(rand.New(rand.NewPCG(seed, 4)), s)
		r := rand.New(rand.NewPCG(seed, 4))
		sd := r.Float64() * 0.1
		want := make([]float64, len(src.Image))
		for i, v := range src.Image {
			want[i] = float64(v) + float64(float32(r.NormFloat64()*sd))
		}
		check("noise", s, want, 1e-6)
	})
}
