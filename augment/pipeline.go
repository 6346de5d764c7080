package augment

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Pipeline is a list of augmentation steps. Apply runs every geometric step (each with
// its probability) into one Warp, samples the image and mask through it, then runs the
// intensity steps on the image and clamps it to [0, 1]. A nil or empty Pipeline only
// crops.
type Pipeline struct {
	Geometric []Geometric
	Intensity []Intensity
	// Interp is how the image is sampled; masks are always sampled by nearest neighbour.
	Interp Interp
}

// Apply fills dst, whose size and channels are set and whose slices are allocated, with a
// random variant of src: a crop of dst's size at a random place (the whole of src, mirror-
// padded, where src is smaller), transformed by the pipeline's steps. Its random choices
// all come from r.
func (p *Pipeline) Apply(r *rand.Rand, dst, src *Sample) {
	x0 := RandomOffset(r, src.W, dst.W)
	y0 := RandomOffset(r, src.H, dst.H)
	p.ApplyAt(r, dst, src, x0, y0)
}

// RandomOffset draws where an out-long crop starts in an n-long source: anywhere it fits,
// or, when it is longer than the source, anywhere it still holds all of it.
func RandomOffset(r *rand.Rand, n, out int) int {
	if n >= out {
		return r.IntN(n - out + 1)
	}
	return -r.IntN(out - n + 1)
}

// ApplyAt is Apply with the crop's top-left corner at (x0, y0) in src (negative, or past
// the far edge, to pad by mirroring).
func (p *Pipeline) ApplyAt(r *rand.Rand, dst, src *Sample, x0, y0 int) {
	w := p.Warp(r, float64(x0)+float64(dst.W-1)/2, float64(y0)+float64(dst.H-1)/2)
	interp := Bilinear
	if p != nil {
		interp = p.Interp
	}
	w.Resample(dst, src, interp)
	if p == nil || len(p.Intensity) == 0 {
		return
	}
	for _, s := range p.Intensity {
		s.Adjust(r, dst)
	}
	for i, v := range dst.Image {
		dst.Image[i] = min(max(v, 0), 1)
	}
}

// Warp draws the geometric steps into a Warp whose output centre maps to source point
// (cx, cy).
func (p *Pipeline) Warp(r *rand.Rand, cx, cy float64) Warp {
	w := Identity(cx, cy)
	if p != nil {
		for _, g := range p.Geometric {
			g.Warp(r, &w)
		}
	}
	return w
}

// Default is the preset for small data sets, such as microscopy, where orientation means
// nothing: flips and 90-degree turns, some rotation, scaling and elastic deformation,
// and mild changes of brightness, contrast, gamma, noise and blur.
func Default() *Pipeline {
	return &Pipeline{
		Geometric: []Geometric{
			FlipH{P: 0.5},
			FlipV{P: 0.5},
			Rot90{P: 0.5},
			Rotate{P: 0.25, MaxDegrees: 20},
			Scale{P: 0.25, Min: 0.8, Max: 1.25},
			Elastic{P: 0.3, Sigma: 10, Grid: 3},
		},
		Intensity: []Intensity{
			Brightness{P: 0.3, Max: 0.1},
			Contrast{P: 0.3, Max: 0.2},
			Gamma{P: 0.3, Max: 1.25},
			Noise{P: 0.2, Sigma: 0.03},
			Blur{P: 0.1, MaxSigma: 1},
		},
	}
}

// Light is the preset for photographs of scenes with an up and a down (street scenes):
// left-right flips, a little scaling and rotation, mild brightness and contrast.
func Light() *Pipeline {
	return &Pipeline{
		Geometric: []Geometric{
			FlipH{P: 0.5},
			Rotate{P: 0.2, MaxDegrees: 5},
			Scale{P: 0.3, Min: 0.9, Max: 1.15},
		},
		Intensity: []Intensity{
			Brightness{P: 0.3, Max: 0.08},
			Contrast{P: 0.3, Max: 0.15},
		},
	}
}

// None is the preset that does not augment: Apply only crops.
func None() *Pipeline { return &Pipeline{} }

// Presets names the presets Preset knows, the default first.
var Presets = []string{"default", "light", "none"}

// Preset gives the preset of the given name (see Presets).
func Preset(name string) (*Pipeline, error) {
	switch name {
	case "default", "":
		return Default(), nil
	case "light":
		return Light(), nil
	case "none":
		return None(), nil
	}
	return nil, fmt.Errorf("augment: unknown preset %q (want %s)", name, strings.Join(Presets, ", "))
}

// Mirrors says which mirror images of an image the pipeline shows a model as the same
// image: the left-right one, through FlipH (or FlipV with a 90-degree turn, which turned
// by 180 degrees is the left-right mirror), and the top-bottom one, through FlipV (or
// FlipH with a turn). Test-time augmentation may average a prediction over these and no
// others: a street scene upside down is not a scene the model learned.
func (p *Pipeline) Mirrors() (leftRight, topBottom bool) {
	if p == nil {
		return false, false
	}
	var h, v, turn bool
	for _, g := range p.Geometric {
		switch g := g.(type) {
		case FlipH:
			h = h || g.P > 0
		case FlipV:
			v = v || g.P > 0
		case Rot90:
			turn = turn || g.P > 0
		}
	}
	return h || v && turn, v || h && turn
}
