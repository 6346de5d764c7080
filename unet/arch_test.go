package unet

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
)

// archConfigs are the shapes of model the walks are checked on: every skip, norm and block,
// several depths, widths, inputs and classes.
func archConfigs() []Config {
	var cs []Config
	for _, skip := range []Skip{SkipConcat, SkipAdd, SkipNone} {
		for _, norm := range []Norm{NormBatch, NormGroup, NormNone} {
			for _, block := range []Block{"", BlockResidual} {
				cs = append(cs, Config{InChannels: 3, Classes: 4, Depth: 2, BaseChannels: 4, Skip: skip, Norm: norm, Up: UpTranspose, Block: block})
			}
		}
	}
	for _, norm := range []Norm{NormBatch, NormGroup, NormNone} {
		cs = append(cs, Config{InChannels: 3, Classes: 4, Depth: 2, BaseChannels: 4, Skip: SkipConcat, Norm: norm, Up: UpTranspose, Block: BlockDense, Growth: 2, DenseLayers: 2})
	}
	return append(cs, DefaultConfig(),
		Config{InChannels: 1, Classes: 1, Depth: 4, BaseChannels: 32, Skip: SkipConcat, Norm: NormBatch, Up: UpTranspose},
		Config{InChannels: 1, Classes: 1, Depth: 2, BaseChannels: 4, Skip: SkipAdd, Norm: NormBatch, Up: UpTranspose, Block: BlockDense, Growth: 1, DenseLayers: 3},
		Config{InChannels: 2, Classes: 3, Depth: 1, BaseChannels: 2, Skip: SkipNone, Norm: NormNone, Up: UpTranspose, Block: BlockDense, Growth: 5, DenseLayers: 1},
		Config{InChannels: 2, Classes: 1, Depth: 1, BaseChannels: 2, Skip: SkipAdd, Norm: NormNone, Up: UpTranspose, Block: BlockResidual})
}

// handCount counts a U-Net's tensors with the formulas of the weights format, written out
// here apart from the module tree: learned values, running statistics, tensors, and the
// multiply-adds of one h x w image (every convolution, the transposed ones and the
// residual projections included).
func handCount(c Config, h, w int) (weights, buffers, tensors int, macs int64) {
	ch := func(l int) int { return c.BaseChannels << l }
	conv := func(out, in, k, hh, ww int) {
		weights += out * in * k * k
		tensors++
		macs += int64(out * in * k * k * hh * ww)
	}
	normed := func(out int) { // what follows a convolution of out channels
		switch c.Norm {
		case NormNone:
			weights, tensors = weights+out, tensors+1 // the convolution's bias
		case NormGroup:
			weights, tensors = weights+2*out, tensors+2
		case NormBatch:
			weights, buffers, tensors = weights+2*out, buffers+2*out, tensors+4
		}
	}
	block := func(in, out, hh, ww int) {
		if c.Block == BlockDense {
			// L 3x3 convolutions, the k-th from in + (k-1)*g channels to g, g = Growth * 2^level
			// (out / base is 2^level); the 1x1 transition from in + L*g to out.
			g := c.Growth * out / c.BaseChannels
			for k := 1; k <= c.DenseLayers; k++ {
				conv(g, in+(k-1)*g, 3, hh, ww)
				normed(g)
			}
			conv(out, in+c.DenseLayers*g, 1, hh, ww)
			normed(out)
			return
		}
		for _, cin := range []int{in, out} {
			conv(out, cin, 3, hh, ww)
			normed(out)
		}
		if c.Block == BlockResidual && in != out {
			conv(out, in, 1, hh, ww)
			weights, tensors = weights+out, tensors+1
		}
	}
	for l := 0; l <= c.Depth; l++ {
		in := c.InChannels
		if l > 0 {
			in = ch(l - 1)
		}
		block(in, ch(l), h>>l, w>>l)
	}
	for l := 0; l < c.Depth; l++ {
		// The transposed convolution: every pixel of level l+1 meets a 2x2 kernel per pair of channels.
		conv(ch(l), ch(l+1), 2, h>>(l+1), w>>(l+1))
		weights, tensors = weights+ch(l), tensors+1
		in := ch(l)
		if c.Skip == SkipConcat {
			in *= 2
		}
		block(in, ch(l), h>>l, w>>l)
	}
	conv(c.Classes, ch(0), 1, h, w)
	weights, tensors = weights+c.Classes, tensors+1
	return
}

