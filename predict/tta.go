package predict

import "math"

// flip is one test-time augmentation: a mirror image left-right (X), top-bottom (Y) or both.
// Each is its own inverse, so the same flip brings the prediction back.
type flip struct{ x, y bool }

// flipsFor lists the views of a tile that are run: the tile itself, and with TTA its
// mirror images of m (the zero m: all three), which a U-Net trained with those flips has
// learnt to be the same image.
func flipsFor(tta bool, m Mirrors) []flip {
	if !tta {
		return []flip{{}}
	}
	if m == (Mirrors{}) {
		m = Mirrors{LeftRight: true, TopBottom: true}
	}
	fs := []flip{{}}
	if m.LeftRight {
		fs = append(fs, flip{x: true})
	}
	if m.TopBottom {
		fs = append(fs, flip{y: true})
	}
	if m.LeftRight && m.TopBottom {
		fs = append(fs, flip{x: true, y: true})
	}
	return fs
}

// flipPlanes writes planes h x w of src mirrored as f says into dst (not src itself).
func flipPlanes(dst, src []float32, planes, h, w int, f flip) {
	for p := 0; p < planes; p++ {
		s, d := src[p*h*w:(p+1)*h*w], dst[p*h*w:(p+1)*h*w]
		for r := 0; r < h; r++ {
			sr := r
			if f.y {
				sr = h - 1 - r
			}
			srow, drow := s[sr*w:(sr+1)*w], d[r*w:(r+1)*w]
			if !f.x {
				copy(drow, srow)
				continue
			}
			for x, v := range srow {
				drow[w-1-x] = v
			}
		}
	}
}

// run gives the class probabilities [n, classes, h, w] of the tiles x [n, in, h, w] by
// model m: the network's output as probabilities, averaged over the flips when TTA is on.
// The slice is overwritten by the next call.
func (p *Predictor) run(m int, x []float32, n, h, w int) ([]float32, error) {
	net, err := p.graph(m, n, h, w)
	if err != nil {
		return nil, err
	}
	cfg := p.models[m].Config
	flips := flipsFor(p.opts.TTA, p.opts.Mirrors)
	clear(p.probs)
	for _, f := range flips {
		in := x
		if f.x || f.y {
			flipPlanes(p.flipped, x, n*cfg.InChannels, h, w, f)
			in = p.flipped
		}
		if err := net.Forward(in); err != nil {
			return nil, err
		}
		logits := net.Logits()
		if !f.x && !f.y {
			copy(p.tmp, logits)
		} else {
			flipPlanes(p.tmp, logits, n*cfg.Classes, h, w, f)
		}
		probabilities(p.tmp, n, cfg.Classes)
		for i, v := range p.tmp {
			p.probs[i] += v
		}
	}
	if len(flips) > 1 {
		s := 1 / float32(len(flips))
		for i := range p.probs {
			p.probs[i] *= s
		}
	}
	return p.probs, nil
}

// probabilities turns logits [n, classes, h, w] into probabilities in place: the sigmoid of
// the single logit of a binary model, the softmax over classes otherwise.
func probabilities(logits []float32, n, classes int) {
	if classes == 1 {
		for i, v := range logits {
			x := float64(v)
			if x >= 0 {
				logits[i] = float32(1 / (1 + math.Exp(-x)))
			} else {
				e := math.Exp(x)
				logits[i] = float32(e / (1 + e))
			}
		}
		return
	}
	hw := len(logits) / (n * classes)
	for i := 0; i < n; i++ {
		base := logits[i*classes*hw : (i+1)*classes*hw]
		for p := 0; p < hw; p++ {
			m := math.Inf(-1)
			for c := 0; c < classes; c++ {
				m = math.Max(m, float64(base[c*hw+p]))
			}
			var s float64
			for c := 0; c < classes; c++ {
				e := math.Exp(float64(base[c*hw+p]) - m)
				base[c*hw+p] = float32(e)
				s += e
			}
			for c := 0; c < classes; c++ {
				base[c*hw+p] = float32(float64(base[c*hw+p]) / s)
			}
		}
	}
}
