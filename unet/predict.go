package unet

import (
	"fmt"
	"math"
)

// Predictor runs a model at inference on images of any size: it reflect-pads each batch to
// a multiple of 2^depth, runs the inference graph for that padded shape (built once per
// shape and kept), and crops the logits back. It is not safe for concurrent use.
type Predictor struct {
	Model *Model
	nets  map[[3]int]*Net
}

// NewPredictor makes a predictor for m. Training m afterwards is seen by the predictor,
// since its graphs share the model's tensors.
func NewPredictor(m *Model) *Predictor {
	return &Predictor{Model: m, nets: make(map[[3]int]*Net)}
}

// PadFor gives the padding before and after a side of length n that makes it a multiple of
// mul: split evenly, the extra pixel after.
func PadFor(n, mul int) (before, after int) {
	total := (n+mul-1)/mul*mul - n
	return total / 2, total - total/2
}

// Logits gives the logits [n, classes, h, w] of the images x [n, in, h, w].
func (p *Predictor) Logits(x []float32, n, h, w int) ([]float32, error) {
	cfg := p.Model.Config
	if want := n * cfg.InChannels * h * w; len(x) != want || n < 1 || h < 1 || w < 1 {
		return nil, fmt.Errorf("input has %d values, want %d x %d x %d x %d", len(x), n, cfg.InChannels, h, w)
	}
	mul := cfg.Multiple()
	top, bottom := PadFor(h, mul)
	left, right := PadFor(w, mul)
	ph, pw := h+top+bottom, w+left+right
	key := [3]int{n, ph, pw}
	net, ok := p.nets[key]
	if !ok {
		var err error
		if net, err = NewInferNet(p.Model, n, ph, pw); err != nil {
			return nil, err
		}
		p.nets[key] = net
	}
	in := x
	if ph != h || pw != w {
		in = ReflectPad(x, n*cfg.InChannels, h, w, top, bottom, left, right)
	}
	if err := net.Forward(in); err != nil {
		return nil, err
	}
	out := net.Logits()
	if ph == h && pw == w {
		return append([]float32(nil), out...), nil
	}
	return Crop(out, n*cfg.Classes, ph, pw, top, left, h, w), nil
}

// Close releases the graphs.
func (p *Predictor) Close() {
	for k, net := range p.nets {
		net.Close()
		delete(p.nets, k)
	}
}

// ReflectIndex maps a position i outside [0, n) back inside by mirroring at the edges
// without repeating the edge pixel (numpy's and PyTorch's "reflect"), as often as needed, so
// that a pad wider than the image still works. Everything that pads an image uses it, so
// that tiles and whole images see the same borders.
func ReflectIndex(i, n int) int {
	if n == 1 {
		return 0
	}
	period := 2 * (n - 1)
	i %= period
	if i < 0 {
		i += period
	}
	if i >= n {
		i = period - i
	}
	return i
}

// ReflectPad pads each of planes h x w planes by mirroring: top rows above, bottom below,
// left and right columns beside.
func ReflectPad(x []float32, planes, h, w, top, bottom, left, right int) []float32 {
	ph, pw := h+top+bottom, w+left+right
	out := make([]float32, planes*ph*pw)
	cols := make([]int, pw)
	for j := range cols {
		cols[j] = ReflectIndex(j-left, w)
	}
	for p := 0; p < planes; p++ {
		src := x[p*h*w : (p+1)*h*w]
		dst := out[p*ph*pw : (p+1)*ph*pw]
		for i := 0; i < ph; i++ {
			row := src[ReflectIndex(i-top, h)*w:][:w]
			d := dst[i*pw : (i+1)*pw]
			for j, c := range cols {
				d[j] = row[c]
			}
		}
	}
	return out
}

// Crop cuts h x w windows at (top, left) out of each of planes ph x pw planes.
func Crop(x []float32, planes, ph, pw, top, left, h, w int) []float32 {
	out := make([]float32, planes*h*w)
	for p := 0; p < planes; p++ {
		for i := 0; i < h; i++ {
			copy(out[(p*h+i)*w:(p*h+i+1)*w], x[(p*ph+top+i)*pw+left:][:w])
		}
	}
	return out
}

// Probabilities turns logits [n, classes, h, w] into probabilities in place: the sigmoid of
// the single logit of a binary model, the softmax over classes otherwise.
func Probabilities(logits []float32, n, classes int) {
	if classes == 1 {
		for i, v := range logits {
			logits[i] = float32(sigmoid(float64(v)))
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

// Classes gives the class index of every pixel of logits [n, classes, h, w] as [n, h, w]:
// logit > 0 (probability > 0.5) for a binary model, the largest logit otherwise (the first
// on ties).
func Classes(logits []float32, n, classes int) []int32 {
	hw := len(logits) / (n * classes)
	out := make([]int32, n*hw)
	for i := 0; i < n; i++ {
		base := logits[i*classes*hw : (i+1)*classes*hw]
		for p := 0; p < hw; p++ {
			if classes == 1 {
				if base[p] > 0 {
					out[i*hw+p] = 1
				}
				continue
			}
			best := 0
			for c := 1; c < classes; c++ {
				if base[c*hw+p] > base[best*hw+p] {
					best = c
				}
			}
			out[i*hw+p] = int32(best)
		}
	}
	return out
}