// TestParamsAndMACsByHand derives the tensor list and the multiply-adds from the module tree
// and checks them against handCount, and the counts of the PyTorch reference U-Net (conv
// bias off, depth 4, one channel in and out): 7,762,465 learned values at base 32 (the
// shared ISBI model's README) and so 1,942,289 at base 16.
func TestParamsAndMACsByHand(t *testing.T) {
	for _, c := range archConfigs() {
		const h, w = 48, 32
		var weights, buffers int
		seen := make(map[string]bool)
		for _, p := range c.Params() {
			if seen[p.Name] {
				t.Errorf("%s: tensor %s listed twice", c, p.Name)
			}
			seen[p.Name] = true
			if p.Kind == Weight {
				weights += p.Size()
			} else {
				buffers += p.Size()
			}
		}
		hw, hb, ht, hm := handCount(c, h, w)
		if weights != hw || buffers != hb || len(seen) != ht {
			t.Errorf("%s: %d learned values, %d statistics, %d tensors; by hand %d, %d, %d", c, weights, buffers, len(seen), hw, hb, ht)
		}
		if got := c.MACs(h, w); got != hm {
			t.Errorf("%s: %d multiply-adds, by hand %d", c, got, hm)
		}
	}
	for _, c := range []struct{ base, want int }{{32, 7762465}, {16, 1942289}} {
		cfg := DefaultConfig()
		cfg.BaseChannels = c.base
		m := &Model{Config: cfg}
		if got := m.NumWeights(); got != c.want {
			t.Errorf("base %d: %d learned values, PyTorch's reference U-Net has %d", c.base, got, c.want)
		}
	}
}

