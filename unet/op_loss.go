package unet

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	"github.com/segment-dev/segment/internal/parallel"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// lossKind is the loss a lossOp computes; the exported loss functions of loss.go make them.
type lossKind int

const (
	lossBCE lossKind = iota
	lossCE
	lossDice
	lossFocal
)

func (k lossKind) String() string {
	return [...]string{"BCEWithLogits", "CrossEntropy", "SoftDice", "Focal"}[k]
}

// lossOp is a loss of logits against a target: a scalar.
type lossOp struct {
	opBase
	kind   lossKind
	binary bool // one logit channel with a sigmoid, and a [N, 1, H, W] target
	gamma  float64
	// weights, when set, weigh each pixel's term by its class's weight (background and
	// foreground for a binary model), the mean becoming the weighted mean, as PyTorch's
	// weight argument does. Soft Dice ignores them.
	weights []float64
	// present makes soft Dice the mean over the classes present in the batch's target
	// only, so that a rare class counts as much as a common one when it is there, and an
	// absent one not at all.
	present bool
	// soft, for more than one class, is the softmax that the loss ops on the same logits
	// share (softmaxFor); nil computes it pixel by pixel.
	soft *softmaxCache
}

func (op *lossOp) String() string {
	s := fmt.Sprintf("%v{binary=%v,gamma=%g", op.kind, op.binary, op.gamma)
	if op.weights != nil {
		s += fmt.Sprintf(",weights=%v", op.weights)
	}
	if op.present {
		s += ",present"
	}
	return s + "}"
}
func (op *lossOp) WriteHash(h hash.Hash) { hashString(h, op) }
func (op *lossOp) Hashcode() uint32      { return hashCode(op) }
func (op *lossOp) Arity() int            { return 2 }
func (op *lossOp) Type() hm.Type         { return fnType(4, op.targetDims(), 0) }
func (op *lossOp) DiffWRT(int) []bool    { return []bool{true, false} }

func (op *lossOp) targetDims() int {
	if op.binary {
		return 4
	}
	return 3
}

func (op *lossOp) checkShapes(logits, target tensor.Shape) error {
	if err := need4D(op, logits, "logits"); err != nil {
		return err
	}
	n, c, h, w := nchw(logits)
	want := tensor.Shape{n, h, w}
	if op.binary {
		if c != 1 {
			return fmt.Errorf("%v: logits %v must have one channel", op, logits)
		}
		want = tensor.Shape{n, 1, h, w}
	} else if c < 2 {
		return fmt.Errorf("%v: logits %v must have at least two channels", op, logits)
	}
	if !target.Eq(want) {
		return fmt.Errorf("%v: target %v, want %v for logits %v", op, target, want, logits)
	}
	if op.weights != nil && len(op.weights) != max(c, 2) {
		return fmt.Errorf("%v: %d class weights for %d classes", op, len(op.weights), max(c, 2))
	}
	return nil
}

func (op *lossOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	return tensor.ScalarShape(), op.checkShapes(s[0], s[1])
}

func (op *lossOp) Do(v ...G.Value) (G.Value, error) {
	return run(op, v, lossDo[float32](op, false), lossDo[float64](op, false))
}

func (op *lossOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(&lossGradOp{loss: *op}, in[0], in[1], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, nil}, nil
}

// lossGradOp is the gradient of a lossOp with respect to the logits, from logits, target
// and the gradient of the loss.
type lossGradOp struct {
	opBase
	loss lossOp
}

func (op *lossGradOp) String() string        { return op.loss.String() + "Grad" }
func (op *lossGradOp) WriteHash(h hash.Hash) { hashString(h, op) }
func (op *lossGradOp) Hashcode() uint32      { return hashCode(op) }
func (op *lossGradOp) Arity() int            { return 3 }
func (op *lossGradOp) Type() hm.Type         { return fnType(4, op.loss.targetDims(), 0, 4) }

func (op *lossGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(in)
	if err != nil {
		return nil, err
	}
	return s[0].Clone(), op.loss.checkShapes(s[0], s[1])
}

func (op *lossGradOp) Do(v ...G.Value) (G.Value, error) {
	return run(op, v, lossDo[float32](&op.loss, true), lossDo[float64](&op.loss, true))
}

// pixels walks the valid (not ignored) pixels of image i of a batch: f gets the offset of
// the pixel's first logit, the stride between its class logits, and its class (0/1 for
// binary targets).
func pixels[T float](i, c, hw int, t []T, f func(base, stride, class int)) (count int, err error) {
	for p := 0; p < hw; p++ {
		v := t[i*hw+p]
		if v < 0 {
			continue
		}
		k := int(v)
		if float64(k) != float64(v) || k >= max(c, 2) {
			return 0, fmt.Errorf("target %v is not a class index below %d", v, max(c, 2))
		}
		count++
		f(i*c*hw+p, hw, k)
	}
	return count, nil
}

