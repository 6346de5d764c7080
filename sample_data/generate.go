package sampledata

import (
	"fmt"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/disintegration/imaging"
)

// Config says what Generate makes.
type Config struct {
	Train, Val int    // number of pairs in each split
	Size       int    // side of the square images
	Seed       uint64 // the same seed makes the same files
}

// DefaultConfig is the committed data set.
var DefaultConfig = Config{Train: 40, Val: 8, Size: 128, Seed: 2015}

// rng draws numbers from a PCG stream with conversions fixed here, so that the data do not
// depend on how math/rand/v2's helpers draw floats.
type rng struct{ src *rand.PCG }

// rngFor gives the stream of a seed.
func rngFor(seed uint64) rng { return rng{rand.NewPCG(seed, 0x73616d706c65)} } // "sample"

// float gives a number in [0, 1).
func (r rng) float() float64 { return float64(r.src.Uint64()>>11) / (1 << 53) }

// between gives a number in [lo, hi).
func (r rng) between(lo, hi float64) float64 { return lo + r.float()*(hi-lo) }

// intn gives an integer in [0, n).
func (r rng) intn(n int) int { return int(r.src.Uint64() % uint64(n)) }

// normal gives a standard normal number (Box-Muller).
func (r rng) normal() float64 {
	u := 1 - r.float() // (0, 1]
	return math.Sqrt(-2*math.Log(u)) * math.Cos(2*math.Pi*r.float())
}

// Generate writes the data set of cfg under dir: train/ and val/, each with images/ and
// masks/ of PNG files named 0000.png, 0001.png, ...
func Generate(dir string, cfg Config) error {
	r := rngFor(cfg.Seed)
	for _, split := range []struct {
		name string
		n    int
	}{{"train", cfg.Train}, {"val", cfg.Val}} {
		for _, sub := range []string{"images", "masks"} {
			if err := os.MkdirAll(filepath.Join(dir, split.name, sub), 0o755); err != nil {
				return err
			}
		}
		for i := range split.n {
			img, mask := sample(r, cfg.Size)
			name := fmt.Sprintf("%04d.png", i)
			if err := save(filepath.Join(dir, split.name, "images", name), img); err != nil {
				return err
			}
			if err := save(filepath.Join(dir, split.name, "masks", name), mask); err != nil {
				return err
			}
		}
	}
	return nil
}

func save(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := imaging.Encode(f, img, imaging.PNG, imaging.PNGCompressionLevel(png.BestCompression)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// shape is one object: an ellipse (a disc when its axes are equal) or, with harmonics, a
// blob whose radius varies with the angle.
type shape struct {
	cx, cy, a, b, rot float64
	harm              [3]float64 // relative amplitude of the 2nd, 3rd and 5th harmonic
	phase             [3]float64
	amp               float64 // brightness added inside
}

// dist gives the approximate signed distance, in pixels, from (x, y) to the shape's
// edge: negative inside.
func (s shape) dist(x, y float64) float64 {
	dx, dy := x-s.cx, y-s.cy
	sn, cs := math.Sincos(s.rot)
	u, v := cs*dx+sn*dy, -sn*dx+cs*dy
	rho := math.Hypot(u/s.a, v/s.b)
	scale := math.Min(s.a, s.b)
	if s.harm != [3]float64{} {
		th := math.Atan2(v, u)
		k := 1 + s.harm[0]*math.Cos(2*th+s.phase[0]) + s.harm[1]*math.Cos(3*th+s.phase[1]) + s.harm[2]*math.Cos(5*th+s.phase[2])
		rho /= k
		scale *= k
	}
	return (rho - 1) * scale
}

// smoothField gives a size x size field of smooth random variation, standard deviation
// about 1: random values on a coarse grid, resized up with Catmull-Rom interpolation.
func smoothField(r rng, size, grid int) []float64 {
	g := image.NewGray(image.Rect(0, 0, grid, grid))
	for i := range g.Pix {
		g.Pix[i] = uint8(128 + 40*max(-3, min(3, r.normal())))
	}
	big := imaging.Resize(g, size, size, imaging.CatmullRom)
	f := make([]float64, size*size)
	for i := range f {
		f[i] = (float64(big.Pix[4*i]) - 128) / 40
	}
	return f
}

// sample draws one image and its mask of size x size pixels.
func sample(r rng, size int) (img, mask *image.Gray) {
	n := float64(size)
	var shapes []shape
	for range 2 + r.intn(5) {
		s := shape{cx: r.between(0.1, 0.9) * n, cy: r.between(0.1, 0.9) * n, rot: r.between(0, math.Pi), amp: r.between(0.18, 0.3)}
		rad := r.between(0.05, 0.13) * n
		switch r.intn(3) {
		case 0: // disc
			s.a, s.b = rad, rad
		case 1: // ellipse
			s.a, s.b = rad*r.between(1.1, 1.6), rad*r.between(0.5, 0.85)
		case 2: // blob
			s.a, s.b = rad, rad
			for k := range s.harm {
				s.harm[k] = r.between(0, 0.18)
				s.phase[k] = r.between(0, 2*math.Pi)
			}
		}
		shapes = append(shapes, s)
	}
	var debris []shape
	for range r.intn(6) {
		rad := r.between(1.5, 3.5)
		debris = append(debris, shape{cx: r.between(0, n), cy: r.between(0, n), a: rad, b: rad, amp: r.between(0.08, 0.16)})
	}
	bg := smoothField(r, size, 6)
	inner := smoothField(r, size, 10)
	base, contrast := r.between(0.22, 0.38), r.between(0.85, 1.15)
	img = image.NewGray(image.Rect(0, 0, size, size))
	mask = image.NewGray(image.Rect(0, 0, size, size))
	for y := range size {
		for x := range size {
			i := y*size + x
			px, py := float64(x), float64(y)
			v := base + 0.05*bg[i]
			var fg float64
			inside := false
			for _, s := range shapes {
				d := s.dist(px, py)
				inside = inside || d < 0
				fg = math.Max(fg, s.amp/(1+math.Exp(d/0.8))) // soft edge, half way at the border
			}
			for _, s := range debris {
				fg = math.Max(fg, s.amp/(1+math.Exp(s.dist(px, py)/0.8)))
			}
			v += fg * (1 + 0.25*inner[i])
			v = 0.5 + contrast*(v-0.5) + 0.035*r.normal()
			img.Pix[i] = uint8(math.Round(255 * math.Max(0, math.Min(1, v))))
			if inside {
				mask.Pix[i] = 255
			}
		}
	}
	return img, mask
}
