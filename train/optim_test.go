package train

import (
	"math"
	"runtime"
	"slices"
	"testing"
)

// TestOptimizersByHand checks two steps of each optimizer against values worked out by hand
// from PyTorch's update rules, for one weight w = 1 with gradients 0.5 then -0.25.
func TestOptimizersByHand(t *testing.T) {
	sqrt := math.Sqrt
	// Adam, lr 0.1: step 1: m = 0.05, v = 0.00025, mhat = 0.5, vhat = 0.25: w -= 0.1*0.5/(0.5+1e-8).
	adam1 := 1 - 0.1*0.5/(0.5+1e-8)
	// step 2: m = 0.9*0.05 - 0.025 = 0.02, v = 0.999*0.00025 + 0.001*0.0625,
	// mhat = 0.02/0.19, vhat = v/(1-0.999^2).
	m2, v2 := 0.02, 0.999*0.00025+0.001*0.0625
	adam2 := adam1 - 0.1*(m2/0.19)/(sqrt(v2/(1-0.999*0.999))+1e-8)
	// AdamW, decay 0.1: the weight shrinks by (1 - lr*decay) before each Adam update.
	adamw1 := 1*(1-0.01) - 0.1*0.5/(0.5+1e-8)
	adamw2 := adamw1*(1-0.01) - 0.1*(m2/0.19)/(sqrt(v2/(1-0.999*0.999))+1e-8)
	// SGD momentum 0.9, lr 0.1: buf = 0.5, w = 0.95; buf = 0.45 - 0.25 = 0.2, w = 0.93.
	cases := []struct {
		kind   string
		decay  float64
		w1, w2 float64
	}{
		{Adam, 0, adam1, adam2},
		{AdamW, 0.1, adamw1, adamw2},
		{SGD, 0, 0.95, 0.93},
		// SGD with L2 0.1: g1 = 0.5 + 0.1 = 0.6, w = 0.94; g2 = -0.25 + 0.094, buf = 0.54 - 0.156.
		{SGD, 0.1, 0.94, 0.94 - 0.1*(0.9*0.6+(-0.25+0.1*0.94))},
	}
	for _, c := range cases {
		o, err := NewOptimizer(c.kind, c.decay)
		if err != nil {
			t.Fatal(err)
		}
		w := []float32{1}
		o.Step([]Param{{"w", w, []float32{0.5}}}, 0.1)
		if math.Abs(float64(w[0])-c.w1) > 1e-6 {
			t.Errorf("%s decay %g: after step 1 w = %.7f, want %.7f", c.kind, c.decay, w[0], c.w1)
		}
		o.Step([]Param{{"w", w, []float32{-0.25}}}, 0.1)
		if math.Abs(float64(w[0])-c.w2) > 1e-6 {
			t.Errorf("%s decay %g: after step 2 w = %.7f, want %.7f", c.kind, c.decay, w[0], c.w2)
		}
	}
	if _, err := NewOptimizer("rmsprop", 0); err == nil {
		t.Error("an unknown optimizer was accepted")
	}
}

// TestStepSplitIsExact requires the update of a tensor big enough to be split over the
// cores to equal, bit for bit, the update on one core, for every optimiser over a few steps.
// Both are also checked against the float64 references written from PyTorch's algorithms
// (refAdam, as TestAdamDecay uses, and plain SGD with momentum), so that the two sides of
// the comparison cannot share a bug. Bound: each of the three steps rounds w (about 1) to
// float32, half an ulp of 1 (6e-8), and stores the moments in float32, a relative 6e-8 of a
// step of about lr = 0.01; 5e-7 covers the sum with room.
func TestStepSplitIsExact(t *testing.T) {
	const n = 1<<16 + 3
	for _, kind := range []string{Adam, AdamW, SGD} {
		run := func(procs int) []float32 {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			o, err := NewOptimizer(kind, 0.01)
			if err != nil {
				t.Fatal(err)
			}
			w, g := make([]float32, n), make([]float32, n)
			for step := 0; step < 3; step++ {
				for i := range g {
					g[i] = float32(math.Sin(float64(i*(step+1)))) * 0.1
					if step == 0 {
						w[i] = float32(math.Cos(float64(i)))
					}
				}
				o.Step([]Param{{Name: "w", W: w, G: g}}, 0.01)
			}
			return w
		}
		one, two := run(1), run(2)
		for i := range one {
			if math.Float32bits(one[i]) != math.Float32bits(two[i]) {
				t.Fatalf("%s: w[%d] = %v on two cores, %v on one", kind, i, two[i], one[i])
			}
		}
		w0 := make([]float64, n)
		grads := make([][]float64, 3)
		for step := range grads {
			grads[step] = make([]float64, n)
			for i := range w0 {
				w0[i] = float64(float32(math.Cos(float64(i))))
				grads[step][i] = float64(float32(math.Sin(float64(i*(step+1)))) * 0.1)
			}
		}
		var ref []float64
		if kind == SGD {
			ref = refSGD(0.01, 0.01, w0, grads)
		} else {
			ref = refAdam(kind, 0.01, 0.01, w0, grads)
		}
		for i := range one {
			if d := math.Abs(float64(one[i]) - ref[i]); d > 5e-7 {
				t.Fatalf("%s: w[%d] = %v, the float64 reference %v (off by %g)", kind, i, one[i], ref[i], d)
			}
		}
	}
}

