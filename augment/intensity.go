package augment

import (
	"math"
	"math/rand/v2"
)

// Intensity is a step that changes image values only; masks are left alone.
type Intensity interface {
	// Adjust draws the step's random choices from r (whether it applies, and how) and
	// changes s.Image in place. Values may leave [0, 1]; the Pipeline clamps them at the end.
	Adjust(r *rand.Rand, s *Sample)
}

// uniform draws evenly from [lo, hi).
func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + r.Float64()*(hi-lo) }

// Brightness adds an offset drawn evenly from [-Max, Max] to every value, with
// probability P.
type Brightness struct {
	P, Max float64
}

// Adjust implements Intensity.
func (o Brightness) Adjust(r *rand.Rand, s *Sample) {
	if !applies(r, o.P) {
		return
	}
	d := float32(uniform(r, -o.Max, o.Max))
	for i := range s.Image {
		s.Image[i] += d
	}
}

// Contrast scales each channel's values about their mean by a factor drawn evenly from
// [1-Max, 1+Max], with probability P.
type Contrast struct {
	P, Max float64
}

// Adjust implements Intensity.
func (o Contrast) Adjust(r *rand.Rand, s *Sample) {
	if !applies(r, o.P) {
		return
	}
	f := float32(uniform(r, 1-o.Max, 1+o.Max))
	n := s.H * s.W
	for c := range s.C {
		p := s.Image[c*n : (c+1)*n]
		var sum float64
		for _, v := range p {
			sum += float64(v)
		}
		m := float32(sum / float64(n))
		for i, v := range p {
			p[i] = m + f*(v-m)
		}
	}
}

// Gamma raises every value to a power drawn log-evenly from [1/Max, Max] (Max > 1), with
// probability P: below 1 it brightens the darks, above 1 it darkens them.
type Gamma struct {
	P, Max float64
}

// Adjust implements Intensity.
func (o Gamma) Adjust(r *rand.Rand, s *Sample) {
	if !applies(r, o.P) || o.Max <= 1 {
		return
	}
	l := math.Log(o.Max)
	g := math.Exp(uniform(r, -l, l))
	// A table of v^g on [0, 1], read with linear interpolation: far cheaper than Pow.
	const n = 1024
	var lut [n + 2]float32
	for i := range lut {
		lut[i] = float32(math.Pow(min(float64(i)/n, 1), g))
	}
	for i, v := range s.Image {
		switch {
		case v <= 0:
		case v >= 1:
			s.Image[i] = float32(math.Pow(float64(v), g))
		default:
			u := v * n
			k := int(u)
			s.Image[i] = lut[k] + (u-float32(k))*(lut[k+1]-lut[k])
		}
	}
}

// Noise adds Gaussian noise to every value, of a standard deviation drawn evenly from
// [0, Sigma), with probability P.
type Noise struct {
	P, Sigma float64
}

// Adjust implements Intensity.
func (o Noise) Adjust(r *rand.Rand, s *Sample) {
	if !applies(r, o.P) {
		return
	}
	sd := uniform(r, 0, o.Sigma)
	for i := range s.Image {
		s.Image[i] += float32(r.NormFloat64() * sd)
	}
}

// Blur smooths with a Gaussian whose standard deviation, in pixels, is drawn evenly from
// [0.3, MaxSigma), with probability P. Edges are mirrored.
type Blur struct {
	P, MaxSigma float64
}

// Adjust implements Intensity.
func (o Blur) Adjust(r *rand.Rand, s *Sample) {
	if !applies(r, o.P) || o.MaxSigma <= 0.3 {
		return
	}
	GaussianBlur(s, uniform(r, 0.3, o.MaxSigma))
}

// GaussianBlur smooths every channel of s's image with a Gaussian of standard deviation
// sigma pixels (separable, radius 3 sigma, mirrored edges).
func GaussianBlur(s *Sample, sigma float64) {
	rad := int(math.Ceil(3 * sigma))
	if rad < 1 {
		return
	}
	k := make([]float32, 2*rad+1)
	var sum float64
	for i := range k {
		d := float64(i - rad)
		v := math.Exp(-d * d / (2 * sigma * sigma))
		k[i] = float32(v)
		sum += v
	}
	for i := range k {
		k[i] /= float32(sum)
	}
	n := s.W * s.H
	tmp := make([]float32, n)
	for c := range s.C {
		p := s.Image[c*n : (c+1)*n]
		for y := 0; y < s.H; y++ {
			row, out := p[y*s.W:(y+1)*s.W], tmp[y*s.W:(y+1)*s.W]
			for x := range out {
				var v float32
				if x >= rad && x+rad < s.W {
					for i, kv := range k {
						v += kv * row[x+i-rad]
					}
				} else {
					for i, kv := range k {
						v += kv * row[reflect(x+i-rad, s.W)]
					}
				}
				out[x] = v
			}
		}
		for y := 0; y < s.H; y++ {
			out := p[y*s.W : (y+1)*s.W]
			clear(out)
			for i, kv := range k {
				src := tmp[reflect(y+i-rad, s.H)*s.W:][:s.W]
				for x, v := range src {
					out[x] += kv * v
				}
			}
		}
	}
}
