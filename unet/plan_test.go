package unet

import (
	"math"
	"math/rand"
	"testing"
)

// TestSharedBuffersChangeNothing runs two training steps and an inference pass of each
// kind of model with the outputs of its ops placed in shared slots and again with a buffer
// per op, and requires the same loss, logits, gradients and running statistics to the bit:
// a value overwritten while something still reads it would change them. It also requires
// the sharing to save memory, most of it at inference.
func TestSharedBuffersChangeNothing(t *testing.T) {
	defer func(s bool) { shareBuffers = s }(shareBuffers)
	for _, mod := range []struct {
		name string
		f    func(*Config)
	}{
		{"concat", func(*Config) {}},
		{"add-residual", func(c *Config) { c.Skip, c.Block = SkipAdd, BlockResidual }},
		{"none-nonorm", func(c *Config) { c.Skip, c.Norm = SkipNone, NormNone }},
		{"group-3class", func(c *Config) { c.Norm, c.Classes = NormGroup, 3 }},
	} {
		t.Run(mod.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.BaseChannels, cfg.Depth = 4, 3
			mod.f(&cfg)
			const n, h, w = 2, 24, 32
			rng := rand.New(rand.NewSource(1))
			x := make([]float32, n*cfg.InChannels*h*w)
			for i := range x {
				x[i] = rng.Float32()
			}
			target := make([]float32, cfg.TargetShape(n, h, w).TotalSize())
			for i := range target {
				target[i] = float32(rng.Intn(max(2, cfg.Classes)))
			}
			type result struct {
				losses []float64
				vals   map[string][]float32
				plan   bufferPlan
			}
			run := func(share bool) result {
				shareBuffers = share
				m, err := New(cfg, 7)
				if err != nil {
					t.Fatal(err)
				}
				net, err := NewTrainNet(m, n, h, w, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer net.Close()
				r := result{vals: make(map[string][]float32), plan: net.plan}
				for step := 0; step < 2; step++ {
					loss, err := net.Step(x, target)
					if err != nil {
						t.Fatal(err)
					}
					r.losses = append(r.losses, loss)
				}
				r.vals["logits"] = append([]float32(nil), net.Logits()...)
				for name := range net.grads {
					r.vals["grad "+name] = append([]float32(nil), net.Grad(name)...)
				}
				for name, tt := range m.Tensors {
					r.vals[name] = append([]float32(nil), tt.Data().([]float32)...)
				}
				inf, err := NewInferNet(m, n, h, w)
				if err != nil {
					t.Fatal(err)
				}
				defer inf.Close()
				if err := inf.Forward(x); err != nil {
					t.Fatal(err)
				}
				r.vals["inference logits"] = append([]float32(nil), inf.Logits()...)
				r.vals["inference plan"] = []float32{float32(inf.plan.Bytes), float32(inf.plan.Shared)}
				return r
			}
			own, shared := run(false), run(true)
			for i := range own.losses {
				if math.Float64bits(own.losses[i]) != math.Float64bits(shared.losses[i]) {
					t.Errorf("step %d: loss %v with shared buffers, %v without", i, shared.losses[i], own.losses[i])
				}
			}
			for name, want := range own.vals {
				if name == "inference plan" {
					continue
				}
				got := shared.vals[name]
				if len(got) != len(want) {
					t.Errorf("%s: %d values with shared buffers, %d without", name, len(got), len(want))
					continue
				}
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Errorf("%s[%d] = %v with shared buffers, %v without", name, i, got[i], want[i])
						break
					}
				}
			}
			p, ip := shared.plan, shared.vals["inference plan"]
			if p.Shared == 0 || float64(p.Shared) > 0.7*float64(p.Bytes) {
				t.Errorf("training: shared slots take %d of %d bytes, want under 70%%", p.Shared, p.Bytes)
			}
			if ip[1] == 0 || ip[1] > 0.5*ip[0] {
				t.Errorf("inference: shared slots take %v of %v bytes, want under half", ip[1], ip[0])
			}
		})
	}
}