// refAdam is PyTorch's Adam and AdamW (torch.optim.Adam / AdamW, amsgrad off) in float64,
// written from their documented algorithms: Adam adds the L2 term decay*w to the gradient;
// AdamW multiplies w by 1 - lr*decay before the update.
func refAdam(kind string, decay, lr float64, w []float64, grads [][]float64) []float64 {
	const b1, b2, eps = 0.9, 0.999, 1e-8
	m, v := make([]float64, len(w)), make([]float64, len(w))
	for t, g := range grads {
		step := float64(t + 1)
		for i := range w {
			gi := g[i]
			if kind == Adam {
				gi += decay * w[i]
			} else {
				w[i] *= 1 - lr*decay
			}
			m[i] = b1*m[i] + (1-b1)*gi
			v[i] = b2*v[i] + (1-b2)*gi*gi
			mhat := m[i] / (1 - math.Pow(b1, step))
			vhat := v[i] / (1 - math.Pow(b2, step))
			w[i] -= lr * mhat / (math.Sqrt(vhat) + eps)
		}
	}
	return w
}

// TestAdamDecay runs Adam and AdamW with and without weight decay for six steps on weights
// and gradients of mixed signs and sizes, against the float64 reference above. The
// tolerance allows for the optimizer keeping weights and moments in float32: a relative
// rounding of 6e-8 per stored value and step, on weights of size about 2, over six steps,
// stays far below 1e-5, while dropping a decay term moves the weights by about lr*0.1 per
// step.
func TestAdamDecay(t *testing.T) {
	w0 := []float64{1, -2, 0.5, 0.01, -0.3}
	grads := [][]float64{
		{0.5, -0.1, 0.02, 1, -0.7},
		{-0.25, 0.3, 0.02, -1, 0.1},
		{0.1, 0.1, -0.05, 0.5, 0.2},
		{0.4, -0.2, 0.01, 0, -0.1},
		{-0.3, 0.05, 0.03, 0.2, 0.3},
		{0.2, -0.4, -0.02, -0.6, 0},
	}
	const lr = 0.01
	for _, kind := range []string{Adam, AdamW} {
		for _, decay := range []float64{0, 0.1, 0.5} {
			want := refAdam(kind, decay, lr, append([]float64(nil), w0...), grads)
			o, err := NewOptimizer(kind, decay)
			if err != nil {
				t.Fatal(err)
			}
			w := make([]float32, len(w0))
			for i, v := range w0 {
				w[i] = float32(v)
			}
			for _, g := range grads {
				g32 := make([]float32, len(g))
				for i, v := range g {
					g32[i] = float32(v)
				}
				o.Step([]Param{{"w", w, g32}}, lr)
			}
			for i := range w {
				if d := math.Abs(float64(w[i]) - want[i]); d > 1e-5 {
					t.Errorf("%s decay %g: w[%d] = %.8f after 6 steps, PyTorch's rule gives %.8f", kind, decay, i, w[i], want[i])
				}
			}
		}
	}
}

// refSGD is PyTorch's SGD with momentum 0.9 (torch.optim.SGD, no dampening, not Nesterov)
// in float64, written from its documented algorithm: g += decay*w; the buffer is g at the
// first step and 0.9*buffer + g after; w -= lr*buffer.
func refSGD(decay, lr float64, w []float64, grads [][]float64) []float64 {
	w = slices.Clone(w)
	buf := make([]float64, len(w))
	for t, g := range grads {
		for i := range w {
			gi := g[i] + decay*w[i]
			if t == 0 {
				buf[i] = gi
			} else {
				buf[i] = 0.9*buf[i] + gi
			}
			w[i] -= lr * buf[i]
		}
	}
	return w
}
