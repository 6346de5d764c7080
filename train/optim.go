package train

import (
	"fmt"
	"math"
	"sort"

	"github.com/segment-dev/segment/internal/parallel"
)

// Optimizer kinds.
const (
	Adam  = "adam"
	AdamW = "adamw"
	SGD   = "sgd"
)

// Optimizer updates weights from their gradients, in place, with PyTorch's formulas, and
// keeps its state (moments, momentum buffers, step count) so that a run can stop and resume
// exactly.
type Optimizer struct {
	Kind        string
	Beta1       float64 // Adam's first-moment decay, or SGD's momentum
	Beta2       float64 // Adam's second-moment decay
	Eps         float64
	WeightDecay float64 // L2 added to the gradient (Adam, SGD) or decoupled decay (AdamW)
	// Steps counts the updates made, which Adam's bias correction needs.
	Steps int
	// State holds, by parameter name, Adam's first and second moments ("name.m", "name.v")
	// or SGD's momentum buffer ("name.m").
	State map[string][]float32
}

// NewOptimizer makes an optimizer of the given kind with PyTorch's defaults: Adam(W) betas
// 0.9 and 0.999, eps 1e-8; SGD momentum 0.9.
func NewOptimizer(kind string, weightDecay float64) (*Optimizer, error) {
	o := &Optimizer{Kind: kind, WeightDecay: weightDecay, State: make(map[string][]float32)}
	switch kind {
	case Adam, AdamW:
		o.Beta1, o.Beta2, o.Eps = 0.9, 0.999, 1e-8
	case SGD:
		o.Beta1 = 0.9
	default:
		return nil, fmt.Errorf("unknown optimizer %q (want adam, adamw or sgd)", kind)
	}
	if weightDecay < 0 {
		return nil, fmt.Errorf("weight decay %g is negative", weightDecay)
	}
	return o, nil
}

// Param is one weight and its gradient.
type Param struct {
	Name string
	W, G []float32
}

// Step updates every parameter with learning rate lr.
func (o *Optimizer) Step(params []Param, lr float64) {
	o.Steps++
	t := float64(o.Steps)
	for _, p := range params {
		switch o.Kind {
		case Adam, AdamW:
			m, v := o.buf(p.Name+".m", len(p.W)), o.buf(p.Name+".v", len(p.W))
			b1, b2 := o.Beta1, o.Beta2
			c1, c2 := 1-math.Pow(b1, t), 1-math.Pow(b2, t)
			step := lr / c1
			sqrtC2 := math.Sqrt(c2)
			decay := 1.0
			if o.Kind == AdamW {
				decay = 1 - lr*o.WeightDecay
			}
			split(len(p.G), func(lo, hi int) {
				for i := lo; i < hi; i++ {
					g := float64(p.G[i])
					w := float64(p.W[i])
					if o.Kind == Adam && o.WeightDecay != 0 {
						g += o.WeightDecay * w
					}
					mi := b1*float64(m[i]) + (1-b1)*g
					vi := b2*float64(v[i]) + (1-b2)*g*g
					m[i], v[i] = float32(mi), float32(vi)
					w *= decay
					p.W[i] = float32(w - step*mi/(math.Sqrt(vi)/sqrtC2+o.Eps))
				}
			})
		case SGD:
			buf := o.buf(p.Name+".m", len(p.W))
			first := o.Steps == 1
			split(len(p.G), func(lo, hi int) {
				for i := lo; i < hi; i++ {
					g := float64(p.G[i]) + o.WeightDecay*float64(p.W[i])
					b := g
					if !first {
						b = o.Beta1*float64(buf[i]) + g
					}
					buf[i] = float32(b)
					p.W[i] = float32(float64(p.W[i]) - lr*b)
				}
			})
		}
	}
}

// split runs f over [0, n) in one contiguous range per core. Every element's update is
// independent of the others, so the result is the same bit for bit on any number of cores;
// small tensors stay on the caller, where a goroutine would cost more than it saves.
func split(n int, f func(lo, hi int)) {
	if n < 1<<15 {
		f(0, n)
		return
	}
	parallel.Range(n, parallel.Workers(), f)
}

func (o *Optimizer) buf(name string, n int) []float32 {
	b, ok := o.State[name]
	if !ok || len(b) != n {
		b = make([]float32, n)
		o.State[name] = b
	}
	return b
}

// StateNames lists the state buffers in sorted order.
func (o *Optimizer) StateNames() []string {
	names := make([]string, 0, len(o.State))
	for k := range o.State {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