// lossPart is what one image adds to a loss: its sum, its valid pixels and, for soft Dice,
// its overlap and sums per class.
type lossPart struct {
	total       float64
	count       int
	weight      float64 // the sum of the pixels' class weights, when the loss has them
	inter, sums []float64
	truth       []float64 // target pixels per class, for soft Dice over the classes present
	err         error
}

// eachImage runs f on every image of the batch, side by side on the cores, with scratch p
// and g of nc elements each. The parts are added up afterwards in image order, so that the
// loss does not depend on the number of cores.
func eachImage(op fmt.Stringer, parts []lossPart, nc int, f func(i int, part *lossPart, p, g []float64)) error {
	parallel.For(len(parts), parallel.Workers(), func(i int) {
		f(i, &parts[i], make([]float64, nc), make([]float64, nc))
	})
	for _, part := range parts {
		if part.err != nil {
			return fmt.Errorf("%v: %w", op, part.err)
		}
	}
	return nil
}

// probs fills p with the class probabilities of one pixel (sigmoid for binary: p[0] is the
// background's 1-p, p[1] the foreground's) and returns log p of class k.
func probs[T float](z []T, base, stride, c int, k int, p []float64) float64 {
	if c == 1 {
		x := float64(z[base])
		p[1] = sigmoid(x)
		p[0] = 1 - p[1]
		// log sigmoid(x) and log sigmoid(-x), without overflow.
		if k == 1 {
			return -(math.Max(-x, 0) + math.Log1p(math.Exp(-math.Abs(x))))
		}
		return -(math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))))
	}
	zmax := math.Inf(-1)
	for j := 0; j < c; j++ {
		zmax = math.Max(zmax, float64(z[base+j*stride]))
	}
	var se float64
	for j := 0; j < c; j++ {
		p[j] = math.Exp(float64(z[base+j*stride]) - zmax)
		se += p[j]
	}
	for j := 0; j < c; j++ {
		p[j] /= se
	}
	return float64(z[base+k*stride]) - zmax - math.Log(se)
}

// pixelProbs is probs, read from the shared softmax sc when there is one (locked and
// filled by softmaxOf).
func pixelProbs[T float](sc *softmaxCache, z []T, base, stride, c, k int, p []float64) float64 {
	if sc != nil {
		return cachedProbs(sc, z, base, stride, k, p)
	}
	return probs(z, base, stride, c, k, p)
}

// backProbs turns the gradient g with respect to a pixel's probabilities into the gradient
// with respect to its logits, written into out.
func backProbs[T float](out []T, base, stride, c int, p, g []float64, scale float64) {
	if c == 1 {
		// p1 = sigmoid(z), p0 = 1 - p1: dL/dz = (g1 - g0) p1 (1 - p1).
		out[base] = T((g[1] - g[0]) * p[1] * p[0] * scale)
		return
	}
	var dot float64
	for j := 0; j < c; j++ {
		dot += g[j] * p[j]
	}
	for j := 0; j < c; j++ {
		out[base+j*stride] = T(p[j] * (g[j] - dot) * scale)
	}
}