// TestInitialisation checks every tensor New makes against the rule the test gives it from
// the tensor's name and shape: ones for norm scales and running variances, zeros for
// biases, shifts and running means, and for every 4-D weight the very normals New's
// generator draws (in the order of the model file), scaled by sqrt(2/fan-in) with the
// fan-in in*k*k of a convolution and in of the 2x2 stride-2 transposed one.
func TestInitialisation(t *testing.T) {
	for _, c := range archConfigs() {
		m, err := New(c, 5)
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		rng := rand.New(rand.NewSource(5))
		for _, p := range c.Params() {
			got := m.Data(p.Name)
			want := make([]float32, len(got))
			switch {
			case len(p.Shape) == 4:
				fanIn := p.Shape[1] * p.Shape[2] * p.Shape[3]
				if strings.HasSuffix(p.Name, ".up.weight") {
					fanIn = p.Shape[0]
				}
				for i := range want {
					want[i] = float32(rng.NormFloat64() * math.Sqrt(2/float64(fanIn)))
				}
			case strings.HasSuffix(p.Name, ".running_var"),
				strings.Contains(p.Name, ".norm") && strings.HasSuffix(p.Name, ".weight"):
				for i := range want {
					want[i] = 1
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: %s starts at %v..., want %v...", c, p.Name, got[:min(3, len(got))], want[:min(3, len(want))])
			}
		}
	}
}

// TestEveryTensorHasARule: a layer that lists a tensor without an initialisation rule makes
// New fail, naming the tensor, instead of leaving it at zero.
func TestEveryTensorHasARule(t *testing.T) {
	for _, c := range archConfigs() {
		for _, p := range c.Params() {
			if p.Init == 0 || (p.Init == InitHe) != (p.FanIn > 0) {
				t.Errorf("%s: %s has rule %d, fan-in %d", c, p.Name, p.Init, p.FanIn)
			}
		}
	}
	c := DefaultConfig()
	ps := c.Params()
	if _, err := newModel(c, ps[:1], 1); err != nil {
		t.Fatal(err)
	}
	ps[0].Init = 0
	if _, err := newModel(c, ps[:1], 1); err == nil || !strings.Contains(err.Error(), ps[0].Name) {
		t.Errorf("a tensor without a rule: %v, want an error naming %s", err, ps[0].Name)
	}
}

// TestStepsWalk checks the forward walk an exporter follows: every tensor is written once
// before it is read, the diagram's names are there (x1..x{depth+1}, logits), the steps hold
// every tensor of Params exactly once, and each step's shape is the shape of the node the
// graph builder makes for it.
func TestStepsWalk(t *testing.T) {
	for _, c := range archConfigs() {
		a := c.Arch()
		steps := a.Steps()
		written := map[string]bool{InputName: true}
		var params []string
		for _, s := range steps {
			for _, in := range s.In {
				if !written[in] {
					t.Errorf("%s: %s reads %s before it is written", c, s.Layer.Name(), in)
				}
			}
			if written[s.Out] {
				t.Errorf("%s: %s written twice", c, s.Out)
			}
			written[s.Out] = true
			for _, p := range s.Layer.Params() {
				params = append(params, p.Name)
			}
		}
		for l := 1; l <= c.Depth+1; l++ {
			if !written[fmt.Sprintf("x%d", l)] {
				t.Errorf("%s: no skip x%d", c, l)
			}
		}
		if last := steps[len(steps)-1]; last.Out != OutputName || last.Layer != a.Outc {
			t.Errorf("%s: the walk ends with %s writing %s", c, last.Layer.Name(), last.Out)
		}
		var want []string
		for _, p := range c.Params() {
			want = append(want, p.Name)
		}
		if !slices.Equal(params, want) {
			t.Errorf("%s: the steps' tensors\n%v\nwant Params\n%v", c, params, want)
		}

		m, err := New(c, 1)
		if err != nil {
			t.Fatal(err)
		}
		const n, h, w = 2, 32, 48
		g := G.NewGraph()
		x := G.NewTensor(g, G.Float32, 4, G.WithShape(n, c.InChannels, h, w), G.WithName("x"))
		b := &builder{g: g, m: m, training: true, params: make(map[string]*G.Node)}
		vals := b.run(steps, map[string]*G.Node{InputName: x})
		if b.err != nil {
			t.Fatalf("%s: %v", c, b.err)
		}
		for _, s := range steps {
			if v := vals[s.Out]; v != nil && !slices.Equal([]int(v.Shape()), s.Shape(n, h, w)) {
				t.Errorf("%s: %s has shape %v in the graph, the step says %v", c, s.Out, v.Shape(), s.Shape(n, h, w))
			}
		}
		if v := vals[OutputName]; v == nil || !slices.Equal([]int(v.Shape()), []int{n, c.Classes, h, w}) {
			t.Errorf("%s: logits %v", c, v)
		}
	}
}

// TestFusedOps counts the ops of the graphs the walk builds: at inference every convolution
// of a batch-norm model's blocks is one ConvBNReLU (with its ReLU, except a residual
// block's second), and no batch norm or ReLU runs alone; while training, and with group
// norm always, the norm and the ReLU after it are one op.
func TestFusedOps(t *testing.T) {
	count := func(c Config, training bool) map[string]int {
		m, err := New(c, 1)
		if err != nil {
			t.Fatal(err)
		}
		net, err := newNet(m, 1, 16, 16, training, DefaultLoss(c.Classes).Func)
		if err != nil {
			t.Fatal(err)
		}
		defer net.Close()
		ops := make(map[string]int)
		for _, n := range net.graph.AllNodes() {
			if n.Op() != nil {
				s := fmt.Sprint(n.Op())
				name, _, _ := strings.Cut(s, "{")
				if strings.Contains(s, "relu=true") {
					name += "+relu"
				}
				ops[name]++
			}
		}
		return ops
	}
	const depth = 2
	blocks := 2*depth + 1
	c := Config{InChannels: 1, Classes: 1, Depth: depth, BaseChannels: 4, Skip: SkipConcat, Norm: NormBatch, Up: UpTranspose}
	ops := count(c, false)
	if ops["ConvBNReLU+relu"] != 2*blocks || ops["ConvBNReLU"] != 0 || ops["BatchNormInference"] != 0 || ops["ReLU"] != 0 {
		t.Errorf("batch norm at inference: %v, want %d ConvBNReLU and no separate norm or ReLU", ops, 2*blocks)
	}
	c.Block = BlockResidual
	ops = count(c, false)
	if ops["ConvBNReLU+relu"] != blocks || ops["ConvBNReLU"] != blocks || ops["ReLU"] != blocks {
		t.Errorf("residual batch norm at inference: %v, want %d ConvBNReLU with ReLU, %d without, %d ReLU after the sums", ops, blocks, blocks, blocks)
	}
	c.Block = BlockPlain
	ops = count(c, true)
	if ops["BatchNorm+relu"] != 2*blocks || ops["BatchNorm"] != 0 || ops["ReLU"] != 0 {
		t.Errorf("batch norm training: %v, want %d BatchNormReLU", ops, 2*blocks)
	}
	c.Norm = NormGroup
	for _, training := range []bool{false, true} {
		if ops = count(c, training); ops["GroupNorm+relu"] != 2*blocks || ops["GroupNorm"] != 0 || ops["ReLU"] != 0 {
			t.Errorf("group norm, training %v: %v, want %d GroupNormReLU", training, ops, 2*blocks)
		}
	}
}

// TestActivationBytesByHand follows a depth-1, base-2 U-Net over one 4x4 image (float32):
// the most held at once is while the skip join runs, holding the image (1 x 16 values),
// the skip x1 (2 x 16), the upsampled tensor (2 x 16) and the join's output (4 x 16):
// 9 x 16 x 4 = 576 bytes; three images take three times that.
func TestActivationBytesByHand(t *testing.T) {
	c := Config{InChannels: 1, Classes: 1, Depth: 1, BaseChannels: 2, Skip: SkipConcat, Norm: NormBatch, Up: UpTranspose}
	if got := c.Arch().ActivationBytes(1, 4, 4); got != 576 {
		t.Errorf("ActivationBytes = %d, want 576", got)
	}
	if got := c.Arch().ActivationBytes(3, 4, 4); got != 3*576 {
		t.Errorf("ActivationBytes of 3 images = %d, want %d", got, 3*576)
	}
	// Without the skip nothing waits for the decoder: the most is a full-size layer's input
	// and output beside the image, (1 + 2 + 2) x 16 x 4 = 320.
	c.Skip = SkipNone
	if got := c.Arch().ActivationBytes(1, 4, 4); got != 320 {
		t.Errorf("ActivationBytes without skips = %d, want 320", got)
	}
}

// TestActivationBytesMatchesPlan compares the walk's peak with what the inference graph's
// buffer plan actually places (the shared slots, the logits and the input): the slots keep
// the size of the largest output they held, which costs 1.2 to 1.7 times the walk's peak
// (1.2 at depth 4), and the fused ops hold less.
func TestActivationBytesMatchesPlan(t *testing.T) {
	for _, c := range archConfigs() {
		m, err := New(c, 1)
		if err != nil {
			t.Fatal(err)
		}
		const n, h, w = 1, 64, 96
		net, err := NewInferNet(m, n, h, w)
		if err != nil {
			t.Fatal(err)
		}
		net.Close()
		held := net.plan.Shared + 4*int64(n*(c.InChannels+c.Classes)*h*w)
		walk := c.Arch().ActivationBytes(n, h, w)
		r := float64(held) / float64(walk)
		t.Logf("%s: plan %d bytes, walk %d: %.2f", c, held, walk, r)
		if r < 1 || r > 1.8 {
			t.Errorf("%s: the graph holds %d bytes of outputs, %.2f times the walk's %d", c, held, r, walk)
		}
	}
}