// lossDo computes the loss (grad false, out has one element) or its gradient with respect to
// the logits (grad true, scaled by the loss's own gradient, in[2][0]).
func lossDo[T float](op *lossOp, grad bool) kernel[T] {
	return func(out []T, in [][]T, s []tensor.Shape) error {
		z, t := in[0], in[1]
		n, c, h, w := nchw(s[0])
		hw := h * w
		if grad {
			clear(out)
		}
		upstream := 1.0
		if grad {
			upstream = float64(in[2][0])
		}
		nc := max(c, 2) // classes, counting a binary background
		parts := make([]lossPart, n)
		sc := op.soft
		if c == 1 {
			sc = nil
		}
		if sc != nil {
			softmaxOf(sc, z, n, c, hw)
			defer sc.mu.Unlock()
		}

		if op.kind == lossDice {
			// First pass: the overlap and the sums of every class.
			err := eachImage(op, parts, nc, func(i int, part *lossPart, p, _ []float64) {
				part.inter, part.sums, part.truth = make([]float64, nc), make([]float64, nc), make([]float64, nc)
				part.count, part.err = pixels(i, c, hw, t, func(base, stride, k int) {
					pixelProbs(sc, z, base, stride, c, k, p)
					for j := range p {
						part.sums[j] += p[j]
					}
					part.inter[k] += p[k]
					part.sums[k]++
					part.truth[k]++
				})
			})
			if err != nil {
				return err
			}
			inter, sums, truth, count := make([]float64, nc), make([]float64, nc), make([]float64, nc), 0
			for _, part := range parts {
				count += part.count
				for j := range inter {
					inter[j] += part.inter[j]
					sums[j] += part.sums[j]
					truth[j] += part.truth[j]
				}
			}
			first := 0
			if c == 1 {
				first = 1 // binary: the foreground's Dice only
			}
			// in says which classes the mean is over: all of them, or those present.
			in := make([]bool, nc)
			classes := 0.0
			for j := first; j < nc; j++ {
				in[j] = !op.present || truth[j] > 0
				if in[j] {
					classes++
				}
			}
			if count == 0 || classes == 0 {
				if !grad {
					out[0] = 0
				}
				return nil
			}
			if !grad {
				var d float64
				for j := first; j < nc; j++ {
					if in[j] {
						d += (2*inter[j] + 1) / (sums[j] + 1)
					}
				}
				out[0] = T(1 - d/classes)
				return nil
			}
			return eachImage(op, parts, nc, func(i int, part *lossPart, p, g []float64) {
				_, part.err = pixels(i, c, hw, t, func(base, stride, k int) {
					pixelProbs(sc, z, base, stride, c, k, p)
					for j := range g {
						g[j] = 0
						if !in[j] {
							continue
						}
						u := sums[j] + 1
						tj := 0.0
						if j == k {
							tj = 1
						}
						g[j] = -(2*tj*u - (2*inter[j] + 1)) / (u * u) / classes
					}
					backProbs(out, base, stride, c, p, g, upstream)
				})
			})
		}

		err := eachImage(op, parts, nc, func(i int, part *lossPart, p, g []float64) {
			part.count, part.err = pixels(i, c, hw, t, func(base, stride, k int) {
				if op.weights == nil {
					lossPixel(op, sc, grad, z, out, base, stride, c, k, p, g, &part.total)
					return
				}
				wk := op.weights[k]
				part.weight += wk
				before := part.total
				lossPixel(op, sc, grad, z, out, base, stride, c, k, p, g, &part.total)
				if !grad {
					part.total = before + wk*(part.total-before)
					return
				}
				for j := 0; j < c; j++ {
					out[base+j*stride] *= T(wk)
				}
			})
		})
		if err != nil {
			return err
		}
		var total, weight float64
		count := 0
		for _, part := range parts {
			total += part.total
			count += part.count
			weight += part.weight
		}
		// The mean is over the pixels, or their weights.
		denom := float64(count)
		if op.weights != nil {
			denom = weight
		}
		if count == 0 || denom == 0 {
			if !grad {
				out[0] = 0
			}
			return nil
		}
		if !grad {
			out[0] = T(total / denom)
			return nil
		}
		scale := T(upstream / denom)
		parallelRange(len(out), func(lo, hi int) {
			for i := range out[lo:hi] {
				out[lo+i] *= scale
			}
		})
		return nil
	}
}

// lossPixel adds one pixel's loss to total, or (grad) writes its unscaled gradient with
// respect to its logits into out, for the losses that need no sums over the batch first.
func lossPixel[T float](op *lossOp, sc *softmaxCache, grad bool, z, out []T, base, stride, c, k int, p, g []float64, total *float64) {
	logp := pixelProbs(sc, z, base, stride, c, k, p)
	pt := p[k]
	switch op.kind {
	case lossBCE, lossCE:
		if !grad {
			*total -= logp
			return
		}
		for j := range g {
			g[j] = 0
		}
		// d(-log p_k)/dz through the probabilities: -1/p_k at k. Written directly in
		// logits to stay exact when p_k underflows.
		if c == 1 {
			target := float64(k)
			out[base] = T(p[1] - target)
		} else {
			for j := 0; j < c; j++ {
				v := p[j]
				if j == k {
					v--
				}
				out[base+j*stride] = T(v)
			}
		}
	case lossFocal:
		q := 1 - pt
		wq := math.Pow(q, op.gamma)
		if !grad {
			*total -= wq * logp
			return
		}
		// f = -(1-p_t)^gamma log p_t; df/dz_j = [gamma (1-p_t)^(gamma-1) p_t log p_t - (1-p_t)^gamma] (delta_tj - p_j).
		var a float64
		if op.gamma == 0 {
			a = -1
		} else {
			a = op.gamma*math.Pow(q, op.gamma-1)*pt*logp - wq
		}
		if c == 1 {
			// z is the foreground logit: d p_t/dz = +-p(1-p), giving (delta - p) with sign.
			sign := 1.0
			if k == 0 {
				sign = -1
			}
			out[base] = T(a * sign * (1 - pt))
		} else {
			for j := 0; j < c; j++ {
				d := -p[j]
				if j == k {
					d++
				}
				out[base+j*stride] = T(a * d)
			}
		}
	}
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}
